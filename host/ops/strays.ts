/**
 * Strays (the Storage contract's `strays`, host/storage/storage.ts): what interrupted writes
 * left in the store that is not an object, such as a killed backup's partial pack in a local
 * repository's `tmp/` or an S3 multipart upload never completed. Nothing reads them, but they
 * take space, and on S3 cost money, until removed. `check` reports them (`strayReport`);
 * `gc purge` removes those older than its grace period (a younger one may belong to a write
 * still under way, docs/gc.md "Purge").
 *
 * @module
 */

import { CapabilityRefused } from "../../plugins/sdk/errors.ts";
import type { Storage, Stray } from "../storage/storage.ts";

/** What `check` says about strays. */
export interface StrayReport {
  count: number;
  bytes: number;
  /** The oldest one's time (ISO 8601), when the store gives times. */
  oldest?: string;
  /** Why they could not be listed (credentials without the permission), else absent. */
  refused?: string;
}

/**
 * The store's strays; when the credentials may not list them (S3 without
 * `s3:ListBucketMultipartUploads`), none, with the refusal.
 */
export async function listStrays(storage: Storage): Promise<{ strays: Stray[]; refused?: string }> {
  try {
    return { strays: await storage.strays() };
  } catch (err) {
    if (err instanceof Deno.errors.PermissionDenied || err instanceof CapabilityRefused) {
      return { strays: [], refused: err.message };
    }
    throw err;
  }
}

/** Counts the store's strays and their bytes, for `check`. */
export async function strayReport(storage: Storage): Promise<StrayReport> {
  const { strays, refused } = await listStrays(storage);
  const times = strays.map((s) => s.modified).filter((t) => t !== undefined).sort();
  return {
    count: strays.length,
    bytes: strays.reduce((sum, s) => sum + s.size, 0),
    ...(times.length > 0 ? { oldest: times[0] } : {}),
    ...(refused !== undefined ? { refused } : {}),
  };
}
