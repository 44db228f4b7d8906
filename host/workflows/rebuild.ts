/**
 * Rebuild: the hot tier regenerated from the cold packs alone (docs/format.md §10). Plan
 * first (`planRebuild`, host/ops/rebuild_plan.ts: which packs hold metadata, from their labels),
 * price the metadata-only case and the every-pack case at home and in the region
 * ({@link priceRebuild}), then {@link runRebuild}: make the metadata packs readable (the cost
 * gate, restore requests, waiting or not), read them, make readable the data packs no pack
 * index names only when a snapshot needs a blob they may hold, and write. Nothing is written
 * before every pack it reads is readable; a call that returns `waiting` is simply made again.
 *
 * @module
 */

import {
  isReadable,
  type PackState,
  surveyPacks,
  type SurveyTotals,
  totals,
} from "../cold/pack_survey.ts";
import { tiersOf } from "../cold/restore_times.ts";
import { defaultAssumptions, type Destination, type Estimate } from "../cost/mod.ts";
import { estimateRebuild, rebuildCases, rebuildDays } from "../cost/rebuild_cost.ts";
import {
  type MetadataScan,
  missingBlobs,
  needsUnnamedPacks,
  readDataTocs,
  type RebuildResult,
  scanMetadata,
  writeRebuild,
} from "../ops/rebuild.ts";
import { count, type RebuildPack, type RebuildPlan } from "../ops/rebuild_plan.ts";
import { type OnProgress, ProgressCounter } from "../ops/progress.ts";
import type { Repository } from "../repository/repository.ts";
import type { RestoreTier } from "../storage/storage.ts";
import type { RepoPricing } from "./pricing.ts";
import { checkClassOffers, checkTierOffered, thawPacks, type ThawWait } from "./thaw.ts";

/** How a rebuild restores: tier, days (default: from the bytes to restore), destination. */
export interface RebuildChoice {
  tier: RestoreTier;
  days?: number;
  to: Destination;
}

/** One priced case: the metadata packs only (the normal case), or every pack. */
export interface RebuildAlternative {
  case: "metadata" | "every-pack";
  to: Destination;
  objects: number;
  bytes: number;
  estimate: Estimate;
}

/** Both cases, at home and in the region, and the chosen one (the normal case, `to`). */
export interface RebuildEstimate {
  /** The tier priced; undefined when the cold class has no restore tiers. */
  tier?: RestoreTier;
  to: Destination;
  alternatives: RebuildAlternative[];
  chosen: RebuildAlternative;
  notes: string[];
}

/** Prices `plan` (a tier the cold class does not offer is `TierNotOffered`). */
export function priceRebuild(
  plan: RebuildPlan,
  pricing: RepoPricing,
  choice: RebuildChoice,
): RebuildEstimate {
  const pc = (c: { packs: number; bytes: number }) => ({ objects: c.packs, bytes: c.bytes });
  const cases = rebuildCases({
    metadata: pc(plan.metadata),
    data: pc(plan.data),
    unknown: pc(plan.unknown),
  });
  checkClassOffers(pricing.coldClass, choice.tier);
  const tier = tiersOf(pricing.coldClass).length > 0 ? choice.tier : undefined;
  const alternatives: RebuildAlternative[] = [];
  for (const [name, c] of [["metadata", cases.normal], ["every-pack", cases.worst]] as const) {
    for (const to of ["internet", "region"] as const) {
      const estimate = estimateRebuild(
        { storageClass: pricing.coldClass, ...c, tier, days: choice.days, to },
        pricing.table,
      );
      alternatives.push({ case: name, to, ...c, estimate });
    }
  }
  const chosen = alternatives.find((a) => a.case === "metadata" && a.to === choice.to)!;
  const notes = [
    "the normal case: the metadata packs' pack-index blobs locate every data blob, so no data " +
    "pack is restored",
    "every pack: when a snapshot needs a blob in a data pack that no pack index names " +
    "(written before pack indexes, or by a killed backup); known once the metadata packs are read",
    ...(plan.unknown.packs > 0
      ? [`${plan.unknown.packs} archived packs have no label: restored to read their headers`]
      : []),
    ...(pricing.note ? [pricing.note] : []),
  ];
  return { tier, to: choice.to, alternatives, chosen, notes };
}

/**
 * What restoring `packs` costs with `choice` (a tier the cold class has none of is priced as
 * is): the second step of a rebuild, and the work of a job `rebuild --emit-job` writes.
 */
export function priceRestoring(
  packs: readonly PackState[],
  pricing: RepoPricing,
  choice: RebuildChoice,
): Estimate {
  const c = count(packs);
  return estimateRebuild({
    storageClass: pricing.coldClass,
    objects: c.packs,
    bytes: c.bytes,
    tier: choice.tier,
    days: choice.days,
    to: choice.to,
  }, pricing.table);
}

/** The numbers of a plan, as data (`rebuild --dry-run --json`, and the estimate's `plan`). */
export interface RebuildSummary {
  packs: number;
  metadata: RebuildPlan["metadata"];
  data: RebuildPlan["data"];
  unknown: RebuildPlan["unknown"];
  /** How each pack's kind was learned: from its label, or by reading its header. */
  kindFrom: { label: number; header: number };
  /** What the first step restores: the metadata packs (and packs of unknown kind). */
  restore: { packs: number; bytes: number };
  thawing: RebuildPlan["thawing"];
  cold: SurveyTotals;
  ignored?: RebuildPlan["ignored"];
}

/** The plan's numbers. */
export function summarizeRebuild(plan: RebuildPlan): RebuildSummary {
  return {
    packs: plan.packs.length,
    metadata: plan.metadata,
    data: plan.data,
    unknown: plan.unknown,
    kindFrom: {
      label: plan.packs.filter((p) => p.by === "label").length,
      header: plan.packs.filter((p) => p.by === "header").length,
    },
    restore: { packs: plan.first.length, bytes: count(plan.first).bytes },
    thawing: plan.thawing,
    cold: totals(plan.first),
    ...(plan.ignored.length > 0 ? { ignored: plan.ignored } : {}),
  };
}

/** The estimate as data (what `rebuild --estimate --json` prints). */
export function rebuildEstimateReport(e: RebuildEstimate) {
  return {
    ...e.chosen.estimate,
    tier: e.tier ?? null,
    to: e.to,
    alternatives: e.alternatives.map((a) => ({ case: a.case, to: a.to, ...a.estimate })),
    notes: e.notes,
  };
}

/** Which packs a thaw step is about: the metadata packs, or the data packs no index names. */
export interface RebuildStep {
  step: "metadata" | "unnamed";
  packs: RebuildPack[];
  /** What restoring them costs (the gate's number). */
  estimate: Estimate;
  /** For `unnamed`: blobs the snapshots need that no metadata pack's index locates. */
  missing?: number;
}

/** Options of {@link runRebuild}. */
export interface RunRebuildOptions extends RebuildChoice {
  pricing: RepoPricing;
  /** The estimate of the first step (the chosen alternative of {@link priceRebuild}). */
  estimate: RebuildEstimate;
  /** How messages name the repository ("local:/srv/repo"); default "the repository". */
  name?: string;
  /** The cost gate, before restores are requested on a store that bills; false stops. */
  approve?: (step: RebuildStep) => Promise<boolean>;
  /** Told that a step needs the unnamed data packs, before anything is priced or asked. */
  onStep?: (step: RebuildStep) => void;
  /** Told what was requested for a step (before any waiting). */
  onRequested?: (r: { step: RebuildStep; states: PackState[]; sent: number; days: number }) => void;
  /** Wait for the thaw; absent: return `waiting`. */
  wait?: ThawWait;
  cacheDir?: string;
  /** Told what is written next. */
  onWrite?: (what: string) => void;
  /**
   * The progress of the reading (host/ops/progress.ts, phase `rebuild`): packs read of the
   * packs to read and their bytes, from when the first step's packs are readable; a second
   * step adds its packs to the totals. The final event comes once everything is written.
   */
  onProgress?: OnProgress;
}

/** How {@link runRebuild} ended. */
export type RebuildOutcome =
  | {
    status: "rebuilt";
    result: RebuildResult;
    scan: Pick<MetadataScan, "unnamed" | "gone">;
    problems: string[];
  }
  | { status: "waiting"; step: RebuildStep; states: PackState[]; sent: number; days: number }
  | { status: "declined"; step: RebuildStep };

/** Carries out `plan` (see the module doc). */
export async function runRebuild(
  repo: Repository,
  plan: RebuildPlan,
  options: RunRebuildOptions,
): Promise<RebuildOutcome> {
  if (plan.packs.length === 0) {
    const name = options.name === undefined ? "the repository" : `"${options.name}"`;
    throw new Deno.errors.NotFound(`${name} has no packs: there is nothing to rebuild from`);
  }
  const first: RebuildStep = {
    step: "metadata",
    packs: plan.first,
    estimate: options.estimate.chosen.estimate,
  };
  const stopped = await thawStep(repo, first, options);
  if (stopped) return stopped;
  const progress = new ProgressCounter("rebuild", options.onProgress);
  const read = { packs: plan.first.length, bytes: count(plan.first).bytes };
  progress.totals(read.packs, read.bytes);
  const onPack = (p: RebuildPack) => progress.add(1, p.bytes);
  const scan = await scanMetadata(repo, plan, onPack);

  const need = await needsUnnamedPacks(repo, scan);
  let missing = 0;
  if (need.needed) {
    const second: RebuildStep = {
      step: "unnamed",
      packs: scan.unnamed,
      estimate: priceRestoring(scan.unnamed, options.pricing, options),
      missing: need.missing,
    };
    options.onStep?.(second);
    const stoppedAgain = await thawStep(repo, second, options);
    if (stoppedAgain) return stoppedAgain;
    read.packs += second.packs.length;
    read.bytes += count(second.packs).bytes;
    progress.totals(read.packs, read.bytes);
    await readDataTocs(repo, scan, scan.unnamed, onPack);
    missing = (await missingBlobs(repo, scan)).size;
  }

  const result = await writeRebuild(repo, scan, {
    cacheDir: options.cacheDir,
    onStep: options.onWrite,
  });
  const problems = [
    ...scan.problems,
    ...(missing > 0 ? [`${missing} blobs the snapshots reference are in no pack`] : []),
  ];
  progress.finish(read.packs, read.bytes);
  return { status: "rebuilt", result, scan: { unnamed: scan.unnamed, gone: scan.gone }, problems };
}

/** Makes `step`'s packs readable; an outcome when the rebuild stops there, else undefined. */
async function thawStep(
  repo: Repository,
  step: RebuildStep,
  options: RunRebuildOptions,
): Promise<RebuildOutcome | undefined> {
  const states = await surveyPacks(repo.storage, step.packs.map((p) => p.name));
  if (states.every(isReadable)) return undefined;
  checkTierOffered(states, options.tier); // before the gate asks anything
  if (!options.pricing.asIfS3 && options.approve && !await options.approve(step)) {
    return { status: "declined", step };
  }
  const days = options.days ?? rebuildDays(count(states).bytes, options.to, defaultAssumptions);
  const thawed = await thawPacks(repo.storage, states, {
    tier: options.tier,
    days,
    wait: options.wait,
    onRequested: (sent) => options.onRequested?.({ step, states, sent, days }),
  });
  return thawed.status === "waiting"
    ? { status: "waiting", step, states, sent: thawed.sent, days }
    : undefined;
}
