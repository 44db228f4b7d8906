/**
 * `gc compact` (docs/gc.md "Compact", stage 3). {@link estimateCompaction} refuses a key or
 * storage credentials that may not delete, and a restore tier the cold class does not offer,
 * then plans (host/ops/gc_compact.ts: the mark, the break-even of every pack with dead bytes,
 * the packs to drop, repack and keep, the estimate at home and in the region).
 * {@link runCompaction} carries the plan out: the caller's cost gate, restore requests for the
 * archived data packs to repack and waiting for them or not, then copying their live blobs into
 * new packs and retiring the old ones (host/ops/gc_compact_execute.ts). Nothing is deleted:
 * `gc purge` does that, later. Nothing is written before every pack to read is readable, and
 * the restore requests are idempotent: a run that ends `waiting` is simply made again, with the
 * same choice, so that it plans the same packs.
 *
 * @module
 */

import type { PackState } from "../cold/pack_survey.ts";
import { defaultHorizonMonths } from "../cost/compact_cost.ts";
import type { Destination } from "../cost/egress.ts";
import { assertAdmin, proveDeleteAllowed } from "../ops/admin_gate.ts";
import { type CompactPlan, compactWork, planCompact } from "../ops/gc_compact.ts";
import { type CompactResult, type CompactStep, executeCompact } from "../ops/gc_compact_execute.ts";
import type { OnProgress } from "../ops/progress.ts";
import type { Repository } from "../repository/repository.ts";
import type { RestoreTier } from "../storage/storage.ts";
import { InvalidRequest } from "./invalid_request.ts";
import type { RepoPricing } from "./pricing.ts";
import { checkClassOffers, checkTierOffered, thawPacks, type ThawWait } from "./thaw.ts";

/**
 * What a compaction repacks and how it restores: every choice that changes the plan, so a run
 * made again after `waiting` must make the same ones ({@link compactDefaults} for the rest).
 */
export interface CompactChoice {
  /** Repack every pack with dead bytes, whether or not it pays for itself. */
  all: boolean;
  /** Months over which the dead bytes' cost is counted. */
  horizonMonths: number;
  /** Where the packs are read, as priced: at home, or by a job in the bucket's region. */
  to: Destination;
  /** Price the old packs as deleted inside their minimum storage duration, fee paid. */
  acceptEarlyFee: boolean;
  /** The restore tier of the archived data packs to repack. */
  tier: RestoreTier;
  /** Days their restored copies stay. */
  days: number;
}

/** The defaults: what pays for itself over 12 months, read at home, bulk restores for 3 days. */
export const compactDefaults: Readonly<CompactChoice> = {
  all: false,
  horizonMonths: defaultHorizonMonths,
  to: "internet",
  acceptEarlyFee: false,
  tier: "bulk",
  days: 3,
};

/** Options of {@link estimateCompaction}. */
export interface EstimateCompactionOptions extends Partial<CompactChoice> {
  pricing: RepoPricing;
  /** "Now", for the packs' ages (tests). */
  now?: Date;
}

/**
 * Marks, prices and chooses (see the module doc); reads no pack and writes nothing (the
 * delete probe deletes a name that never exists). A tier the cold class does not offer is `TierNotOffered`, a horizon
 * that is not a number of months above 0 `InvalidRequest`, both before anything is listed.
 */
export async function estimateCompaction(
  repo: Repository,
  options: EstimateCompactionOptions,
): Promise<CompactPlan> {
  const choice = withDefaults(options);
  assertAdmin(repo, "gc compact"); // before anything is listed
  await proveDeleteAllowed(repo, "gc compact");
  const { horizonMonths } = choice;
  if (!(horizonMonths > 0) || !Number.isFinite(horizonMonths)) {
    throw new InvalidRequest(
      `a compaction's horizon is a number of months above 0, not "${horizonMonths}"`,
    );
  }
  checkClassOffers(options.pricing.coldClass, choice.tier); // the break-even prices the tier
  return await planCompact(repo, { table: options.pricing.table, ...choice, now: options.now });
}

/** `options`' choices, each left out taken from {@link compactDefaults}. */
function withDefaults(options: Partial<CompactChoice>): CompactChoice {
  const d = compactDefaults;
  return {
    all: options.all ?? d.all,
    horizonMonths: options.horizonMonths ?? d.horizonMonths,
    to: options.to ?? d.to,
    acceptEarlyFee: options.acceptEarlyFee ?? d.acceptEarlyFee,
    tier: options.tier ?? d.tier,
    days: options.days ?? d.days,
  };
}

/** Options of {@link runCompaction}. */
export interface RunCompactionOptions extends Partial<Pick<CompactChoice, "tier" | "days">> {
  pricing: RepoPricing;
  /** The cost gate, on a store that bills, before anything is requested; false stops. */
  approve?: (plan: CompactPlan) => Promise<boolean>;
  /** Told that the compaction goes ahead (past the gate), before restores are requested. */
  onApproved?: (plan: CompactPlan) => void;
  /** Told what was requested (`states`: the data packs to repack), before any waiting. */
  onRequested?: (r: { states: PackState[]; sent: number }) => void;
  /** Wait for the thaw; absent: return `waiting`. */
  wait?: ThawWait;
  /** Told each step of the execute once it is durable (host/ops/gc_compact_execute.ts). */
  onStep?: (step: CompactStep) => void | Promise<void>;
  /** The progress of the execute: packs to repack read, and their bytes (phase `compact`). */
  onProgress?: OnProgress;
}

/** How {@link runCompaction} ended. */
export type CompactOutcome =
  | { status: "nothing" }
  | { status: "declined" }
  | { status: "waiting"; states: PackState[]; sent: number }
  | { status: "compacted"; result: CompactResult };

/**
 * Carries out `plan` (made by {@link estimateCompaction} with the same tier and days): nothing
 * to do when it neither drops nor repacks a pack; else the gate, then the data packs to repack
 * made readable (`waiting` when they are on their way and `wait` is absent), then the execute.
 */
export async function runCompaction(
  repo: Repository,
  plan: CompactPlan,
  options: RunCompactionOptions,
): Promise<CompactOutcome> {
  if (plan.repack.length + plan.drop.length === 0) return { status: "nothing" };
  const tier = options.tier ?? compactDefaults.tier;
  const days = options.days ?? compactDefaults.days;
  checkTierOffered(plan.survey, tier); // before the gate asks anything
  if (!options.pricing.asIfS3 && options.approve && !await options.approve(plan)) {
    return { status: "declined" };
  }
  options.onApproved?.(plan);
  const thawed = await thawPacks(repo.storage, plan.survey, {
    tier,
    days,
    wait: options.wait,
    onRequested: (sent) => options.onRequested?.({ states: plan.survey, sent }),
  });
  if (thawed.status === "waiting") {
    return { status: "waiting", states: thawed.states, sent: thawed.sent };
  }
  return {
    status: "compacted",
    result: await executeCompact(repo, compactWork(plan), options.onStep, options.onProgress),
  };
}

/** The plan as data (what `gc compact --estimate --json` prints, and every later `--json`). */
export function compactionReport(plan: CompactPlan) {
  return {
    snapshots: plan.mark.snapshots,
    drop: plan.drop.map((p) => ({ pack: p.id, bytes: p.length, metadata: p.metadata })),
    repack: plan.repack.map((c) => ({
      pack: c.pack.id,
      metadata: c.pack.metadata === true,
      bytes: c.pack.bytes,
      live_bytes: c.pack.liveBytes,
      dead_bytes: c.pack.deadBytes,
      saving_usd: c.saving.total_usd,
      cost_usd: c.cost.total_usd,
      net_usd: c.net_usd,
    })),
    keep: plan.keep.map((c) => ({
      pack: c.pack.id,
      dead_bytes: c.pack.deadBytes,
      saving_usd: c.saving.total_usd,
      cost_usd: c.cost.total_usd,
      net_usd: c.net_usd,
    })),
    estimate: plan.estimate,
    at_home_usd: plan.atHome.total_usd,
    in_region_usd: plan.inRegion.total_usd,
    archived: plan.survey.filter((s) => s.availability.state === "archived").length,
  };
}
