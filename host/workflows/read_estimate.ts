/**
 * The price of reading packs (`restore`, `check --read-data`): the objects read, grouped by
 * class, priced for every restore tier the classes offer, each to the internet and to a job in
 * the region (docs/cost-model.md §10.2), with the alternative the caller chose.
 *
 * @module
 */

import {
  compareReads,
  type Destination,
  type Estimate,
  type PackGroup,
  type ReadAlternative,
} from "../cost/mod.ts";
import type { RestoreTier, StorageClass } from "../storage/storage.ts";
import { InvalidRequest } from "./invalid_request.ts";
import type { RepoPricing } from "./pricing.ts";

/** One object a command reads. */
export interface ObjectRead {
  storageClass: StorageClass;
  bytes: number;
  /** Archived now: must be restored before it can be read. */
  archived: boolean;
  /** GET requests: 1 for a whole object, one per range. */
  gets: number;
  readBytes: number;
}

/** Every alternative, and the one the caller would run. */
export interface ReadEstimate {
  alternatives: ReadAlternative[];
  chosen: ReadAlternative;
}

/** Which alternative is chosen, and how long restored copies are kept. */
export interface ReadChoice {
  /** Days restored copies are kept. */
  days: number;
  /** The tier asked for; {@link InvalidRequest} when the classes do not offer it. */
  tier?: RestoreTier;
  /** The tier when none is asked for and the classes offer it (else their cheapest). */
  fallback?: RestoreTier;
  /** Where the data goes; default internet. */
  to?: Destination;
}

/** Prices `objects` read and picks the chosen alternative (`choice`). */
export function priceReads(
  pricing: RepoPricing,
  objects: ObjectRead[],
  choice: ReadChoice,
): ReadEstimate {
  const alternatives = compareReads(
    { groups: groupsOf(objects), days: choice.days },
    pricing.table,
  );
  const tiers = [...new Set(alternatives.map((a) => a.tier))];
  const given = choice.tier;
  if (given !== undefined && tiers[0] !== undefined && !tiers.includes(given)) {
    throw new InvalidRequest(
      `the packs to read offer no "${given}" restore tier; they offer: ${tiers.join(", ")}`,
    );
  }
  const fallback = choice.fallback ?? "standard";
  const tier = tiers[0] === undefined
    ? undefined
    : given ?? (tiers.includes(fallback) ? fallback : tiers[0]);
  const to = choice.to ?? "internet";
  const chosen = alternatives.find((a) => a.tier === tier && a.to === to)!;
  return { alternatives, chosen };
}

/** Objects summed per class. */
export function groupsOf(objects: ObjectRead[]): PackGroup[] {
  const groups = new Map<StorageClass, PackGroup>();
  for (const o of objects) {
    const g = groups.get(o.storageClass) ?? {
      storageClass: o.storageClass,
      archived: { objects: 0, bytes: 0 },
      gets: 0,
      readBytes: 0,
    };
    if (o.archived) {
      g.archived.objects++;
      g.archived.bytes += o.bytes;
    }
    g.gets += o.gets;
    g.readBytes += o.readBytes;
    groups.set(o.storageClass, g);
  }
  return [...groups.values()];
}

/** One alternative as reported: its tier (null: nothing to restore), where to, its estimate. */
export type AlternativeReport = Estimate & { tier: RestoreTier | null; to: Destination };

/** A read estimate as data (what `--estimate --json` prints and the web view shows). */
export type ReadEstimateReport<Plan> = AlternativeReport & {
  alternatives: AlternativeReport[];
  plan: Plan;
  notes: string[];
};

/** The report: the chosen estimate's fields, then every alternative, the plan and notes. */
export function readEstimateReport<Plan>(
  r: ReadEstimate,
  plan: Plan,
  notes: string[],
): ReadEstimateReport<Plan> {
  const brief = (a: ReadAlternative): AlternativeReport => ({
    tier: a.tier ?? null,
    to: a.to,
    ...a.estimate,
  });
  return {
    ...r.chosen.estimate,
    tier: r.chosen.tier ?? null,
    to: r.chosen.to,
    alternatives: r.alternatives.map(brief),
    plan,
    notes,
  };
}
