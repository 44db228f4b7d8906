/**
 * What a backup commits to (docs/cost-model.md §10.1): the objects a dry run of the real
 * pipeline would write (data packs in the cold class, metadata packs twice, index segments,
 * the snapshot), priced as their uploads, their first month of storage and, for the cold
 * class, the rest of its minimum storage duration, which is owed even if the packs are deleted
 * sooner. Unlike the scenario of §3, the objects are of many sizes and several classes.
 *
 * @module
 */

import type { StorageClass } from "../storage/storage.ts";
import { type Assumptions, defaultAssumptions, transferHours } from "./assumptions.ts";
import { type Estimate, estimate, type LineItem, round6, toGB } from "./estimate.ts";
import type { PriceTable } from "./price_table.ts";
import {
  archiveOverheadItems,
  minimumDurationItems,
  putItems,
  storageItems,
  uploadParts,
} from "./store_cost.ts";

/** One object a backup would write. */
export interface WrittenObject {
  storageClass: StorageClass;
  size: number;
}

/** The estimate, and what the new objects add to every later month's bill. */
export interface BackupEstimate {
  estimate: Estimate;
  /** §10.1 Storage and archive overhead of the new objects, per month. */
  monthly_usd: number;
}

/**
 * §10.1 Per class: storage for one month (§3.1, §3.2: each object billed at least the class's
 * minimum size), the archive overhead for one month (§3.3), the upload requests (§3.4, each
 * object by its own size: a PutObject or a multipart upload) and the rest of the minimum
 * storage duration (§3.5). Time: the upload over the internet (§3.6).
 */
export function estimateBackup(
  objects: WrittenObject[],
  table: PriceTable,
  a: Assumptions = defaultAssumptions,
): BackupEstimate {
  const byClass = new Map<StorageClass, WrittenObject[]>();
  for (const o of objects) {
    const list = byClass.get(o.storageClass) ?? [];
    list.push(o);
    byClass.set(o.storageClass, list);
  }
  const items: LineItem[] = [];
  let monthly = 0;
  let bytes = 0;
  for (const [storageClass, list] of byClass) {
    const min = table.rules.classes[storageClass].min_object_bytes.value;
    const billable = list.reduce((sum, o) => sum + Math.max(o.size, min), 0);
    bytes += list.reduce((sum, o) => sum + o.size, 0);
    const gb = toGB(billable, table);
    const perMonth = [
      ...storageItems(gb, 1, storageClass, table),
      ...archiveOverheadItems(list.length, 1, storageClass, table),
    ];
    monthly += perMonth.reduce((sum, i) => sum + i.usd, 0);
    items.push(...perMonth);
    // §3.4 Objects uploaded in the same number of parts pay the same requests.
    const byParts = new Map<number, WrittenObject[]>();
    for (const o of list) {
      const parts = uploadParts(o.size, a.upload);
      byParts.set(parts, [...byParts.get(parts) ?? [], o]);
    }
    for (const [, same] of [...byParts].sort(([x], [y]) => x - y)) {
      items.push(...putItems(same.length, same[0].size, storageClass, table, a.upload));
    }
    items.push(...minimumDurationItems(gb, 1, storageClass, table, a));
  }
  return {
    estimate: estimate(table, items, transferHours(bytes, a.internetMbitPerS)),
    monthly_usd: round6(monthly),
  };
}
