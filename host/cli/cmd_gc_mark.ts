/**
 * `gc mark [--threshold PCT] [--region R] [--json]`: admin only. Marks the repository
 * (`host/ops/gc_mark.ts`), saves the report for `cost` and the web view
 * (`host/ops/gc_mark_store.ts`), prices the dead data with the repository's bill
 * (`host/ops/repository_bill.ts`) and says whether compacting is worth it.
 *
 * @module
 */

import { assertAdmin, proveDeleteAllowed } from "../ops/admin_gate.ts";
import {
  DEFAULT_THRESHOLD_PCT,
  markRepository,
  type PackUsage,
  recommend,
  type SavedMark,
  type TierUsage,
  withoutLive,
} from "../ops/gc_mark.ts";
import { saveMark } from "../ops/gc_mark_store.ts";
import { type RepositoryBill, repositoryBill } from "../ops/repository_bill.ts";
import { deadDataText } from "./cmd_cost.ts";
import { bytes, type Context, jsonOption, plural, repoOptions, UsageError } from "./context.ts";
import { usd } from "./estimate_render.ts";
import type { OptionTable } from "./options.ts";
import { cliPricing, regionOption } from "./pricing.ts";

/** It reads hot objects and writes nothing in the repository: no dry run. */
export const gcMarkOptions = {
  ...repoOptions,
  ...jsonOption,
  ...regionOption,
  threshold: { type: "string" },
} as const satisfies OptionTable;

/** Packs listed in the human output, most dead bytes first. */
const TOP_PACKS = 10;

export async function cmdGcMark(ctx: Context): Promise<number> {
  if (ctx.positionals.length > 0) {
    throw new UsageError(`unexpected argument "${ctx.positionals[0]}"`);
  }
  const threshold = thresholdFlag(ctx);
  const location = ctx.requireRepo();
  const repo = await ctx.open(location);
  try {
    assertAdmin(repo, "gc mark"); // before anything is listed
    await proveDeleteAllowed(repo, "gc mark");
    const pricing = cliPricing(ctx, repo, location);
    const progress = !ctx.json && Deno.stderr.isTerminal();
    const report = await markRepository(repo, {
      onProgress: progress
        ? (p) => write(`\rmarking: ${p.snapshots}/${p.of} snapshots, ${p.trees} trees`)
        : undefined,
    });
    if (progress) write("\r\x1b[K");
    const saved = withoutLive(report);
    const bill = await repositoryBill(repo, pricing, new Date(report.time), saved);
    const recommendation = recommend(bill.dead_data.share, threshold);
    // Kept with its verdict, which the next backup reads to say when compaction is due.
    const path = saveMark({
      ...saved,
      verdict: {
        share: bill.dead_data.share,
        thresholdPct: threshold,
        compact: recommendation.compact,
      },
    });
    ctx.print(
      {
        ...saved,
        dead_data: bill.dead_data,
        recurring_usd: bill.recurring_usd,
        prices: bill.prices,
        threshold_pct: threshold,
        recommendation,
        saved_to: path,
        notes: pricing.note ? [pricing.note] : [],
      },
      () => markText(location, saved, bill, recommendation.reason, path),
    );
    return 0;
  } finally {
    await repo.storage.close();
  }
}

/** `--threshold PCT`: a percentage from 0 to 100 (`20`, `12.5`, `20%`), default 20. */
function thresholdFlag(ctx: Context): number {
  const text = ctx.string("threshold");
  if (text === undefined) return DEFAULT_THRESHOLD_PCT;
  const m = /^(\d+(?:\.\d+)?)%?$/.exec(text.trim());
  const pct = m ? Number(m[1]) : NaN;
  if (!(pct >= 0 && pct <= 100)) {
    throw new UsageError(`--threshold is a percentage from 0 to 100 (like 20), not "${text}"`);
  }
  return pct;
}

function markText(
  location: string,
  mark: SavedMark,
  bill: RepositoryBill,
  recommendation: string,
  path: string,
): string {
  const b = mark.blobs;
  const lines = [
    `marked ${location}: ${plural(mark.snapshots, "snapshot")}; ${
      plural(b.live, "blob copy", "blob copies")
    } in the packs ` +
    `are live, ${b.dead} dead`,
    "",
    `${"tier".padEnd(6)}${"packs".padStart(7)}${"live".padStart(12)}${"dead".padStart(12)}  ` +
    "orphans",
    tierRow("cold", mark.tiers.cold),
    tierRow("hot", mark.tiers.hot),
    "",
    `dead data: ${deadDataText(bill.dead_data)}`,
    `monthly bill: ${usd(bill.recurring_usd)} (prices: ${bill.prices.region}, ${bill.prices.date})`,
    `recommendation: ${recommendation}`,
  ];
  const top = mark.packs.filter((p) => p.deadBytes > 0).slice(0, TOP_PACKS);
  if (top.length > 0) {
    lines.push("", "packs with the most dead bytes:");
    for (const p of top) lines.push(packRow(p));
    const more = mark.packs.filter((p) => p.deadBytes > 0).length - top.length;
    if (more > 0) lines.push(`  ... and ${more} more (--json lists every pack)`);
  }
  if (mark.orphans.length > 0) {
    lines.push("", "packs outside the index (dead; `gc purge` deletes them):");
    for (const o of mark.orphans) {
      lines.push(
        `  ${o.name}  ${o.reason}  ${bytes(o.bytes)}${o.modified ? `  ${o.modified}` : ""}`,
      );
    }
  }
  if (b.missing > 0) {
    lines.push(
      "",
      `warning: ${
        plural(b.missing, "blob")
      } the snapshots need are in no pack the index names; run ` +
        "`permafrost check`",
    );
  }
  for (const n of bill.notes.filter((n) => n.includes("not on S3"))) lines.push(`note: ${n}`);
  lines.push(`saved to ${path}`);
  return lines.join("\n");
}

function tierRow(name: string, t: TierUsage): string {
  return `${name.padEnd(6)}${String(t.packs).padStart(7)}${bytes(t.liveBytes).padStart(12)}` +
    `${bytes(t.deadBytes).padStart(12)}  ${t.orphans} (${bytes(t.orphanBytes)})`;
}

function packRow(p: PackUsage): string {
  const pct = p.length > 0 ? ` (${(100 * p.deadBytes / p.length).toFixed(0)}%)` : "";
  return `  ${p.id.slice(0, 8)}  ${p.metadata ? "metadata" : "data    "}  ${
    bytes(p.length).padStart(10)
  }  dead ${bytes(p.deadBytes).padStart(10)}${pct}, ${p.liveBlobs} live / ${
    plural(p.deadBlobs, "dead blob")
  }`;
}

function write(text: string): void {
  Deno.stderr.writeSync(new TextEncoder().encode(text));
}
