import { isReadable, type PackState, totals } from "../cold/pack_survey.ts";
import { describeHours, restoreTimes } from "../cold/restore_times.ts";
import type { Destination } from "../cost/mod.ts";
import { assertAdmin, proveDeleteAllowed } from "../ops/admin_gate.ts";
import type { RebuildResult } from "../ops/rebuild.ts";
import { count, planRebuild, type RebuildPlan } from "../ops/rebuild_plan.ts";
import type { RestoreTier } from "../storage/storage.ts";
import {
  priceRebuild,
  priceRestoring,
  type RebuildAlternative,
  type RebuildEstimate,
  rebuildEstimateReport,
  type RebuildOutcome,
  type RebuildStep,
  runRebuild,
  type RunRebuildOptions,
  summarizeRebuild,
} from "../workflows/rebuild.ts";
import { approveCost, costGateOptions } from "./confirm.ts";
import { commandLine, emitJobSpec, jobOptions } from "./job_flags.ts";
import { inRegionOptions, runInRegion } from "./in_region.ts";
import { refuseLaunchFlags } from "./in_region_ec2.ts";
import { bytes, type Context, jsonOption, repoOptions, UsageError } from "./context.ts";
import { displayOnFirstEvent, progressMode } from "./progress.ts";
import { noteUnbilledBudget } from "./budget_note.ts";
import { hoursText, render, usd } from "./estimate_render.ts";
import type { OptionTable } from "./options.ts";
import { cliPricing, regionOption, type RepoPricing } from "./pricing.ts";
import {
  restoresRequested,
  type ThawFlags,
  thawFlags,
  thawOptions,
  thawWait,
  WAITING,
  withTierFlag,
} from "./thaw_flags.ts";

export const rebuildOptions = {
  ...repoOptions,
  ...jsonOption,
  ...thawOptions,
  ...costGateOptions,
  ...regionOption,
  ...jobOptions,
  ...inRegionOptions,
  to: { type: "string" },
  "dry-run": { type: "boolean" },
  estimate: { type: "boolean" },
} as const satisfies OptionTable;

/** A rebuild is rarely worth paying for speed (docs/cost-model.md §6): bulk unless told. */
const DEFAULT_TIER: RestoreTier = "bulk";

/** The thaw flags (days, unless `--days`, from the bytes to restore) and `--to`. */
interface Options extends ThawFlags<number | undefined> {
  to: Destination;
}

/**
 * `rebuild [--estimate] [--dry-run] [--tier T] [--days N] [--to internet|region] [--wait]
 * [--poll S] [--budget USD] [--yes] [--emit-job ecs|batch]`: the hot tier regenerated from the cold packs alone
 * (docs/format.md §10, docs/cli/rebuild.txt). Admin only. Plans first (which packs hold
 * metadata, from their labels), prices the metadata-only case and the every-pack case, then
 * restores the metadata packs: without `--wait` it exits with status 4 and the command to run
 * again, having written nothing. Data packs that no pack index names are restored only when a
 * snapshot needs them (a second round, also status 4 without `--wait`).
 */
export async function cmdRebuild(ctx: Context): Promise<number> {
  if (ctx.positionals.length > 0) throw new UsageError("rebuild takes no arguments");
  refuseLaunchFlags(ctx);
  const options = parseOptions(ctx);
  const location = ctx.requireRepo();
  const repo = await ctx.open(location);
  try {
    assertAdmin(repo, "rebuild");
    await proveDeleteAllowed(repo, "rebuild");
    const plan = await planRebuild(repo);
    const pricing = cliPricing(ctx, repo, location);
    if (!ctx.bool("estimate")) noteUnbilledBudget(ctx, pricing, location, false);
    if (ctx.string("emit-job") !== undefined) {
      return emitJob(ctx, plan, pricing, options, repo.config.chunker.avg);
    }
    if (ctx.bool("in-region")) {
      return await runInRegion(ctx, commandLine("rebuild", ctx), {
        bytes: count(plan.first).bytes,
        disk: rebuildDisk(plan, repo.config.chunker.avg),
        estimateAt: (to) => priceRestoring(plan.first, pricing, { ...options, to }),
      });
    }
    const estimate = await withTierFlag(() => priceRebuild(plan, pricing, options));
    if (ctx.bool("estimate")) {
      ctx.print(
        { ...rebuildEstimateReport(estimate), plan: summarizeRebuild(plan) },
        () => estimateText(plan, estimate, pricing),
      );
      return 0;
    }
    if (ctx.bool("dry-run")) {
      ctx.print({ ...summarizeRebuild(plan), dryRun: true }, () => planText(plan, options.tier));
      return 0;
    }
    const run = runOptions(ctx, plan, estimate, pricing, options);
    const progress = displayOnFirstEvent("rebuild", progressMode(ctx.json));
    const outcome = await withTierFlag(() =>
      runRebuild(repo, plan, {
        ...run,
        name: location,
        onProgress: progress.onProgress,
        // A second round asks and may wait: not under a line redrawn every 250 ms.
        onStep: (step) => {
          progress.pause();
          run.onStep?.(step);
        },
      })
    ).finally(progress.done);
    return printOutcome(ctx, plan, outcome, options.tier);
  } finally {
    await repo.storage.close();
  }
}

/** The workflow's options: the flags, and the gate and lines of the CLI as its callbacks. */
function runOptions(
  ctx: Context,
  plan: RebuildPlan,
  estimate: RebuildEstimate,
  pricing: RepoPricing,
  options: Options,
): RunRebuildOptions {
  const lines = !ctx.json;
  return {
    ...options,
    pricing,
    estimate,
    approve: async (step) => {
      const shown = () =>
        step.step === "metadata"
          ? estimateText(plan, estimate, pricing)
          : render(`rebuild: read ${why(step)}`, step.estimate, pricing.table);
      await approveCost(ctx, step.estimate, { action: "this rebuild", shown, threshold: true });
      return true;
    },
    onStep: (step) => {
      if (lines) console.error(`rebuild: ${why(step)}; their tables of contents must be read`);
    },
    onRequested: ({ step, states, sent, days }) => {
      if (!lines) return;
      const t = totals(states);
      console.error(
        `rebuild: ${why(step)}: ${t.packs} packs (${bytes(t.bytes)}); ` +
          `${restoresRequested(sent, options.tier, days)}, ` +
          `${t.restoring.packs} already being restored`,
      );
    },
    wait: thawWait(ctx, options, options.tier),
    cacheDir: ctx.cacheDir(),
    onWrite: (what) => lines && console.error(`rebuild: writing ${what}`),
  };
}

/** How the rebuild ended: 4 while packs thaw, 1 when declined or with problems, else 0. */
function printOutcome(
  ctx: Context,
  plan: RebuildPlan,
  outcome: RebuildOutcome,
  tier: RestoreTier,
): number {
  if (outcome.status === "declined") return 1;
  if (outcome.status === "waiting") return waiting(ctx, outcome.states, outcome, tier);
  const { result, scan, problems } = outcome;
  ctx.print(
    {
      ...summarizeRebuild(plan),
      ...result,
      unindexed: scan.unnamed.length,
      gone: scan.gone,
      problems,
    },
    () => resultText(result, scan.unnamed.length, problems),
  );
  return problems.length === 0 ? 0 : 1;
}

/** `--emit-job`: the job spec of a rebuild, priced at home and in the region. */
function emitJob(
  ctx: Context,
  plan: RebuildPlan,
  pricing: RepoPricing,
  options: Options,
  chunkAvg: number,
) {
  return emitJobSpec(ctx, commandLine("rebuild", ctx), {
    bytes: count(plan.first).bytes,
    disk: rebuildDisk(plan, chunkAvg),
    estimateAt: (to) => priceRestoring(plan.first, pricing, { ...options, to }),
  });
}

/**
 * What a rebuild job keeps on disk: the index cache of every blob, about one per `chunkAvg`
 * bytes of the packs (the chunker's average).
 */
function rebuildDisk(plan: RebuildPlan, chunkAvg: number) {
  const bytes = plan.metadata.bytes + plan.data.bytes + plan.unknown.bytes;
  return { blobs: Math.ceil(bytes / chunkAvg) };
}

/** What a thaw step restores, in words. */
function why(step: RebuildStep): string {
  if (step.step === "metadata") return "the metadata packs";
  const c = count(step.packs);
  return `${c.packs} data packs that no pack index names (${bytes(c.bytes)}): ` +
    `${step.missing} blobs the snapshots need are in none of the metadata packs' indexes`;
}

/** Packs are on their way: what to run later, exit status 4. */
function waiting(
  ctx: Context,
  states: PackState[],
  r: { sent: number; days: number },
  tier: RestoreTier,
): number {
  const t = totals(states);
  const rerun = rerunCommand(ctx);
  const cold = states.find((s) => !isReadable(s))!.storageClass;
  const hours = restoreTimes[cold]?.[tier];
  ctx.print(
    { waiting: true, packs: t.packs, requested: r.sent, tier, days: r.days, rerun },
    () =>
      `packs are being restored from cold storage; nothing was written. Run \`${rerun}\` ` +
      `later${hours ? ` (${cold} ${tier}: ${describeHours(hours)})` : ""}, ` +
      `or add --wait`,
  );
  return WAITING;
}

function parseOptions(ctx: Context): Options {
  const flags = thawFlags(ctx, { tier: DEFAULT_TIER, days: undefined });
  const to = ctx.string("to") ?? "internet";
  if (to !== "internet" && to !== "region") {
    throw new UsageError(`--to is "internet" or "region", not "${to}"`);
  }
  return { ...flags, to };
}

/** The command to run again: the same flags that matter (tier, days), without `--wait`. */
function rerunCommand(ctx: Context): string {
  const flags = [
    ...(ctx.string("tier") ? [`--tier ${ctx.string("tier")}`] : []),
    ...(ctx.string("days") ? [`--days ${ctx.string("days")}`] : []),
  ];
  return ["permafrost rebuild", ...flags].join(" ");
}

/** The estimate as text: both cases at home and in the region, the chosen one itemised. */
function estimateText(plan: RebuildPlan, e: RebuildEstimate, pricing: RepoPricing): string {
  const name = (a: RebuildAlternative) => {
    const what = a.case === "metadata"
      ? `metadata packs only (${a.objects} packs, ${bytes(a.bytes)})`
      : `every pack, if needed (${a.objects} packs, ${bytes(a.bytes)})`;
    return `${what}, ${a.to === "internet" ? "at home" : `in ${pricing.table.region}`}`;
  };
  const header = ["alternative", "usd", "time"];
  const table = e.alternatives.map((a) => [
    `${name(a)}${a === e.chosen ? " (chosen)" : ""}`,
    usd(a.estimate.total_usd),
    hoursText(a.estimate.hours),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...table.map((row) => row[c].length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => c === 1 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))
      .join("  ").trimEnd();
  const title = `rebuild from the cold tier (${plan.packs.length} packs, tier ${e.tier ?? "none"})`;
  return [
    `estimate: ${title}`,
    "",
    line(header),
    ...table.map(line),
    "",
    render(name(e.chosen), e.chosen.estimate, pricing.table),
    ...e.notes.map((n) => `note: ${n}`),
  ].join("\n");
}

function planText(plan: RebuildPlan, tier: RestoreTier): string {
  const t = totals(plan.first);
  const part = (label: string, x: { packs: number; bytes: number }) =>
    x.packs > 0 ? [`${x.packs} ${label} (${bytes(x.bytes)})`] : [];
  return [
    `rebuild from ${plan.packs.length} packs: ${plan.metadata.packs} metadata ` +
    `(${bytes(plan.metadata.bytes)}), ${plan.data.packs} data (${bytes(plan.data.bytes)})` +
    (plan.unknown.packs > 0 ? `, ${plan.unknown.packs} of unknown kind` : ""),
    `  read first: ${plan.first.length} packs (${bytes(count(plan.first).bytes)}): ` + [
      ...part("readable", t.readable),
      ...part("restored", t.restored),
      ...part("being restored", t.restoring),
      ...part("archived", t.archived),
    ].join(", "),
    `  data packs are restored only if the metadata packs do not locate a blob a snapshot needs`,
    `  tier ${tier}`,
  ].join("\n");
}

function resultText(r: RebuildResult, unindexed: number, problems: string[]): string {
  return [
    `rebuilt: ${r.snapshots.written} snapshot manifests written (${r.snapshots.present} were ` +
    `there), ${r.segments} index segments naming ${r.indexedPacks} packs, ` +
    `${r.metaCopies.written} hot copies of metadata packs (${r.metaCopies.present} were there)` +
    (r.cacheDeleted ? "; the local file cache was deleted" : ""),
    ...(unindexed > 0
      ? [
        `note: ${unindexed} data packs are named by no pack index and hold nothing a snapshot ` +
        `needs: left unindexed (gc collects them)`,
      ]
      : []),
    ...problems.map((p) => `error: ${p}`),
  ].join("\n");
}
