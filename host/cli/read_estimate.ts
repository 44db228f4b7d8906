/**
 * `--estimate` for commands that read packs (`restore`, `check --read-data`), as people read
 * it: the alternatives side by side with the chosen one itemised; and `--to`. The pricing
 * itself is host/workflows/read_estimate.ts.
 *
 * @module
 */

import type { Destination, Estimate, ReadAlternative } from "../cost/mod.ts";
import type { ReadEstimate } from "../workflows/read_estimate.ts";
import type { RepoPricing } from "../workflows/pricing.ts";
import { type Context, UsageError } from "./context.ts";
import { hoursText, render, usd } from "./estimate_render.ts";

/** `--to`, checked: internet (the default) or region. */
export function destinationFlag(ctx: Context): Destination {
  const to = ctx.string("to") ?? "internet";
  if (to !== "internet" && to !== "region") {
    throw new UsageError(`--to is "internet" or "region", not "${to}"`);
  }
  return to;
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
