/**
 * The value types of the storage contract (`host/storage/storage.ts`), shared by the host and
 * the storage plugins: byte ranges, listings, availability of archived objects, storage
 * classes and restore tiers. Types and constants only.
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
}

/** Options of `create`. */
export interface CreateOptions {
  /** Defaults to `STANDARD`. The host picks it from the tier predicate (`tierOf`, docs/format.md §2). */
  storageClass?: StorageClass;
}

/** Options of `requestRestore`. */
export interface RestoreOptions {
  tier: RestoreTier;
  /** How many days the temporary copy stays readable. */
  days: number;
}
