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
} from "../../plugins/sdk/storage_types.ts";
import type {
  ByteRange,
  CreateOptions,
  ObjectInfo,
  ObjectStat,
  RestoreOptions,
  Stray,
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
 * - `strays` lists what interrupted writes left behind that is not an object (a temporary file,
 *   an incomplete multipart upload: `Stray`), in no promised order; never an object, never a
 *   write that completed. A stray may belong to a write still under way in another process: a
 *   caller removes only strays older than a grace period (docs/gc.md "Purge"); a back end that
 *   can tell a write under way apart (the local folder) lists none and removes none of those.
 *   A back end whose writes leave nothing behind (transactions) returns none.
 * - `removeStray` removes one by the name `strays` gave; removing one that is gone resolves, and
 *   a name that is not a stray's rejects with `TypeError` (it never removes an object). Only the
 *   admin role has it.
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
  /** Releases the back end (terminates its worker). Idempotent. */
  close(): Promise<void>;
}

/** The storage methods each role may call (docs/plugins.md §5.1); the host grants exactly these. */
export const storageMethodsByRole = {
  ingest: ["create", "list", "stat", "readHot"],
  reader: ["create", "list", "stat", "readHot", "read", "requestRestore", "strays"],
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
  ],
} as const;

export type Role = keyof typeof storageMethodsByRole;
