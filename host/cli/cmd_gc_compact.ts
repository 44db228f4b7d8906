/**
 * `gc compact [--all] [--horizon MONTHS] [--to internet|region] [--tier T] [--days N] [--wait]
 * [--poll S] [--estimate | --dry-run] [--budget USD] [--yes] [--emit-job ecs|batch]`: admin
 * only (docs/cli/gc.txt). The CLI side of host/workflows/compact.ts, which plans (mark,
 * break-even per pack, estimate at home and in the region), goes through the cost gate, thaws
 * the data packs to repack, then copies their live blobs into new packs and supersedes the old
 * ones: this parses the flags, prints the plan, the gate's question and the lines of the thaw,
 * and while the packs are being restored exits with status 4 and the command to run again.
 * Deletes nothing: `gc purge` does, later.
 *
 * @module
 */

import { totals } from "../cold/pack_survey.ts";
import type { CompactPlan } from "../ops/gc_compact.ts";
import type { CompactResult } from "../ops/gc_compact_execute.ts";
import {
  type CompactChoice,
  compactDefaults,
  compactionReport,
  type CompactOutcome,
  estimateCompaction,
  runCompaction,
} from "../workflows/compact.ts";
import type { RepoPricing } from "../workflows/pricing.ts";
import { bytes, type Context, jsonOption, plural, repoOptions, UsageError } from "./context.ts";
import { approveCost, costGateOptions } from "./confirm.ts";
import { noteUnbilledBudget } from "./budget_note.ts";
import { commandLine, emitJobSpec, jobOptions } from "./job_flags.ts";
import { inRegionOptions, runInRegion } from "./in_region.ts";
import { refuseLaunchFlags } from "./in_region_ec2.ts";
import { render, usd } from "./estimate_render.ts";
import { displayOnFirstEvent, progressMode } from "./progress.ts";
import type { OptionTable } from "./options.ts";
import { cliPricing, regionOption } from "./pricing.ts";
import {
  restoresRequested,
  type ThawFlags,
  thawFlags,
  thawOptions,
  thawWait,
  WAITING,
  withTierFlag,
} from "./thaw_flags.ts";

export const gcCompactOptions = {
  ...repoOptions,
  ...jsonOption,
  ...thawOptions,
  ...costGateOptions,
  ...regionOption,
  ...jobOptions,
  ...inRegionOptions,
  all: { type: "boolean" },
  horizon: { type: "string" },
  to: { type: "string" },
  "accept-early-fee": { type: "boolean" },
  estimate: { type: "boolean" },
  "dry-run": { type: "boolean" },
} as const satisfies OptionTable;

/** The flags: the workflow's choice, and `--poll`/`--wait`. */
type Options = CompactChoice & ThawFlags;

export async function cmdGcCompact(ctx: Context): Promise<number> {
  if (ctx.positionals.length > 0) {
    throw new UsageError(`unexpected argument "${ctx.positionals[0]}"`);
  }
  refuseLaunchFlags(ctx);
  const options = parseOptions(ctx);
  const location = ctx.requireRepo();
  const repo = await ctx.open(location);
  try {
    const pricing = cliPricing(ctx, repo, location);
    noteUnbilledBudget(ctx, pricing, location, false);
    const plan = await withTierFlag(() => estimateCompaction(repo, { ...options, pricing }));
    const notes = pricing.note ? [pricing.note] : [];
    if (ctx.bool("in-region")) {
      const chosen = plan.repack.map((c) => c.pack);
      return await runInRegion(ctx, ["gc", ...commandLine("compact", ctx)], {
        bytes: chosen.reduce((sum, p) => sum + p.bytes, 0),
        disk: { blobs: plan.mark.blobs.live + plan.mark.blobs.dead },
        estimateAt: (where) => where === "internet" ? plan.atHome : plan.inRegion,
      });
    }
    if (ctx.string("emit-job") !== undefined) {
      const chosen = plan.repack.map((c) => c.pack);
      return emitJobSpec(ctx, ["gc", ...commandLine("compact", ctx)], {
        bytes: chosen.reduce((sum, p) => sum + p.bytes, 0),
        disk: { blobs: plan.mark.blobs.live + plan.mark.blobs.dead },
        estimateAt: (where) => where === "internet" ? plan.atHome : plan.inRegion,
      });
    }
    const shown = () => planText(plan, options.horizonMonths, pricing.table, notes);
    if (ctx.bool("estimate") || ctx.bool("dry-run")) {
      const report = { ...compactionReport(plan), horizon_months: options.horizonMonths, notes };
      ctx.print(report, shown);
      return 0;
    }
    const progress = displayOnFirstEvent("compact", progressMode(ctx.json));
    const outcome = await withTierFlag(() =>
      runCompaction(repo, plan, {
        ...options,
        pricing,
        onProgress: progress.onProgress,
        approve: async () => {
          await approveCost(ctx, plan.estimate, { action: "gc compact", shown, threshold: true });
          return true;
        },
        onApproved: () => {
          if (!ctx.json) console.error(shown());
        },
        onRequested: ({ states, sent }) => {
          if (ctx.json) return;
          console.error(
            `${restoresRequested(sent, options.tier, options.days)}; ` +
              `${totals(states).restoring.packs} already being restored`,
          );
        },
        wait: thawWait(ctx, options, options.tier),
      })
    ).finally(progress.done);
    return printOutcome(ctx, plan, outcome, { options, pricing, shown });
  } finally {
    await repo.storage.close();
  }
}

/** `--all`, `--horizon`, `--to`, `--accept-early-fee` and the thaw flags, with the defaults. */
function parseOptions(ctx: Context): Options {
  const horizon = ctx.string("horizon");
  const horizonMonths = horizon === undefined ? compactDefaults.horizonMonths : Number(horizon);
  if (!(horizonMonths > 0) || !Number.isFinite(horizonMonths)) {
    throw new UsageError(`--horizon is a number of months above 0, not "${horizon}"`);
  }
  const to = ctx.string("to") ?? compactDefaults.to;
  if (to !== "internet" && to !== "region") {
    throw new UsageError(`--to is "internet" or "region", not "${to}"`);
  }
  return {
    ...thawFlags(ctx, { tier: compactDefaults.tier, days: compactDefaults.days }),
    all: ctx.bool("all"),
    horizonMonths,
    to,
    acceptEarlyFee: ctx.bool("accept-early-fee"),
  };
}

/** How the run ended: 0 when compacted or nothing to do, 4 while packs thaw, 1 when declined. */
function printOutcome(
  ctx: Context,
  plan: CompactPlan,
  outcome: CompactOutcome,
  run: { options: Options; pricing: RepoPricing; shown: () => string },
): number {
  switch (outcome.status) {
    case "nothing":
      ctx.print(
        { ...compactionReport(plan), compacted: false },
        () => `${run.shown()}\nnothing to compact`,
      );
      return 0;
    case "declined":
      return 1;
    case "waiting": {
      const { tier, days } = run.options;
      const rerun = rerunCommand(ctx, run.options, run.pricing);
      ctx.print(
        { waiting: true, requested: outcome.sent, tier, days, rerun },
        () =>
          `packs are being restored from cold storage; run \`${rerun}\` again later ` +
          "(add --wait to wait for them)",
      );
      return WAITING;
    }
    case "compacted":
      ctx.print(
        { ...compactionReport(plan), result: outcome.result },
        () => resultText(outcome.result),
      );
      return 0;
  }
}

/**
 * The command to run again while the packs thaw: the flags given that decide which packs are
 * repacked (`--all`, `--horizon`, `--to`, `--accept-early-fee`, `--region`: the break-even's
 * inputs) and how they are restored (`--tier`, `--days`), so that the rerun plans the same
 * packs and asks at the same tier; without `--wait`, `--json` and the gate's flags.
 */
function rerunCommand(ctx: Context, options: Options, pricing: RepoPricing): string {
  const given = (flag: string) => ctx.string(flag) !== undefined;
  return [
    "permafrost gc compact",
    ...(options.all ? ["--all"] : []),
    ...(given("horizon") ? [`--horizon ${options.horizonMonths}`] : []),
    ...(given("to") ? [`--to ${options.to}`] : []),
    ...(options.acceptEarlyFee ? ["--accept-early-fee"] : []),
    ...(given("region") ? [`--region ${pricing.table.region}`] : []),
    ...(given("tier") ? [`--tier ${options.tier}`] : []),
    ...(given("days") ? [`--days ${options.days}`] : []),
  ].join(" ");
}

function resultText(result: CompactResult): string {
  return `copied ${plural(result.copiedBlobs, "live blob")} (${bytes(result.copiedBytes)}) into ` +
    `${plural(result.newPacks, "new pack")} (${bytes(result.newBytes)}); retired ` +
    `${plural(result.retired, "pack")}. ` +
    "Nothing was deleted: `permafrost gc purge` deletes retired packs once they " +
    "are past the grace period and their minimum storage duration";
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
