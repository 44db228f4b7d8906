/**
 * The value types of the storage contract (`host/storage/storage.ts`), shared by the host and
 * the storage plugins: byte ranges, listings, availability of archived objects, storage
 * classes, restore tiers and strays. Types and constants only.
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

/** Restore speed tiers, slowest (cheapest) first. `expedited` is not offered for DEEP_ARCHIVE. */
export const restoreTiers = ["bulk", "standard", "expedited"] as const;
export type RestoreTier = typeof restoreTiers[number];

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
  /** The label given at `create`, where the back end keeps it (see {@link CreateOptions}). */
  label?: string;
}

/**
 * What a label may be: 1 to 32 ASCII letters, digits, `.`, `_` or `-` (S3 user metadata, a
 * file name, a SQLite text column all hold that unchanged).
 */
export const labelPattern: RegExp = /^[A-Za-z0-9._-]{1,32}$/;

/** Options of `create`. */
export interface CreateOptions {
  /** Defaults to `STANDARD`. The host picks it from the tier predicate (`tierOf`, docs/format.md §2). */
  storageClass?: StorageClass;
  /**
   * A short opaque tag ({@link labelPattern}) that `stat` returns without reading the object,
   * even while it is archived (the host tags packs `"meta"` or `"data"`, docs/format.md §2).
   * It is fixed by the create that made the object: a repeated create of the same bytes
   * resolves without changing it. A back end MUST keep it for objects created in an archive
   * class (S3 keeps it as user metadata), and MAY drop it for objects that are always readable,
   * whose own bytes can be read instead. A label that does not match rejects with `TypeError`.
   */
  label?: string;
}

/**
 * What an interrupted write left in a store that is not an object (`strays`): a local store's
 * temporary file, an S3 multipart upload that was never completed. Never read; it only costs
 * space, and money, until it is removed (`removeStray`).
 */
export interface Stray {
  /**
   * The back end's name for it, for `removeStray` and for people: e.g. `tmp/<random>` (local),
   * `packs/<id>?uploadId=<id>` (S3). Not an object name.
   */
  name: string;
  /** Bytes it holds (S3: of the parts uploaded so far). */
  size: number;
  /** When the write began or last wrote to it (ISO 8601, the store's clock), where known. */
  modified?: string;
}

/** Options of `requestRestore`. */
export interface RestoreOptions {
  tier: RestoreTier;
  /** How many days the temporary copy stays readable. */
  days: number;
  /** One version of the object (stores that keep versions); absent: the current one. */
  version?: string;
}

/**
 * Whether a store keeps every version of an object written under one name (S3 bucket
 * versioning): `enabled`, `suspended` (a write replaces the null version: not safe to mirror
 * to), or `off` (never enabled, and every store without versions).
 */
export type Versioning = "enabled" | "suspended" | "off";

/** One version of an object (`listVersions`). */
export interface VersionInfo extends ObjectInfo {
  version: string;
  /** Whether it is the object's current version. */
  latest: boolean;
}
