/**
 * §10.1a The early-deletion fees of a sync backup's replaced versions: a changed file's earlier
 * object (version), which a later `sync prune` deletes once no kept snapshot names it. Priced
 * as if that prune ran now, when the fee is highest: each object's class minimum duration less
 * its age (§5.1), at its class's storage rate. A class without a minimum owes nothing.
 *
 * @module
 */

import { earlyDeletionItems } from "./delete_cost.ts";
import { type LineItem, toGB } from "./estimate.ts";
import type { PriceTable } from "./price_table.ts";
import type { StorageClass } from "../storage/storage.ts";

/** An object (version) a sync backup replaces: its size, class and age in whole days. */
export interface ReplacedObject {
  bytes: number;
  storageClass: StorageClass;
  ageDays: number;
}

/**
 * The early-deletion lines of pruning `replaced` now: one per class and age, each named as a
 * later prune's.
 */
export function replacedVersionItems(replaced: ReplacedObject[], table: PriceTable): LineItem[] {
  const groups = new Map<string, ReplacedObject>();
  for (const r of replaced) {
    const key = `${r.storageClass} ${r.ageDays}`;
    const g = groups.get(key) ?? { ...r, bytes: 0 };
    g.bytes += r.bytes;
    groups.set(key, g);
  }
  const ordered = [...groups.values()].sort((x, y) =>
    x.storageClass < y.storageClass
      ? -1
      : x.storageClass > y.storageClass
      ? 1
      : x.ageDays - y.ageDays
  );
  return ordered.flatMap((g) =>
    earlyDeletionItems(toGB(g.bytes, table), g.ageDays, g.storageClass, table).map((i) => ({
      ...i,
      what: `a later sync prune of replaced ${g.storageClass} versions: ${i.what}`,
    }))
  );
}
