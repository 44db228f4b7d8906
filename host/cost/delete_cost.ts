/**
 * Deleting data (docs/cost-model.md §5): DELETE requests are free, but an object deleted before
 * its class's minimum storage duration is billed for the days that remain, at the class's
 * storage rate. So deleting early never saves money; waiting costs the same.
 *
 * @module
 */

import type { StorageClass } from "../storage/storage.ts";
import { type Assumptions, daysToMonths, defaultAssumptions } from "./assumptions.ts";
import {
  type Estimate,
  estimate,
  type LineItem,
  lineItem,
  noTime,
  tieredItems,
  toGB,
} from "./estimate.ts";
import type { PriceTable } from "./price_table.ts";

export interface DeletePlan {
  storageClass: StorageClass;
  bytes: number;
  /** Days since the objects were written (or transitioned into the class). */
  ageDays: number;
  /** How many objects, when known: adds the (free) DELETE requests as a line. */
  objects?: number;
}

/** §5.1 Days of the minimum duration still to run at `ageDays` (0 once it has passed). */
export function remainingDays(ageDays: number, storageClass: StorageClass, table: PriceTable) {
  return Math.max(0, table.rules.classes[storageClass].min_days.value - ageDays);
}

/** §5.1 The early-deletion fee: GB × remaining days at the class's storage rate. */
export function earlyDeletionItems(
  gb: number,
  ageDays: number,
  storageClass: StorageClass,
  table: PriceTable,
  a: Assumptions = defaultAssumptions,
): LineItem[] {
  const days = remainingDays(ageDays, storageClass, table);
  if (days === 0) return [];
  return tieredItems(
    `early deletion, ${days} days of the ${
      table.rules.classes[storageClass].min_days.value
    }-day minimum left`,
    gb,
    table.storage_gb_month[storageClass],
    "GB-month",
    daysToMonths(days, a),
  );
}

/** §5.2 DELETE requests: free. */
export function deleteItem(objects: number, table: PriceTable): LineItem {
  return lineItem(
    "DELETE requests",
    objects / 1000,
    "1,000 requests",
    table.rules.delete_per_1000.value,
  );
}

/** The cost of deleting `plan` now. Deleting takes no time worth counting. */
export function estimateDelete(
  plan: DeletePlan,
  table: PriceTable,
  a: Assumptions = defaultAssumptions,
): Estimate {
  const gb = toGB(plan.bytes, table);
  return estimate(table, [
    ...earlyDeletionItems(gb, plan.ageDays, plan.storageClass, table, a),
    ...(plan.objects === undefined ? [] : [deleteItem(plan.objects, table)]),
  ], noTime);
}
