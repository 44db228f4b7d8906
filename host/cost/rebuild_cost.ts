/**
 * Rebuilding from cold (docs/cost-model.md §6): when the hot metadata is lost, every pack is
 * restored and read, either by downloading them all (internet egress) or by a job in the
 * bucket's region (free transfer, paid compute). The rebuilt index and metadata are a small
 * fraction of the packs; their uploads are left out.
 *
 * @module
 */

import type { RestoreTier, StorageClass } from "../storage/storage.ts";
import { type Assumptions, defaultAssumptions } from "./assumptions.ts";
import type { Destination } from "./egress.ts";
import type { Estimate } from "./estimate.ts";
import type { PriceTable } from "./price_table.ts";
import { downloadHours, estimateRestore } from "./restore_cost.ts";

export interface RebuildPlan {
  storageClass: StorageClass;
  /** All packs: their bytes and how many there are. */
  bytes: number;
  objects: number;
  /** Default `bulk`: a rebuild is never urgent enough to pay for speed by default. */
  tier?: RestoreTier;
  /** Default: long enough for the slowest download (§6.1), and at least 3. */
  days?: number;
  to: Destination;
  freeEgressGB?: number;
}

/** §6.1 Days the restored copies must stay so the slowest download finishes: at least 3. */
export function rebuildDays(bytes: number, to: Destination, a: Assumptions): number {
  return Math.max(3, Math.ceil(downloadHours(bytes, to, a).max / 24));
}

/** The cost of restoring and reading every pack, and how long it takes. */
export function estimateRebuild(
  plan: RebuildPlan,
  table: PriceTable,
  a: Assumptions = defaultAssumptions,
): Estimate {
  return estimateRestore(
    {
      ...plan,
      tier: plan.tier ?? (table.rules.classes[plan.storageClass].archived ? "bulk" : undefined),
      days: plan.days ?? rebuildDays(plan.bytes, plan.to, a),
    },
    table,
    a,
  );
}
