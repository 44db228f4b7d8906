/**
 * Per-object restore requests or one S3 Batch Operations job (docs/cost-model.md §4.6,
 * docs/s3.md §7): for a restore of more than {@link BATCH_THRESHOLD} archived packs (or the
 * threshold asked for), both ways are priced with their windows, and the cheaper is chosen
 * unless the caller says which. Pure: the restore's own estimate comes in, the comparison goes
 * out; `restore --estimate` prints it and `restore` follows its choice.
 *
 * @module
 */

import { BATCH_START_HOURS, batchItems, requestHours } from "../cost/batch_cost.ts";
import { addHours, type Estimate, estimate, type HoursRange } from "../cost/estimate.ts";
import type { PriceTable } from "../cost/price_table.ts";

/**
 * Above this many archived packs a restore is offered as a Batch Operations job too (the
 * `--batch-threshold` default). Below it, one job's fee is most of what the requests cost.
 */
export const BATCH_THRESHOLD = 1000;

/** How the restore requests go out. */
export type RestoreMethod = "requests" | "batch";

/** One way, priced: the whole restore's estimate that way, and its window. */
export interface MethodEstimate {
  method: RestoreMethod;
  estimate: Estimate;
  hours: HoursRange;
}

/** Both ways and the one chosen, and why. */
export interface MethodChoice {
  /** Archived packs to request. */
  objects: number;
  threshold: number;
  requests: MethodEstimate;
  batch: MethodEstimate;
  chosen: RestoreMethod;
  /** "cheaper", "asked" (`batch` given), or "below threshold". */
  why: "cheaper" | "asked" | "below threshold";
}

/** What the caller asks: a threshold, and a method (`--batch` true, `--no-batch` false). */
export interface MethodOptions {
  threshold?: number;
  batch?: boolean;
}

/**
 * Prices `restore` (the restore's estimate with per-object requests, §4.1–4.5) both ways for
 * `objects` archived packs: per-object requests add the time to send them
 * ({@link requestHours}); a batch job adds its own lines ({@link batchItems}) and its start
 * ({@link BATCH_START_HOURS}). Chosen: `options.batch` when given; else the cheaper above the
 * threshold (the requests on a tie), and the requests at or below it.
 */
export function chooseRestoreMethod(
  restore: Estimate,
  objects: number,
  table: PriceTable,
  options: MethodOptions = {},
): MethodChoice {
  const threshold = options.threshold ?? BATCH_THRESHOLD;
  const requests: MethodEstimate = {
    method: "requests",
    estimate: restore,
    hours: addHours(restore.hours, requestHours(objects)),
  };
  const batchHours = addHours(restore.hours, BATCH_START_HOURS);
  const batch: MethodEstimate = {
    method: "batch",
    estimate: estimate(table, [...restore.items, ...batchItems(objects, table)], batchHours),
    hours: batchHours,
  };
  const base = { objects, threshold, requests, batch };
  if (options.batch !== undefined) {
    return { ...base, chosen: options.batch ? "batch" : "requests", why: "asked" };
  }
  if (objects <= threshold) return { ...base, chosen: "requests", why: "below threshold" };
  const cheaper = batch.estimate.total_usd < requests.estimate.total_usd ? "batch" : "requests";
  return { ...base, chosen: cheaper, why: "cheaper" };
}

/** The comparison as lines for people (`restore --estimate`). */
export function methodLines(c: MethodChoice): string[] {
  const hours = (h: HoursRange) =>
    h.min === h.max ? `${round(h.max)} h` : `${round(h.min)} to ${round(h.max)} h`;
  const line = (m: MethodEstimate, label: string) =>
    `  ${m.method === c.chosen ? "*" : " "} ${label}: $${m.estimate.total_usd.toFixed(4)}, ` +
    hours(m.hours);
  return [
    `${c.objects} archived packs: per-object requests or one S3 Batch Operations job ` +
    `(threshold ${c.threshold}; chosen: ${c.chosen === "batch" ? "batch" : "requests"}, ${c.why})`,
    line(c.requests, `${c.objects} RestoreObject requests from here`),
    line(c.batch, "one Batch Operations job (job + per-object fee + manifest PUT + the requests)"),
  ];
}

function round(x: number): string {
  return String(Math.round(x * 100) / 100);
}
