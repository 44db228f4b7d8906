/**
 * Restoring data (docs/cost-model.md §4): archived objects (GLACIER, DEEP_ARCHIVE) are first
 * restored at a tier, then read; objects of the infrequent classes are read directly and pay a
 * retrieval fee per GB. Then every object is downloaded: to the internet, or to a job in the
 * region (which then pays for its compute instead of egress).
 *
 * @module
 */

import type { RestoreTier, StorageClass } from "../storage/storage.ts";
import { type HoursRange, restoreTiers, restoreTimes } from "../cold/restore_times.ts";
import {
  type Assumptions,
  daysToMonths,
  defaultAssumptions,
  transferHours,
} from "./assumptions.ts";
import { fargateItems } from "./fargate.ts";
import { type Destination, egressItems } from "./egress.ts";
import {
  addHours,
  type Estimate,
  estimate,
  type LineItem,
  lineItem,
  noTime,
  tieredItems,
  toGB,
} from "./estimate.ts";
import type { PriceTable } from "./price_table.ts";

export interface RestorePlan {
  storageClass: StorageClass;
  bytes: number;
  objects: number;
  /** The restore tier; required for archived classes, ignored otherwise. */
  tier?: RestoreTier;
  /** Days the restored copies stay readable (archived classes). */
  days: number;
  to: Destination;
  /** Free internet egress left this month, in GB (default: the table's allowance). */
  freeEgressGB?: number;
}

/** Which tiers `storageClass` is priced for, cheapest first; none for classes read directly. */
export function pricedTiers(storageClass: StorageClass, table: PriceTable): RestoreTier[] {
  return restoreTiers.filter((tier) => table.restore[storageClass]?.[tier] !== undefined);
}

/**
 * §4.1 Retrieval: for an archived class, the tier's price per GB and per 1,000 restore
 * requests (one per object); for STANDARD_IA and GLACIER_IR, a price per GB read; else none.
 * A `RangeError` when an archived class does not offer `tier`.
 */
export function retrievalItems(
  gb: number,
  objects: number,
  storageClass: StorageClass,
  tier: RestoreTier | undefined,
  table: PriceTable,
): LineItem[] {
  if (table.rules.classes[storageClass].archived) {
    const price = tier && table.restore[storageClass]?.[tier];
    if (!tier || !price) {
      throw new RangeError(
        `${storageClass} offers no "${tier}" restore; its tiers: ${
          pricedTiers(storageClass, table).join(", ")
        }`,
      );
    }
    return [
      lineItem(
        `restore requests, ${storageClass} ${tier}`,
        objects / 1000,
        "1,000 requests",
        price.per_1000.value,
      ),
      lineItem(`retrieval, ${storageClass} ${tier}`, gb, "GB", price.per_gb.value),
    ];
  }
  const perGB = table.retrieval_per_gb[storageClass];
  return perGB ? [lineItem(`retrieval, ${storageClass}`, gb, "GB", perGB.value)] : [];
}

/**
 * §4.2 The temporary restored copy of archived objects, billed at the rules' class
 * (STANDARD) for the days it stays. None for classes read without a restore.
 */
export function restoredCopyItems(
  gb: number,
  days: number,
  storageClass: StorageClass,
  table: PriceTable,
  a: Assumptions = defaultAssumptions,
): LineItem[] {
  if (!table.rules.classes[storageClass].archived) return [];
  const copyClass = table.rules.restored_copy_class.value;
  return tieredItems(
    `restored copy, ${days} days at ${copyClass} rates`,
    gb,
    table.storage_gb_month[copyClass],
    "GB-month",
    daysToMonths(days, a),
  );
}

/** §4.3 One GET per object, at the class's rate. */
export function getItem(objects: number, storageClass: StorageClass, table: PriceTable): LineItem {
  return lineItem(
    `GET requests, ${storageClass}`,
    objects / 1000,
    "1,000 requests",
    table.requests_per_1000[storageClass].get.value,
  );
}

/** §4.5 How long the restore itself takes: the tier's range, or nothing for hot classes. */
export function restoreHours(
  storageClass: StorageClass,
  tier: RestoreTier | undefined,
  table: PriceTable,
): HoursRange {
  if (!table.rules.classes[storageClass].archived || !tier) return noTime;
  return restoreTimes[storageClass]?.[tier] ?? noTime;
}

/** §4.5 How long the download takes, to the internet or to an in-region job. */
export function downloadHours(bytes: number, to: Destination, a: Assumptions): HoursRange {
  return transferHours(bytes, to === "internet" ? a.internetMbitPerS : a.regionMbitPerS);
}

/**
 * The cost of restoring and downloading `plan`, and how long it takes: the restore's time
 * range, then the download's. In the region, the job that reads the data is priced for the
 * slowest download (§6.2).
 */
export function estimateRestore(
  plan: RestorePlan,
  table: PriceTable,
  a: Assumptions = defaultAssumptions,
): Estimate {
  const { storageClass, bytes, objects, tier, days, to } = plan;
  const gb = toGB(bytes, table);
  const download = downloadHours(bytes, to, a);
  return estimate(table, [
    ...retrievalItems(gb, objects, storageClass, tier, table),
    ...restoredCopyItems(gb, days, storageClass, table, a),
    getItem(objects, storageClass, table),
    ...egressItems(gb, to, table, plan.freeEgressGB),
    ...(to === "region" ? fargateItems(download.max, a.job, table) : []),
  ], addHours(restoreHours(storageClass, tier, table), download));
}
