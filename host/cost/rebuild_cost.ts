/**
 * Rebuilding from cold (docs/cost-model.md §6): when the hot metadata is lost, packs are
 * restored and read, either by downloading them (internet egress) or by a job in the bucket's
 * region (free transfer, paid compute). The rebuilt index and metadata are a small fraction of
 * the packs; their uploads are left out.
 *
 * Which packs: in the normal case only the metadata packs (and packs whose kind cannot be told
 * without a restore), since their pack-index blobs locate every data blob (docs/format.md §6.5,
 * §10); in the worst case every pack ({@link rebuildCases}). {@link estimateRebuild} prices
 * either, given its packs.
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
  /** The packs restored and read whole: their bytes and how many there are. */
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

/** Packs and their bytes. */
export interface PackCount {
  objects: number;
  bytes: number;
}

/** What a rebuild's plan knows of the cold tier before any restore (by label or header). */
export interface RebuildScope {
  metadata: PackCount;
  data: PackCount;
  /** Packs of unknown kind (archived, without a label): restored to read their headers. */
  unknown: PackCount;
}

/**
 * The packs a rebuild restores and reads: `normal`, the metadata packs and the packs of unknown
 * kind; `worst`, every pack, when the metadata packs leave a blob a snapshot needs unlocated
 * (data packs no pack-index blob names: written before pack-index blobs, or by a killed run).
 */
export function rebuildCases(scope: RebuildScope): { normal: PackCount; worst: PackCount } {
  const add = (...c: PackCount[]) => ({
    objects: c.reduce((n, x) => n + x.objects, 0),
    bytes: c.reduce((n, x) => n + x.bytes, 0),
  });
  return {
    normal: add(scope.metadata, scope.unknown),
    worst: add(scope.metadata, scope.unknown, scope.data),
  };
}

/** The cost of restoring and reading the plan's packs, and how long it takes. */
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
