/**
 * `--estimate` for commands that read packs (`restore`, `check --read-data`): the packs they
 * need, grouped by class, priced for every restore tier the classes offer, each to the
 * internet and to a job in the region (docs/cost-model.md §10.2), and printed side by side
 * with the chosen alternative itemised.
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
import { type Context, UsageError } from "./context.ts";
import { hoursText, render, usd } from "./estimate_render.ts";
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

/** Every alternative, and the one the command would run (`--tier`, `--to`). */
export interface ReadEstimate {
  alternatives: ReadAlternative[];
  chosen: ReadAlternative;
}

/**
 * Prices `objects` read with restored copies kept `days`. The chosen alternative is `--tier`
 * (else `fallback` when the classes offer it, else the cheapest tier) and `--to` (default
 * internet); a `--tier` the classes do not offer is a usage error.
 */
export function priceReads(
  ctx: Context,
  pricing: RepoPricing,
  objects: ObjectRead[],
  days: number,
  fallback: RestoreTier = "standard",
): ReadEstimate {
  const alternatives = compareReads({ groups: groupsOf(objects), days }, pricing.table);
  const tiers = [...new Set(alternatives.map((a) => a.tier))];
  const given = ctx.string("tier") as RestoreTier | undefined;
  if (given !== undefined && tiers[0] !== undefined && !tiers.includes(given)) {
    throw new UsageError(
      `the packs to read offer no "${given}" restore tier; they offer: ${tiers.join(", ")}`,
    );
  }
  const tier = tiers[0] === undefined
    ? undefined
    : given ?? (tiers.includes(fallback) ? fallback : tiers[0]);
  const to = ctx.string("to") ?? "internet";
  if (to !== "internet" && to !== "region") {
    throw new UsageError(`--to is "internet" or "region", not "${to}"`);
  }
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

/** The JSON: the chosen estimate's fields, then every alternative, the plan and notes. */
export function readEstimateJson(r: ReadEstimate, plan: unknown, notes: string[]) {
  const brief = (a: ReadAlternative) => ({ tier: a.tier ?? null, to: a.to, ...a.estimate });
  return {
    ...r.chosen.estimate,
    tier: r.chosen.tier ?? null,
    to: r.chosen.to,
    alternatives: r.alternatives.map(brief),
    plan,
    notes,
  };
}

/** The text: the alternatives side by side, then the chosen one itemised, then the notes. */
export function readEstimateText(
  title: string,
  r: ReadEstimate,
  pricing: RepoPricing,
  notes: string[],
): string {
  const name = (a: ReadAlternative) =>
    `${a.tier ? `${a.tier}, ` : ""}${where(a.to, pricing)}${a === r.chosen ? " (chosen)" : ""}`;
  const rows = r.alternatives.map((a) => [name(a), usd(a.estimate.total_usd), time(a.estimate)]);
  const header = ["alternative", "usd", "time"];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => c === 1 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))
      .join("  ").trimEnd();
  return [
    `estimate: ${title}`,
    "",
    line(header),
    ...rows.map(line),
    "",
    render(
      `${title}, ${name(r.chosen).replace(" (chosen)", "")}`,
      r.chosen.estimate,
      pricing.table,
    ),
    ...notes.map((n) => `note: ${n}`),
  ].join("\n");
}

function where(to: Destination, pricing: RepoPricing): string {
  return to === "internet"
    ? "download to a machine outside AWS"
    : `read by a job in ${pricing.table.region}`;
}

function time(e: Estimate): string {
  return hoursText(e.hours);
}
