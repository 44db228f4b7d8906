/**
 * The price of a restore into S3 (`restore --target s3://...`, docs/cost-model.md §10.2a): the
 * restore's own estimate for a destination (reading the packs: egress at home, a Fargate job in
 * the region) plus the objects it writes and a month of their storage. {@link restoreHomeVsRegion}
 * sets a restore at home into a folder (egress) against the same restore run in the region into
 * S3, as `restore --in-region` prints it (docs/in-region.md §7).
 *
 * @module
 */

import {
  defaultAssumptions,
  type Destination,
  type Estimate,
  type ReadAlternative,
} from "../cost/mod.ts";
import { estimate } from "../cost/estimate.ts";
import { restoreTargetItems } from "../cost/restore_target_cost.ts";
import { type HomeVsRegion, homeVsRegion } from "../ops/home_vs_region.ts";
import type { RestorePlan } from "../ops/restore_plan.ts";
import type { StorageClass } from "../storage/storage.ts";
import type { RepoPricing } from "./pricing.ts";
import type { ReadEstimate } from "./read_estimate.ts";

/** `base` (a restore's estimate) with the writes of `plan`'s files as objects of `storageClass`. */
export function withTargetWrites(
  base: Estimate,
  plan: RestorePlan,
  storageClass: StorageClass,
  pricing: RepoPricing,
): Estimate {
  const sizes = plan.entries.flatMap((e) => e.node.type === "file" ? [e.node.size ?? 0] : []);
  const items = restoreTargetItems(
    { sizes, storageClass },
    pricing.table,
    defaultAssumptions.upload,
  );
  return estimate(pricing.table, [...base.items, ...items], base.hours);
}

/**
 * `e` (a restore's estimate, every alternative) with the writes of `plan`'s files as objects of
 * `storageClass` added to each alternative: what a restore into S3 costs, wherever it runs.
 */
export function withTargetWritesEach<E extends ReadEstimate>(
  e: E,
  plan: RestorePlan,
  storageClass: StorageClass,
  pricing: RepoPricing,
): E {
  const add = (a: ReadAlternative): ReadAlternative => ({
    ...a,
    estimate: withTargetWrites(a.estimate, plan, storageClass, pricing),
  });
  const alternatives = e.alternatives.map(add);
  const at = e.alternatives.indexOf(e.chosen);
  return { ...e, alternatives, chosen: at >= 0 ? alternatives[at] : add(e.chosen) };
}

/**
 * At home into a folder (the restore's estimate to the internet) against in the region into
 * S3 (to the region, with the target's writes): `estimateAt` is the restore's estimate for a
 * destination.
 */
export function restoreHomeVsRegion(
  estimateAt: (to: Destination) => Estimate,
  plan: RestorePlan,
  storageClass: StorageClass,
  pricing: RepoPricing,
): HomeVsRegion & { regionAt: (to: Destination) => Estimate } {
  const regionAt = (to: Destination) =>
    to === "internet"
      ? estimateAt("internet")
      : withTargetWrites(estimateAt("region"), plan, storageClass, pricing);
  return { ...homeVsRegion(regionAt), regionAt };
}
