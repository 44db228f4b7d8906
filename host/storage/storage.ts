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

/** One listed object. */
export interface ObjectInfo {
  name: string;
  size: number;
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
 * - `stat` resolves `null` for a missing object.
 * - `delete` removes an object; deleting a missing object resolves. Only the admin role has it.
 * - `TransientError` may be retried by the caller; every other error is permanent.
 */
export interface Storage {
  create(name: string, data: Uint8Array): Promise<void>;
  read(name: string, range?: ByteRange): Promise<Uint8Array>;
  stat(name: string): Promise<ObjectInfo | null>;
  list(prefix: string): Promise<ObjectInfo[]>;
  delete(name: string): Promise<void>;
  /** Releases the back end (terminates its worker). Idempotent. */
  close(): Promise<void>;
}

/** The storage methods each role may call (DESIGN §3); the host grants exactly these. */
export const storageMethodsByRole = {
  ingest: ["create", "list", "stat", "readHot"],
  reader: ["create", "list", "stat", "readHot", "read"],
  admin: ["create", "list", "stat", "readHot", "read", "delete"],
} as const;

export type Role = keyof typeof storageMethodsByRole;
