/**
 * A check of a sample of packs (`check --read-data-subset`): pick the sample (the seed makes
 * a rerun pick the same packs, host/ops/check_sample.ts) and survey it
 * ({@link planCheckSample}), price reading it whole (docs/cost-model.md §10.3,
 * {@link priceCheckSample}), then make it readable ({@link prepareCheckSample}: the caller's
 * cost gate, restore requests of the archived packs, waiting or not). Nothing is saved between
 * runs: a caller told `waiting` runs again with the same seed.
 *
 * @module
 */

import { ObjectNotFound } from "../../plugins/sdk/errors.ts";
import { type PackState, surveyPacks } from "../cold/pack_survey.ts";
import {
  defaultSeed,
  pickSample,
  sampleSize,
  type SubsetSpec,
  subsetText,
} from "../ops/check_sample.ts";
import type { PackInfo } from "../repository/repo_index.ts";
import { requirePrivateKey } from "../repository/keys.ts";
import { layout } from "../repository/layout.ts";
import type { Repository } from "../repository/repository.ts";
import type { RestoreTier, Storage } from "../storage/storage.ts";
import type { RepoPricing } from "./pricing.ts";
import {
  type ObjectRead,
  priceReads,
  type ReadChoice,
  type ReadEstimate,
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

/** A priced sample: the objects read, every alternative and the chosen one. */
export interface SampleEstimate extends ReadEstimate {
  objects: ObjectRead[];
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
  return { ...priceReads(pricing, objects, choice), objects };
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
  /** Told what was requested, before any waiting. */
  onRequested?: (sent: number) => void;
  /** Wait for the thaw; absent: return `waiting`. */
  wait?: ThawWait;
}

/** How {@link prepareCheckSample} ended. */
export type SampleOutcome =
  | { status: "readable"; sample: Sample }
  | { status: "waiting"; sample: Sample; states: PackState[]; sent: number }
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
    onRequested: options.onRequested,
  });
  return thawed.status === "waiting"
    ? { status: "waiting", sample: plan.sample, states: surveyed, sent: thawed.sent }
    : { status: "readable", sample: plan.sample };
}

/**
 * The objects reading `packs` whole takes (docs/cost-model.md §10.3): each pack's cold copy, in
 * the class and state `stateOf` gives (as if archived in the cold class when the store reports
 * none, or the pack was not surveyed), and each metadata pack's STANDARD hot copy; one GET each.
 * A pack `stateOf` says is missing (`null`) is left out.
 */
export function wholePackReads(
  packs: PackInfo[],
  pricing: RepoPricing,
  stateOf: (p: PackInfo) => PackState | null | undefined,
): ObjectRead[] {
  const coldArchived = pricing.table.rules.classes[pricing.coldClass].archived;
  const objects: ObjectRead[] = [];
  for (const p of packs) {
    const stated = stateOf(p);
    if (stated === null) continue;
    const s = pricing.asIfS3 ? undefined : stated;
    const whole = { bytes: p.length, gets: 1, readBytes: p.length };
    objects.push(
      s
        ? { ...whole, storageClass: s.storageClass, archived: s.availability.state === "archived" }
        : { ...whole, storageClass: pricing.coldClass, archived: coldArchived },
    );
    if (p.metadata) objects.push({ ...whole, storageClass: "STANDARD", archived: false });
  }
  return objects;
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
