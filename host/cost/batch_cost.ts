/**
 * S3 Batch Operations (docs/cost-model.md §4.6): what one job that restores `objects` archived
 * objects adds to their restore. The job is billed a fee per job and per million objects it
 * processes, its manifest is one STANDARD PUT, and the restore requests it makes are billed as
 * if sent one by one (§4.1), so they are not here: they are in the restore's own estimate.
 *
 * @module
 */

import type { HoursRange } from "../cold/restore_times.ts";
import { type LineItem, lineItem } from "./estimate.ts";
import type { PriceTable } from "./price_table.ts";

/**
 * §4.6 The time a Batch Operations job takes before it sends its first request (New, Preparing,
 * Ready, Active). AWS states no figure; this is an assumption (read the manifest, then start),
 * added to the tier's window: up to an hour.
 */
export const BATCH_START_HOURS: HoursRange = { min: 0, max: 1 };

/**
 * §4.6 Per-object requests: {@link REQUEST_SECONDS} each, {@link REQUEST_CONCURRENCY} at once
 * (host/cold/restore_requests.ts), before the last one has been asked for. An assumption too.
 */
export const REQUEST_SECONDS = 0.1;
export const REQUEST_CONCURRENCY = 8;

/** §4.6 Hours to send `objects` RestoreObject requests one by one, from this machine. */
export function requestHours(objects: number): HoursRange {
  return { min: 0, max: objects * REQUEST_SECONDS / REQUEST_CONCURRENCY / 3600 };
}

/** §4.6 The job's own lines: the job, its objects, and the manifest's PUT. */
export function batchItems(objects: number, table: PriceTable): LineItem[] {
  const b = table.batch_operations;
  return [
    lineItem("S3 Batch Operations job", 1, "job", b.per_job.value),
    lineItem(
      "S3 Batch Operations objects",
      objects / 1_000_000,
      "1,000,000 objects",
      b.per_million_objects.value,
    ),
    lineItem(
      "manifest PUT, STANDARD",
      1 / 1000,
      "1,000 requests",
      table.requests_per_1000.STANDARD.put.value,
    ),
  ];
}
