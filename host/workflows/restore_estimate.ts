/**
 * Restore, first half: what restoring a path of a snapshot involves (the plan: files, packs,
 * their cold states) and what it costs at every tier, to the internet and in the region
 * (docs/cost-model.md §10.2). {@link estimateRestore} is both in one call, for a caller that
 * only prices (the web view's restore estimator, `restore --estimate`).
 *
 * @module
 */

import type { Destination } from "../cost/mod.ts";
import {
  isReadable,
  type PackState,
  surveyPacks,
  type SurveyTotals,
  totals,
} from "../cold/pack_survey.ts";
import { planRestore, type RestorePlan } from "../ops/restore_plan.ts";
import { layout } from "../repository/layout.ts";
import type { Repository } from "../repository/repository.ts";
import { archiveClasses, type RestoreTier } from "../storage/storage.ts";
import { surveyName } from "../cold/mirror_objects.ts";
import { type PricingOptions, type RepoPricing, repoPricing } from "./pricing.ts";
import {
  type ObjectRead,
  priceReads,
  type ReadEstimate,
  type ReadEstimateReport,
  readEstimateReport,
} from "./read_estimate.ts";

/** Which restore: a snapshot (`latest`, an id or a prefix) and a path in it. */
export interface RestoreTarget {
  snapshot: string;
  /** Default "/": everything. */
  path?: string;
}

/** A planned restore: what to write, the packs to read, and their cold states now. */
export interface RestorePreview {
  plan: RestorePlan;
  /** Object names of the data packs (metadata packs are read from their hot copies). */
  coldPacks: string[];
  /** The survey of `coldPacks`. */
  states: PackState[];
}

/** The numbers of a preview, as data. */
export interface RestoreSummary {
  snapshot: string;
  path: string;
  files: number;
  dirs: number;
  bytes: number;
  packs: number;
  packBytes: number;
  readBytes: number;
  cold: SurveyTotals;
}

/** Plans restoring `target` of `repo` and surveys the packs it reads. */
export async function prepareRestore(
  repo: Repository,
  target: RestoreTarget,
): Promise<RestorePreview> {
  const snap = await repo.snapshot(target.snapshot);
  const plan = await planRestore(repo, snap.id, snap.manifest.root, target.path ?? "/");
  const coldPacks = plan.packs.filter((p) => !p.metadata).map((p) => layout.pack(p.pack));
  // Mirrored files' objects in an archive class are thawed like packs (`mirror_objects.ts`).
  const mirrored = plan.entries.flatMap((e) =>
    e.node.mirror && archiveClasses.has(e.node.mirror.class) ? [surveyName(e.node.mirror)] : []
  );
  coldPacks.push(...new Set(mirrored));
  return { plan, coldPacks, states: await surveyPacks(repo.storage, coldPacks) };
}

/** Whether some pack must be restored from cold storage before the restore can read it. */
export function needsThaw(preview: RestorePreview): boolean {
  return !preview.states.every(isReadable);
}

/** The preview's numbers. */
export function summarize(preview: RestorePreview): RestoreSummary {
  const { plan } = preview;
  return {
    snapshot: plan.snapshot,
    path: plan.path,
    files: plan.files,
    dirs: plan.dirs,
    bytes: plan.bytes,
    packs: plan.packs.length,
    packBytes: plan.packBytes,
    readBytes: plan.readBytes,
    cold: totals(preview.states),
  };
}

/** How a restore is priced: the tier and destination chosen, and days copies are kept. */
export interface RestoreChoice {
  /** The tier asked for; an `InvalidRequest` when the packs' classes do not offer it. */
  tier?: RestoreTier;
  /**
   * The tier when none is asked for (a resumed job's own) and the classes offer it; else as
   * without it: standard, else the classes' cheapest tier.
   */
  fallback?: RestoreTier;
  /** Default internet. */
  to?: Destination;
  /** Days restored copies are kept (default 3). */
  days?: number;
}

/** Days restored copies are kept unless asked otherwise. */
export const DEFAULT_RESTORE_DAYS = 3;

/** The tier a restore uses unless asked otherwise. */
export const DEFAULT_RESTORE_TIER: RestoreTier = "standard";

/** A priced restore: every alternative, the chosen one, the notes that go with them. */
export interface RestoreEstimate extends ReadEstimate {
  summary: RestoreSummary;
  notes: string[];
  pricing: RepoPricing;
}

/** Prices `preview` with `pricing`: every tier, to the internet and in the region. */
export function priceRestore(
  preview: RestorePreview,
  pricing: RepoPricing,
  choice: RestoreChoice = {},
): RestoreEstimate {
  const reads = priceReads(pricing, objectsRead(preview, pricing), {
    days: choice.days ?? DEFAULT_RESTORE_DAYS,
    tier: choice.tier,
    fallback: DEFAULT_RESTORE_TIER,
    to: choice.to,
  });
  const to = choice.to ?? "internet";
  const own = choice.tier === undefined && choice.fallback !== undefined
    ? reads.alternatives.find((a) => a.tier === choice.fallback && a.to === to)
    : undefined;
  return {
    ...reads,
    chosen: own ?? reads.chosen,
    summary: summarize(preview),
    notes: [
      "one GET per frame read; metadata packs are read from their hot copies",
      ...(pricing.note ? [pricing.note] : []),
    ],
    pricing,
  };
}

/** The report of an estimate (what `restore --estimate --json` prints, the web view shows). */
export type RestoreEstimateReport = ReadEstimateReport<RestoreSummary>;

/** The estimate as data. */
export function restoreEstimateReport(e: RestoreEstimate): RestoreEstimateReport {
  return readEstimateReport(e, e.summary, e.notes);
}

/**
 * Plans and prices restoring `target` of `repo` (`estimateRestore(repo, {snapshot, path},
 * {tier, to, region})`); `region` overrides the store's own (see `pricing.ts`).
 */
export async function estimateRestore(
  repo: Repository,
  target: RestoreTarget,
  options: RestoreChoice & PricingOptions = {},
): Promise<RestoreEstimate> {
  const preview = await prepareRestore(repo, target);
  return priceRestore(preview, repoPricing(repo, options), options);
}

/**
 * The objects a restore reads (docs/cost-model.md §10.2): its data packs as the survey found
 * them (as if archived in the cold class when the store reports no classes), its metadata packs
 * from their STANDARD hot copies; one ranged GET per frame.
 */
function objectsRead(preview: RestorePreview, pricing: RepoPricing): ObjectRead[] {
  const byName = new Map(preview.states.map((s) => [s.name, s]));
  const coldArchived = pricing.table.rules.classes[pricing.coldClass].archived;
  return preview.plan.packs.map((p): ObjectRead => {
    const gets = p.frames.length;
    const readBytes = p.frames.reduce((sum, f) => sum + f.frameLength, 0);
    if (p.metadata) {
      return { storageClass: "STANDARD", bytes: p.length, archived: false, gets, readBytes };
    }
    if (pricing.asIfS3) {
      return {
        storageClass: pricing.coldClass,
        bytes: p.length,
        archived: coldArchived,
        gets,
        readBytes,
      };
    }
    const s = byName.get(layout.pack(p.pack))!;
    return {
      storageClass: s.storageClass,
      bytes: s.bytes,
      archived: s.availability.state === "archived",
      gets,
      readBytes,
    };
  }).concat(mirroredRead(preview));
}

/**
 * The mirrored files' objects in archive classes (`mirror_objects.ts`), each read whole in
 * 8 MiB ranges (`restore_mirror.ts`) once thawed.
 */
function mirroredRead(preview: RestorePreview): ObjectRead[] {
  const packs = new Set(preview.plan.packs.map((p) => layout.pack(p.pack)));
  return preview.states.filter((s) => !packs.has(s.name)).map((s) => ({
    storageClass: s.storageClass,
    bytes: s.bytes,
    archived: s.availability.state === "archived",
    gets: Math.max(1, Math.ceil(s.bytes / (8 << 20))),
    readBytes: s.bytes,
  }));
}
