/**
 * `gc compact [--all] [--horizon MONTHS] [--to internet|region] [--tier T] [--days N] [--wait]
 * [--poll S] [--estimate | --dry-run] [--budget USD] [--yes] [--emit-job ecs|batch]`: admin
 * only. Plans (host/ops/gc_compact.ts: mark, break-even per pack, estimate at home and in the
 * region), goes through the cost gate, thaws the data packs to repack (exit status 4 while they
 * are being restored: run it again), then copies their live blobs into new packs and supersedes
 * the old ones (host/ops/gc_compact_execute.ts). Deletes nothing: `gc purge` does, later.
 *
 * @module
 */

import { defaultHorizonMonths } from "../cost/compact_cost.ts";
import type { Destination } from "../cost/egress.ts";
import { assertAdmin, proveDeleteAllowed } from "../ops/admin_gate.ts";
import { type CompactPlan, compactWork, planCompact } from "../ops/gc_compact.ts";
import { executeCompact } from "../ops/gc_compact_execute.ts";
import { bytes, type Context, jsonOption, plural, repoOptions, UsageError } from "./context.ts";
import { approveCost, costGateOptions } from "./confirm.ts";
import { noteUnbilledBudget } from "./budget_note.ts";
import { commandLine, emitJobSpec, jobOptions } from "./job_flags.ts";
import { render, usd } from "./estimate_render.ts";
import type { OptionTable } from "./options.ts";
import { cliPricing, regionOption } from "./pricing.ts";
import { thawFlags, thawOptions, thawPacks, WAITING } from "./thaw_flags.ts";

export const gcCompactOptions = {
  ...repoOptions,
  ...jsonOption,
  ...thawOptions,
  ...costGateOptions,
  ...regionOption,
  ...jobOptions,
  all: { type: "boolean" },
  horizon: { type: "string" },
  to: { type: "string" },
  "accept-early-fee": { type: "boolean" },
  estimate: { type: "boolean" },
  "dry-run": { type: "boolean" },
} as const satisfies OptionTable;

export async function cmdGcCompact(ctx: Context): Promise<number> {
  if (ctx.positionals.length > 0) {
    throw new UsageError(`unexpected argument "${ctx.positionals[0]}"`);
  }
  const horizon = ctx.string("horizon");
  const horizonMonths = horizon === undefined ? defaultHorizonMonths : Number(horizon);
  if (!(horizonMonths > 0) || !Number.isFinite(horizonMonths)) {
    throw new UsageError(`--horizon is a number of months above 0, not "${horizon}"`);
  }
  const to = (ctx.string("to") ?? "internet") as Destination;
  if (to !== "internet" && to !== "region") {
    throw new UsageError(`--to is "internet" or "region", not "${to}"`);
  }
  const flags = thawFlags(ctx, { tier: "bulk", days: 3 });
  const location = ctx.requireRepo();
  const repo = await ctx.open(location);
  try {
    assertAdmin(repo, "gc compact"); // before anything is listed
    await proveDeleteAllowed(repo, "gc compact");
    const pricing = cliPricing(ctx, repo, location);
    noteUnbilledBudget(ctx, pricing, location, false);
    const plan = await planCompact(repo, {
      table: pricing.table,
      to,
      horizonMonths,
      tier: flags.tier,
      days: flags.days,
      acceptEarlyFee: ctx.bool("accept-early-fee"),
      all: ctx.bool("all"),
    });
    const notes = pricing.note ? [pricing.note] : [];
    if (ctx.string("emit-job") !== undefined) {
      const chosen = plan.repack.map((c) => c.pack);
      return emitJobSpec(ctx, ["gc", ...commandLine("compact", ctx)], {
        bytes: chosen.reduce((sum, p) => sum + p.bytes, 0),
        estimateAt: (where) => where === "internet" ? plan.atHome : plan.inRegion,
      });
    }
    const shown = () => planText(plan, horizonMonths, pricing.table, notes);
    if (ctx.bool("estimate") || ctx.bool("dry-run")) {
      ctx.print({ ...planJson(plan), horizon_months: horizonMonths, notes }, shown);
      return 0;
    }
    if (plan.repack.length + plan.drop.length === 0) {
      ctx.print({ ...planJson(plan), compacted: false }, () => `${shown()}\nnothing to compact`);
      return 0;
    }
    if (!pricing.asIfS3) {
      await approveCost(ctx, plan.estimate, { action: "gc compact", shown, threshold: true });
    }
    if (!ctx.json) console.error(shown());
    const states = await thawPacks(ctx, repo.storage, plan.survey, flags, "permafrost gc compact");
    if (states === "waiting") return WAITING;
    const result = await executeCompact(repo, compactWork(plan));
    ctx.print(
      { ...planJson(plan), result },
      () =>
        `copied ${plural(result.copiedBlobs, "live blob")} (${bytes(result.copiedBytes)}) into ` +
        `${plural(result.newPacks, "new pack")} (${bytes(result.newBytes)}); retired ` +
        `${plural(result.retired, "pack")}. ` +
        "Nothing was deleted: `permafrost gc purge` deletes retired packs once they " +
        "are past the grace period and their minimum storage duration",
    );
    return 0;
  } finally {
    await repo.storage.close();
  }
}

function planJson(plan: CompactPlan) {
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

function planText(
  plan: CompactPlan,
  horizon: number,
  table: Parameters<typeof render>[2],
  notes: string[],
): string {
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const net = sum(plan.repack.map((c) => c.net_usd));
  const lines = [
    `marked ${plural(plan.mark.snapshots, "snapshot")}: ${
      plural(plan.mark.blobs.live, "live blob")
    }, ` +
    `${plan.mark.blobs.dead} dead`,
    `drop:   ${plural(plan.drop.length, "pack")} without live blobs (${
      bytes(sum(plan.drop.map((p) => p.length)))
    }): retired unread, no restore`,
    `repack: ${plural(plan.repack.length, "pack")} (${
      bytes(sum(plan.repack.map((c) => c.pack.bytes)))
    }, ${bytes(sum(plan.repack.map((c) => c.pack.liveBytes)))} live to write again): ` +
    `net saving ${usd(net)} over ${horizon} months`,
    `keep:   ${plural(plan.keep.length, "pack")} with dead bytes that do not pay for a repack yet`,
  ];
  for (const c of plan.repack.slice(0, 10)) {
    lines.push(
      `  ${c.pack.id!.slice(0, 12)}  ${bytes(c.pack.deadBytes)} dead of ${
        bytes(c.pack.bytes)
      }: saves ${usd(c.saving.total_usd)}, costs ${usd(c.cost.total_usd)}`,
    );
  }
  if (plan.repack.length > 0) {
    lines.push("", render("repacking", plan.estimate, table));
    lines.push(
      `at home ${usd(plan.atHome.total_usd)}, by a job in the region ${
        usd(plan.inRegion.total_usd)
      } (--emit-job ecs|batch writes one; docs/in-region.md)`,
    );
  }
  return [...lines, ...notes.map((n) => `note: ${n}`)].join("\n");
}
