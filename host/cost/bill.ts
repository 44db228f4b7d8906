/**
 * The repository's monthly bill (docs/cost-model.md §11), from a listing of its objects: hot
 * metadata in STANDARD, cold packs in their class, the per-object overhead of archived packs,
 * and the restored copies that exist now; then a projection of the same bytes over the coming
 * months. Requests are not in it: a listing does not say what was requested this month.
 *
 * @module
 */

import type { StorageClass } from "../storage/storage.ts";
import { type Assumptions, daysToMonths, defaultAssumptions } from "./assumptions.ts";
import {
  type Estimate,
  estimate,
  type LineItem,
  noTime,
  round6,
  tieredItems,
  toGB,
} from "./estimate.ts";
import type { PriceTable } from "./price_table.ts";
import { archiveOverheadItems } from "./store_cost.ts";

/** One stored object: its class, size, and whether it is hot metadata or a cold pack. */
export interface StoredObject {
  storageClass: StorageClass;
  size: number;
  hot: boolean;
}

/** A temporary restored copy of an archived pack; `daysLeft` undefined when unknown. */
export interface RestoredCopy {
  bytes: number;
  daysLeft?: number;
}

export interface Bill {
  /** This month: storage, overhead and restored copies. */
  estimate: Estimate;
  /** What every later month costs with the same bytes (no restored copies). */
  recurring_usd: number;
  /** What the bill leaves out, in words. */
  notes: string[];
}

/** §11.3 The projection: one value per month, this month first. */
export interface Projection {
  months: string[];
  usd: number[];
  cumulative_usd: number[];
}

/**
 * §11.1, §11.2 This month's bill: per class, the hot objects' storage and the cold packs'
 * storage (each object billed at least the class's minimum size, §3.1) for one month; the
 * archived packs' overhead (§3.3); and each restored copy at the restored-copy class's rate for
 * the days it has left (§4.2).
 */
export function estimateBill(
  objects: StoredObject[],
  restored: RestoredCopy[],
  table: PriceTable,
  a: Assumptions = defaultAssumptions,
): Bill {
  const groups = new Map<string, { storageClass: StorageClass; hot: boolean; list: number[] }>();
  for (const o of objects) {
    const key = `${o.hot ? "hot" : "cold"} ${o.storageClass}`;
    const g = groups.get(key) ?? { storageClass: o.storageClass, hot: o.hot, list: [] };
    g.list.push(o.size);
    groups.set(key, g);
  }
  const items: LineItem[] = [];
  const order = [...groups.values()].sort((x, y) => Number(y.hot) - Number(x.hot));
  for (const g of order) {
    const min = table.rules.classes[g.storageClass].min_object_bytes.value;
    const gb = toGB(g.list.reduce((sum, size) => sum + Math.max(size, min), 0), table);
    items.push(...tieredItems(
      `storage, ${g.storageClass}, ${
        g.hot ? "hot metadata" : "cold packs"
      }: ${g.list.length} objects`,
      gb,
      table.storage_gb_month[g.storageClass],
      "GB-month",
      1,
    ));
  }
  for (const g of order) {
    if (!g.hot) items.push(...archiveOverheadItems(g.list.length, 1, g.storageClass, table));
  }
  const recurring = round6(items.reduce((sum, i) => sum + i.usd, 0));
  const notes: string[] = [];
  const known = restored.filter((r) => r.daysLeft !== undefined);
  if (known.length > 0) {
    const copyClass = table.rules.restored_copy_class.value;
    const gbMonths = known.reduce(
      (sum, r) => sum + toGB(r.bytes, table) * daysToMonths(r.daysLeft!, a),
      0,
    );
    items.push(...tieredItems(
      `restored copies (${known.length}), for the days they have left, at ${copyClass} rates`,
      gbMonths,
      table.storage_gb_month[copyClass],
      "GB-month",
    ));
  }
  const unknown = restored.length - known.length;
  if (unknown > 0) {
    notes.push(
      `${unknown} restored cop${unknown === 1 ? "y" : "ies"} whose expiry is unknown ` +
        `(not priced)`,
    );
  }
  return { estimate: estimate(table, items, noTime), recurring_usd: recurring, notes };
}

/**
 * §11.3 `months` months from `start`'s month: this month's bill, then the recurring bill (the
 * same bytes, no restored copies) each month after; and the running total.
 */
export function projectBill(bill: Bill, months: number, start: Date): Projection {
  const out: Projection = { months: [], usd: [], cumulative_usd: [] };
  let sum = 0;
  for (let i = 0; i < months; i++) {
    const d = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + i, 1));
    const usd = i === 0 ? bill.estimate.total_usd : bill.recurring_usd;
    sum += usd;
    out.months.push(d.toISOString().slice(0, 7));
    out.usd.push(usd);
    out.cumulative_usd.push(round6(sum));
  }
  return out;
}
