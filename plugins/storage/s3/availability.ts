/**
 * Whether an S3 object can be read now, from its storage class and its `x-amz-restore` header
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html#AmazonS3-HeadObject-response-header-Restore).
 * Pure functions, no I/O.
 *
 * @module
 */

import { type Availability, type StorageClass, storageClasses } from "../../sdk/storage.ts";

export type { Availability };

/** Classes whose objects refuse GET until restored (S3 answers `InvalidObjectState`). */
const ARCHIVE = new Set(["GLACIER", "DEEP_ARCHIVE"]);

/**
 * The class S3 reported, as the contract names it: absent means `STANDARD` (S3 omits the
 * header and the listing field for it); a class the contract does not know is `undefined`.
 */
export function classOf(reported: string | undefined): StorageClass | undefined {
  const c = reported ?? "STANDARD";
  return (storageClasses as readonly string[]).includes(c) ? c as StorageClass : undefined;
}

/**
 * Availability from the reported class and `x-amz-restore`:
 * `ongoing-request="true"` is `restoring`; `ongoing-request="false", expiry-date="…"` is
 * `restored` until that date (as ISO 8601); an archive class without the header is
 * `archived`; anything else is `readable`.
 */
export function availabilityOf(
  storageClass: string | undefined,
  restore: string | undefined,
): Availability {
  if (restore !== undefined && restore !== "") {
    if (/ongoing-request\s*=\s*"true"/i.test(restore)) return { state: "restoring" };
    const expiry = /expiry-date\s*=\s*"([^"]+)"/i.exec(restore)?.[1];
    const until = expiry === undefined ? NaN : Date.parse(expiry);
    if (/ongoing-request\s*=\s*"false"/i.test(restore) && !Number.isNaN(until)) {
      return { state: "restored", until: new Date(until).toISOString() };
    }
  }
  return ARCHIVE.has(storageClass ?? "STANDARD") ? { state: "archived" } : { state: "readable" };
}
