/**
 * The storage contract every back end (plugin `storage/*`) implements, and every wrapper keeps.
 *
 * Object names are `/`-separated relative paths chosen only by `host/repository/layout.ts`
 * (e.g. `config`, `keys/<id>`, `index/<id>`, `snapshots/<id>`, `packs/<id>`, `meta/<id>`).
 * A back end never interprets names beyond mapping them to its own keys.
 *
 * @module
 */

// The value types of the contract live in the plugin SDK, which back ends (plugins) import;
// the host uses the same definitions through these re-exports.
export {
  archiveClasses,
  type Availability,
  type ByteRange,
  type CreateOptions,
  labelPattern,
  type ObjectInfo,
  type ObjectStat,
  type RestoreOptions,
  type RestoreTier,
  restoreTiers,
  type StorageClass,
  storageClasses,
  type Stray,
  type VersionInfo,
  type Versioning,
} from "../../plugins/sdk/storage_types.ts";
import type {
  ByteRange,
  CreateOptions,
  ObjectInfo,
  ObjectStat,
  RestoreOptions,
  StorageClass,
  Stray,
  VersionInfo,
  Versioning,
} from "../../plugins/sdk/storage_types.ts";

/**
 * What a store declares about itself (a property record, never probed): whether it keeps
 * storage classes and archive states, and which AWS region bills it. Pricing reads this
 * (host/workflows/pricing.ts). Each location scheme declares it (`schemes.ts`).
 */
export interface StoreProperties {
  /**
   * The store reports storage classes and archive states as S3 does (S3; a local folder with
   * `?cold=simulate`), so reads are priced as it reports them.
   */
  coldStates: boolean;
  /** The AWS region whose bill it is on; absent when nothing is billed (a folder, SQLite). */
  billedRegion?: string;
  /**
   * The store can keep versions of an object (S3): `versioning` may answer other than `off`,
   * and the version words work. Without it they reject with `TypeError` (the mirror's objects
   * are then written create-only, docs/engines.md `sync`).
   */
  versions?: boolean;
  /**
   * The store takes an object in pieces (`startUpload` and the words after it: S3, a local
   * folder): the host mirrors a file of any size, and stores a spooled data pack, without
   * holding it. Elsewhere those words reject with
   * `TypeError`, and a mirrored file goes whole through `create` (docs/engines.md `sync`).
   */
  pieces?: boolean;
}

/** What `startUpload` is told about the object to come. */
export interface UploadStart {
  /** Its size in bytes: exactly that many must be written. */
  size: number;
  /** Its SHA-256 (hex), as the host hashed it: the bytes written must have it. */
  sha256: string;
  storageClass?: StorageClass;
  label?: string;
  /** Written as a new version of the key (as `putVersion`) instead of create-only. */
  version?: boolean;
}

/** The properties of a store that declares none: no classes, no states, no bill. */
export const plainStore: StoreProperties = { coldStates: false };

/**
 * A repository's object store.
 *
 * Contracts:
 * - `create` is create-only and atomic: readers see either no object or the whole object.
 *   When it resolves, the object is durable (fsync'd / acknowledged by the server). If an
 *   object of that name already exists with identical bytes, `create` resolves (so a retried
 *   or rerun write is idempotent); with different bytes it rejects with `ObjectExists` and the
 *   existing object is untouched. It never replaces an object. `create` takes ownership of
 *   `data` (plugin back ends transfer its buffer to their worker): callers must not use `data`
 *   afterwards, and pass a copy when they need the bytes again.
 * - `read` rejects with `ObjectNotFound` for a missing object and with `NeedsRestore` for an
 *   archived one. A range past the end rejects with `RangeError`.
 * - `list` yields every object whose name starts with `prefix`, in no promised order.
 * - `stat` resolves `null` for a missing object; otherwise its size, and its availability
 *   (always `readable` on back ends without archive tiers), and the `label` its create gave,
 *   where the back end keeps it: always for objects created in an archive class (so a caller
 *   can tell archived objects apart without a restore), possibly not for always-readable ones
 *   (`CreateOptions.label`).
 * - `requestRestore` asks for a temporary readable copy of an archived object. It resolves
 *   once the store accepted the request, when a restore is already in progress (a faster
 *   `tier` than the running one is an upgrade the store may honour), and when the object is
 *   not archived (nothing to do). A missing object rejects with `ObjectNotFound`.
 * - `delete` removes an object; deleting a missing object resolves. Only the admin role has it.
 *   On a store that keeps versions (a versioned bucket) it removes every version and delete
 *   marker of the name, so the space is freed, except for a mirror's object (`mirror/...`),
 *   whose versions only `deleteVersion` removes.
 * - `strays` lists what interrupted writes left behind that is not an object (a temporary file,
 *   an incomplete multipart upload: `Stray`), in no promised order; never an object, never a
 *   write that completed. A stray may belong to a write still under way in another process: a
 *   caller removes only strays older than a grace period (docs/gc.md "Purge"); a back end that
 *   can tell a write under way apart (the local folder) lists none and removes none of those.
 *   A back end whose writes leave nothing behind (transactions) returns none.
 * - `removeStray` removes one by the name `strays` gave; removing one that is gone resolves, and
 *   a name that is not a stray's rejects with `TypeError` (it never removes an object). Only the
 *   admin role has it.
 * - Versions (only where `properties.versions`; elsewhere each rejects with `TypeError`, and
 *   `versioning` resolves `off`). They exist for the mirror of the `sync` engine, whose objects
 *   (`mirror/...`, docs/format.md §2) are the only ones written by `putVersion`:
 *   - `versioning` says whether the store keeps versions now (S3 `GetBucketVersioning`).
 *   - `putVersion` writes a new version of `name`, never replacing an older one on a store whose
 *     versioning is `enabled` (a caller checks that first), and resolves to its version id once
 *     it is durable. Same ownership of `data` as `create`.
 *   - `readVersion`, `statVersion`: `read` and `stat` of one version (`ObjectNotFound`, `null`
 *     for a version that does not exist).
 *   - `listVersions` yields every version of every object under `prefix`, in no promised order.
 *   - `deleteVersion` removes one version for good (admin only); a missing one resolves.
 * - Uploads in pieces (only where `properties.pieces`; elsewhere each rejects with `TypeError`):
 *   `startUpload(name, { size, sha256, storageClass?, label?, version? })` opens one and
 *   resolves to its id; `writeUpload(id, data)` adds the next bytes (moved, as `create`'s) and
 *   resolves when the store can take more, so a caller holds one piece at a time;
 *   `finishUpload(id)` stores the object once all `size` bytes with that `sha256` arrived (else
 *   `TypeError`, nothing stored) with `create`'s contract (identical bytes there resolve, other
 *   bytes `ObjectExists`), or as `putVersion` when `version` (resolving `{ version }`);
 *   `abortUpload(id)` abandons it, storing nothing (an unknown id resolves). An upload left
 *   open by a crash is at most a stray.
 * - `TransientError` may be retried by the caller; every other error is permanent.
 */
export interface Storage {
  /** What the store declares about itself; absent means {@link plainStore}. */
  readonly properties?: StoreProperties;
  create(name: string, data: Uint8Array, options?: CreateOptions): Promise<void>;
  read(name: string, range?: ByteRange): Promise<Uint8Array>;
  stat(name: string): Promise<ObjectStat | null>;
  list(prefix: string): Promise<ObjectInfo[]>;
  requestRestore(name: string, options: RestoreOptions): Promise<void>;
  delete(name: string): Promise<void>;
  strays(): Promise<Stray[]>;
  removeStray(name: string): Promise<void>;
  versioning(): Promise<Versioning>;
  putVersion(name: string, data: Uint8Array, options?: CreateOptions): Promise<string>;
  readVersion(name: string, version: string, range?: ByteRange): Promise<Uint8Array>;
  statVersion(name: string, version: string): Promise<ObjectStat | null>;
  listVersions(prefix: string): Promise<VersionInfo[]>;
  deleteVersion(name: string, version: string): Promise<void>;
  /** Uploads in pieces: present where `properties.pieces` (see the contract above). */
  startUpload?(name: string, start: UploadStart): Promise<string>;
  writeUpload?(upload: string, data: Uint8Array): Promise<void>;
  finishUpload?(upload: string): Promise<{ version?: string }>;
  abortUpload?(upload: string): Promise<void>;
  /** Releases the back end (terminates its worker). Idempotent. */
  close(): Promise<void>;
}

/** The words of an upload in pieces: every role has them (create-only unless a mirror's version). */
const pieceWords = ["startUpload", "writeUpload", "finishUpload", "abortUpload"] as const;

/** The storage methods each role may call (docs/plugins.md §5.1); the host grants exactly these. */
export const storageMethodsByRole = {
  ingest: [
    "create",
    "list",
    "stat",
    "readHot",
    "versioning",
    "putVersion",
    "listVersions",
    ...pieceWords,
  ],
  reader: [
    "create",
    "list",
    "stat",
    "readHot",
    "read",
    "requestRestore",
    "strays",
    "versioning",
    "putVersion",
    "listVersions",
    "readVersion",
    "statVersion",
    ...pieceWords,
  ],
  admin: [
    "create",
    "list",
    "stat",
    "readHot",
    "read",
    "requestRestore",
    "strays",
    "delete",
    "removeStray",
    "versioning",
    "putVersion",
    "listVersions",
    "readVersion",
    "statVersion",
    "deleteVersion",
    ...pieceWords,
  ],
} as const;

export type Role = keyof typeof storageMethodsByRole;
