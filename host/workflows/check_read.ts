/**
 * The price of `check --read-data`: reading every indexed pack whole (docs/cost-model.md
 * §10.3). Plan ({@link planReadData}: the packs, and one `stat` per pack unless the store
 * reports no classes), then price ({@link priceReadData}); {@link estimateReadData} is both in
 * one call. The check itself requests no restores: an archived pack is reported unreadable, and
 * the restore lines of the estimate say what reading it would take.
 *
 * @module
 */

import { type PackState, surveyPacks } from "../cold/pack_survey.ts";
import type { PackInfo } from "../repository/repo_index.ts";
import { layout } from "../repository/layout.ts";
import type { Repository } from "../repository/repository.ts";
import { type PricingOptions, type RepoPricing, repoPricing } from "./pricing.ts";
import {
  type ObjectRead,
  priceReads,
  type ReadChoice,
  type ReadEstimate,
  type ReadEstimateReport,
  readEstimateReport,
} from "./read_estimate.ts";

/** Days restored copies are kept (and priced) unless asked otherwise: a check reads at once. */
export const CHECK_DAYS = 1;

/** Every indexed pack, and what the store says of each (none surveyed when it reports none). */
export interface ReadDataPlan {
  packs: PackInfo[];
  /** By pack id; empty when the pricing takes every pack as archived (`asIfS3`). */
  states: Map<string, PackState>;
}

/** Lists the indexed packs and, unless `pricing.asIfS3`, surveys each one. */
export async function planReadData(
  repo: Repository,
  pricing: RepoPricing,
): Promise<ReadDataPlan> {
  await repo.loadIndex();
  const packs = [...repo.index.packs()];
  const states = pricing.asIfS3
    ? []
    : await surveyPacks(repo.storage, packs.map((p) => layout.pack(p.id)));
  return { packs, states: new Map(states.map((s, i) => [packs[i].id, s])) };
}

/** The numbers of the reads, as data. */
export interface ReadDataSummary {
  packs: number;
  metadata_packs: number;
  /** Objects read: each pack's cold copy, and a metadata pack's hot copy as well. */
  objects: number;
  bytes: number;
}

/** A priced `check --read-data`: every alternative, the chosen one, the numbers and notes. */
export interface ReadDataEstimate extends ReadEstimate {
  objects: ObjectRead[];
  summary: ReadDataSummary;
  notes: string[];
  pricing: RepoPricing;
}

/** Prices reading `plan`'s packs whole; `choice.days` defaults to {@link CHECK_DAYS}. */
export function priceReadData(
  plan: ReadDataPlan,
  pricing: RepoPricing,
  choice: Partial<ReadChoice> = {},
): ReadDataEstimate {
  const days = choice.days ?? CHECK_DAYS;
  const objects = wholePackReads(plan.packs, pricing, (p) => plan.states.get(p.id));
  const summary = {
    packs: plan.packs.length,
    metadata_packs: plan.packs.filter((p) => p.metadata).length,
    objects: objects.length,
    bytes: objects.reduce((sum, o) => sum + o.readBytes, 0),
  };
  const notes = [
    ...(objects.some((o) => o.archived)
      ? [
        "check --read-data does not request restores itself (it reports archived packs as " +
        "unreadable): the restore lines are what reading them would take; " +
        "--read-data-subset restores the packs it samples",
      ]
      : []),
    `restored copies are priced for ${days} day${days === 1 ? "" : "s"} (--days)`,
    ...(pricing.note ? [pricing.note] : []),
  ];
  return {
    ...priceReads(pricing, objects, { ...choice, days }),
    objects,
    summary,
    notes,
    pricing,
  };
}

/**
 * Plans and prices reading every pack of `repo` whole (`estimateReadData(repo, {tier, to,
 * region})`); `region` overrides the store's own (see `pricing.ts`).
 */
export async function estimateReadData(
  repo: Repository,
  options: Partial<ReadChoice> & PricingOptions = {},
): Promise<ReadDataEstimate> {
  const pricing = repoPricing(repo, options);
  return priceReadData(await planReadData(repo, pricing), pricing, options);
}

/** The estimate as data (what `check --read-data --estimate --json` prints). */
export function readDataEstimateReport(e: ReadDataEstimate): ReadEstimateReport<ReadDataSummary> {
  return readEstimateReport(e, e.summary, e.notes);
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
