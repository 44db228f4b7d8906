/**
 * How long S3 takes to restore an archived object, per storage class and restore tier
 * (docs/s3.md, "Restore workflow"). Facts from the AWS S3 User Guide, "Understanding archive
 * retrieval options" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/restoring-objects-retrieval-options.html):
 * - S3 Glacier Flexible Retrieval (`GLACIER`): Expedited 1-5 minutes, Standard 3-5 hours,
 *   Bulk 5-12 hours.
 * - S3 Glacier Deep Archive (`DEEP_ARCHIVE`): Standard within 12 hours, Bulk within 48 hours;
 *   Expedited is not offered.
 * The cost model (prices per tier) builds on this table.
 *
 * @module
 */

import { type RestoreTier, restoreTiers, type StorageClass } from "../storage/storage.ts";

/** A time range in hours. */
export interface HoursRange {
  min: number;
  max: number;
}

/** The restore tiers of each archive class, fastest first, with their time ranges. */
export const restoreTimes: Partial<Record<StorageClass, Partial<Record<RestoreTier, HoursRange>>>> =
  {
    GLACIER: {
      expedited: { min: 1 / 60, max: 5 / 60 },
      standard: { min: 3, max: 5 },
      bulk: { min: 5, max: 12 },
    },
    DEEP_ARCHIVE: {
      standard: { min: 0, max: 12 },
      bulk: { min: 0, max: 48 },
    },
  };

export { restoreTiers };

/** The tiers `storageClass` offers (none for classes that are never archived). */
export function tiersOf(storageClass: StorageClass): RestoreTier[] {
  const times = restoreTimes[storageClass] ?? {};
  return restoreTiers.filter((t) => times[t] !== undefined);
}

/** "within 12 hours", "3-5 hours", "1-5 minutes". */
export function describeHours(h: HoursRange): string {
  const unit = (x: number) => h.max < 1 ? `${Math.round(x * 60)}` : `${x}`;
  const label = h.max < 1 ? "minutes" : "hours";
  return h.min === 0 ? `within ${unit(h.max)} ${label}` : `${unit(h.min)}-${unit(h.max)} ${label}`;
}
