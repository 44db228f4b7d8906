/**
 * The storage contract every back end (plugin `storage/*`) implements, and every wrapper keeps.
 *
 * Object names are `/`-separated relative paths chosen only by `host/repository/layout.ts`
 * (e.g. `config`, `keys/<id>`, `index/<id>`, `snapshots/<id>`, `packs/<id>`, `meta/<id>`).
 * A back end never interprets names beyond mapping them to its own keys.
 *
 * @module
 */

/** A byte range of an object: `length` bytes starting at `offset`. */
export interface ByteRange {
  offset: number;
  length: number;
}

/**
 * S3 storage classes a repository's objects may be written in (docs/s3.md). Back ends without
 * classes accept and ignore them; the local back end's "simulate cold" mode treats the archive
 * classes like S3 does.
 */
export const storageClasses = [
  "STANDARD",
  "STANDARD_IA",
  "GLACIER_IR",
  "GLACIER",
  "DEEP_ARCHIVE",
] as const;
export type StorageClass = typeof storageClasses[number];

/** Classes whose objects must be restored (`requestRestore`) before they can be read. */
export const archiveClasses: ReadonlySet<StorageClass> = new Set(["GLACIER", "DEEP_ARCHIVE"]);

/** Restore speed tiers, fastest last. `expedited` is not offered for DEEP_ARCHIVE. */
export type RestoreTier = "bulk" | "standard" | "expedited";

/** One listed object. `modified` and `storageClass` are given where the back end knows them. */
export interface ObjectInfo {
  name: string;
  size: number;
  /** When the store received the object (ISO 8601, the store's own clock). */
  modified?: string;
  storageClass?: StorageClass;
}

/**
 * Whether an object can be read now. `readable`: yes (hot, or not archived). `archived`:
 * needs `requestRestore`. `restoring`: requested, not yet readable. `restored`: a temporary
 * copy is readable until `until` (ISO 8601).
 */
export type Availability =
  | { state: "readable" }
  | { state: "archived" }
  | { state: "restoring" }
  | { state: "restored"; until: string };

/** `stat`'s answer: the listing facts plus availability. */
export interface ObjectStat extends ObjectInfo {
  availability: Availability;
}

/** Options of `create`. */
export interface CreateOptions {
  /** Defaults to `STANDARD`. The host picks it from the tier predicate (`classOf`). */
  storageClass?: StorageClass;
}

/** Options of `requestRestore`. */
export interface RestoreOptions {
  tier: RestoreTier;
  /** How many days the temporary copy stays readable. */
  days: number;
}

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
 *   (always `readable` on back ends without archive tiers).
 * - `requestRestore` asks for a temporary readable copy of an archived object. It resolves
 *   once the store accepted the request, when a restore is already in progress (a faster
 *   `tier` than the running one is an upgrade the store may honour), and when the object is
 *   not archived (nothing to do). A missing object rejects with `ObjectNotFound`.
 * - `delete` removes an object; deleting a missing object resolves. Only the admin role has it.
 * - `TransientError` may be retried by the caller; every other error is permanent.
 */
export interface Storage {
  create(name: string, data: Uint8Array, options?: CreateOptions): Promise<void>;
  read(name: string, range?: ByteRange): Promise<Uint8Array>;
  stat(name: string): Promise<ObjectStat | null>;
  list(prefix: string): Promise<ObjectInfo[]>;
  requestRestore(name: string, options: RestoreOptions): Promise<void>;
  delete(name: string): Promise<void>;
  /** Releases the back end (terminates its worker). Idempotent. */
  close(): Promise<void>;
}

/** The storage methods each role may call (DESIGN §3); the host grants exactly these. */
export const storageMethodsByRole = {
  ingest: ["create", "list", "stat", "readHot"],
  reader: ["create", "list", "stat", "readHot", "read", "requestRestore"],
  admin: ["create", "list", "stat", "readHot", "read", "requestRestore", "delete"],
} as const;

export type Role = keyof typeof storageMethodsByRole;
