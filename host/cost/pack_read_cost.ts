/**
 * Reading a repository's packs (docs/cost-model.md §10.2, §10.3): what `restore` and
 * `check --read-data` would pay for the packs they need, from their survey. Unlike the scenario
 * of §4, packs of several classes and states mix: only the archived ones are restored (§4.1,
 * §4.2), every object read pays its GETs (§4.3), and the bytes read leave S3 once (§4.4).
 *
 * @module
 */

import type { RestoreTier, StorageClass } from "../storage/storage.ts";
import { type Assumptions, defaultAssumptions } from "./assumptions.ts";
import { fargateItems } from "./fargate.ts";
import { type Destination, egressItems } from "./egress.ts";
import { addHours, type Estimate, estimate, type LineItem, noTime, toGB } from "./estimate.ts";
import type { PriceTable } from "./price_table.ts";
import {
  downloadHours,
  getItem,
  pricedTiers,
  restoredCopyItems,
  restoreHours,
  retrievalItems,
} from "./restore_cost.ts";

/** The packs of one storage class that a command reads. */
export interface PackGroup {
  storageClass: StorageClass;
  /** Objects archived now, which must be restored first, and their bytes. */
  archived: { objects: number; bytes: number };
  /** GET requests the read makes (one per object read whole, one per range read). */
  gets: number;
  /** Bytes downloaded from this class. */
  readBytes: number;
}

export interface PackReadPlan {
  groups: PackGroup[];
  /** The restore tier; needed when a group has archived objects. */
  tier?: RestoreTier;
  /** Days the restored copies stay readable. */
  days: number;
  to: Destination;
  /** Free internet egress left this month, in GB (default: the table's allowance). */
  freeEgressGB?: number;
}

/** One alternative of {@link compareReads}: a tier (none when nothing is archived), a destination. */
export interface ReadAlternative {
  tier?: RestoreTier;
  to: Destination;
  estimate: Estimate;
}

/**
 * §10.2 The cost of reading `plan`'s packs: per class, the restore of its archived objects
 * (§4.1, §4.2, at the plan's tier) or the retrieval fee of a class read directly (§4.1), its
 * GETs (§4.3); then the egress of every byte read (§4.4) and, in the region, the job's
 * compute (§6.2). Time: the slowest restore among the classes, then the download (§4.5).
 */
export function estimatePackRead(
  plan: PackReadPlan,
  table: PriceTable,
  a: Assumptions = defaultAssumptions,
): Estimate {
  const items: LineItem[] = [];
  let restore = noTime;
  let readBytes = 0;
  for (const g of plan.groups) {
    readBytes += g.readBytes;
    if (table.rules.classes[g.storageClass].archived) {
      if (g.archived.objects > 0) {
        const gb = toGB(g.archived.bytes, table);
        items.push(
          ...retrievalItems(gb, g.archived.objects, g.storageClass, plan.tier, table),
          ...restoredCopyItems(gb, plan.days, g.storageClass, table, a),
        );
        const h = restoreHours(g.storageClass, plan.tier, table);
        restore = { min: Math.max(restore.min, h.min), max: Math.max(restore.max, h.max) };
      }
    } else {
      items.push(
        ...retrievalItems(toGB(g.readBytes, table), g.gets, g.storageClass, undefined, table),
      );
    }
    if (g.gets > 0) items.push(getItem(g.gets, g.storageClass, table));
  }
  const download = downloadHours(readBytes, plan.to, a);
  items.push(...egressItems(toGB(readBytes, table), plan.to, table, plan.freeEgressGB));
  if (plan.to === "region") items.push(...fargateItems(download.max, a.job, table));
  return estimate(table, items, addHours(restore, download));
}

/**
 * §10.2 The tiers every archived class in `groups` offers, cheapest first (a restore uses one
 * tier for all its packs); `[undefined]` when nothing needs a restore.
 */
export function commonTiers(groups: PackGroup[], table: PriceTable): (RestoreTier | undefined)[] {
  const archived = groups.filter((g) =>
    g.archived.objects > 0 && table.rules.classes[g.storageClass].archived
  );
  if (archived.length === 0) return [undefined];
  return pricedTiers(archived[0].storageClass, table).filter((t) =>
    archived.every((g) => pricedTiers(g.storageClass, table).includes(t))
  );
}

/** §10.2 Every tier the packs' classes offer, each to the internet and to the region. */
export function compareReads(
  plan: Omit<PackReadPlan, "tier" | "to">,
  table: PriceTable,
  a: Assumptions = defaultAssumptions,
): ReadAlternative[] {
  const out: ReadAlternative[] = [];
  for (const tier of commonTiers(plan.groups, table)) {
    for (const to of ["internet", "region"] as const) {
      out.push({ tier, to, estimate: estimatePackRead({ ...plan, tier, to }, table, a) });
    }
  }
  return out;
}
