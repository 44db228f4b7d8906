/**
 * A check of a sample of packs (`check --read-data-subset`): pick the sample (the seed makes
 * a rerun pick the same packs, host/ops/sample_pick.ts) and survey it
 * ({@link planCheckSample}), price reading it whole (docs/cost-model.md §10.3,
 * {@link priceCheckSample}), then make it readable ({@link prepareCheckSample}: the caller's
 * cost gate, restore requests of the archived packs, waiting or not). Nothing is saved between
 * runs: a caller told `waiting` runs again with the same seed.
 *
 * @module
 */

import { ObjectNotFound } from "../../plugins/sdk/errors.ts";
import { type PackState, surveyPacks, type SurveyTotals, totals } from "../cold/pack_survey.ts";
import {
  defaultSeed,
  pickSample,
  sampleSize,
  type SubsetSpec,
  subsetText,
} from "../ops/sample_pick.ts";
import type { PackInfo } from "../repository/repo_index.ts";
import { requirePrivateKey } from "../repository/keys.ts";
import { layout } from "../repository/layout.ts";
import type { Repository } from "../repository/repository.ts";
import type { RestoreTier, Storage } from "../storage/storage.ts";
import { wholePackReads } from "./check_read.ts";
import type { RepoPricing } from "./pricing.ts";
import {
  type ObjectRead,
  priceReads,
  type ReadChoice,
  type ReadEstimate,
  type ReadEstimateReport,
  readEstimateReport,
} from "./read_estimate.ts";
import { checkTierOffered, thawPacks, type ThawWait } from "./thaw.ts";

/** The sample a check reads: what was asked, the seed, and the packs picked. */
export interface Sample {
  subset: string;
  seed: string;
  /** Sampled pack ids, in the seed's order. */
  packs: string[];
  /** Indexed packs sampled from. */
  of: number;
}

/** A sample and what the store says of its packs. */
export interface SamplePlan {
  sample: Sample;
  packs: PackInfo[];
  /** Object names of the sampled packs. */
  names: string[];
  /** The survey of the sampled packs the store has (a missing one has no entry). */
  states: Map<string, PackState>;
}

/** Picks the sample `spec` asks for and surveys it (a key that cannot read trees is refused first). */
export async function planCheckSample(repo: Repository, spec: SubsetSpec): Promise<SamplePlan> {
  // Before anything is restored: the check that follows reads trees (`ops/check.ts`).
  requirePrivateKey(repo.keys, "trees, so it cannot check the repository");
  await repo.loadIndex();
  const all = [...repo.index.packs()];
  const seed = spec.seed ?? defaultSeed();
  const ids = pickSample(all.map((p) => p.id), seed, sampleSize(spec, all.length));
  const sample: Sample = { subset: subsetText(spec, seed), seed, packs: ids, of: all.length };
  const packs = ids.map((id) => repo.index.pack(id)!);
  const names = packs.map((p) => layout.pack(p.id));
  return { sample, packs, names, states: await surveyPresent(repo.storage, names) };
}

/** The numbers of a priced sample, as data: the sample, the reads, the packs' cold states. */
export interface SampleSummary extends Sample {
  metadata_packs: number;
  /** Objects read: each sampled pack's cold copy, and a metadata pack's hot copy as well. */
  objects: number;
  bytes: number;
  cold: SurveyTotals;
}

/** A priced sample: the objects read, every alternative and the chosen one, and notes. */
export interface SampleEstimate extends ReadEstimate {
  objects: ObjectRead[];
  summary: SampleSummary;
  notes: string[];
}

/** Prices reading the sample whole. */
export function priceCheckSample(
  plan: SamplePlan,
  pricing: RepoPricing,
  choice: ReadChoice,
): SampleEstimate {
  const objects = wholePackReads(
    plan.packs,
    pricing,
    (p) => plan.states.get(layout.pack(p.id)) ?? null,
  );
  const summary = {
    ...plan.sample,
    metadata_packs: plan.packs.filter((p) => p.metadata).length,
    objects: objects.length,
    bytes: objects.reduce((sum, o) => sum + o.readBytes, 0),
    cold: totals([...plan.states.values()]),
  };
  const missing = plan.names.filter((n) => !plan.states.has(n)).length;
  const { days } = choice;
  const notes = [
    "archived packs of the sample are restored by check itself (--tier, --days), then read",
    `restored copies are priced for ${days} day${days === 1 ? "" : "s"} (--days)`,
    ...(missing > 0
      ? [`${missing} sampled packs are missing (check reports them) and are not priced`]
      : []),
    ...(pricing.note ? [pricing.note] : []),
  ];
  return { ...priceReads(pricing, objects, choice), objects, summary, notes };
}

/** The estimate as data (what `check --read-data-subset --estimate --json` prints). */
export function sampleEstimateReport(e: SampleEstimate): ReadEstimateReport<SampleSummary> {
  return readEstimateReport(e, e.summary, e.notes);
}

/** Options of {@link prepareCheckSample}. */
export interface PrepareSampleOptions {
  pricing: RepoPricing;
  estimate: SampleEstimate;
  days: number;
  /**
   * The tier to request and wait at when the estimate chose none (no sampled pack is archived
   * now, e.g. a rerun while they are being restored): the caller's `--tier` or default.
   * Default `"standard"`.
   */
  tier?: RestoreTier;
  /** The cost gate, on a store that bills; false stops with nothing requested. */
  approve?: (estimate: SampleEstimate) => Promise<boolean>;
  /** Told what was requested and at which tier, before any waiting. */
  onRequested?: (sent: number, tier: RestoreTier) => void;
  /** Wait for the thaw; absent: return `waiting`. */
  wait?: ThawWait;
}

/** How {@link prepareCheckSample} ended. */
export type SampleOutcome =
  | { status: "readable"; sample: Sample }
  | { status: "waiting"; sample: Sample; states: PackState[]; sent: number; tier: RestoreTier }
  | { status: "declined" };

/**
 * Makes every sampled pack readable at the chosen alternative's tier: checks the tier, asks
 * `approve`, requests restores of the archived packs, then waits or returns `waiting`.
 */
export async function prepareCheckSample(
  repo: Repository,
  plan: SamplePlan,
  options: PrepareSampleOptions,
): Promise<SampleOutcome> {
  const surveyed = [...plan.states.values()];
  const tier = options.estimate.chosen.tier ?? options.tier ?? "standard";
  checkTierOffered(surveyed, tier);
  if (!options.pricing.asIfS3 && options.approve && !await options.approve(options.estimate)) {
    return { status: "declined" };
  }
  const thawed = await thawPacks(repo.storage, surveyed, {
    tier,
    days: options.days,
    wait: options.wait,
    onRequested: (sent) => options.onRequested?.(sent, tier),
  });
  return thawed.status === "waiting"
    ? { status: "waiting", sample: plan.sample, states: surveyed, sent: thawed.sent, tier }
    : { status: "readable", sample: plan.sample };
}

/** Surveys `names`, leaving out packs the store does not have (`check` reports those). */
async function surveyPresent(storage: Storage, names: string[]): Promise<Map<string, PackState>> {
  let states: PackState[];
  try {
    states = await surveyPacks(storage, names);
  } catch (err) {
    if (!(err instanceof ObjectNotFound)) throw err;
    const stored = new Set((await storage.list(layout.prefixes.pack)).map((o) => o.name));
    states = await surveyPacks(storage, names.filter((n) => stored.has(n)));
  }
  return new Map(states.map((s) => [s.name, s]));
}
