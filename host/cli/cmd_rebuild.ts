import { isReadable, type PackState, surveyPacks, totals } from "../cold/pack_survey.ts";
import { describeHours, restoreTimes, tiersOf } from "../cold/restore_times.ts";
import { requestThaw } from "../cold/thaw.ts";
import { defaultAssumptions, type Destination, type Estimate } from "../cost/mod.ts";
import {
  estimateRebuild,
  type PackCount,
  rebuildCases,
  rebuildDays,
} from "../cost/rebuild_cost.ts";
import { assertAdmin, proveDeleteAllowed } from "../ops/admin_gate.ts";
import {
  missingBlobs,
  needsUnnamedPacks,
  readDataTocs,
  type RebuildResult,
  scanMetadata,
  writeRebuild,
} from "../ops/rebuild.ts";
import { count, planRebuild, type RebuildPlan } from "../ops/rebuild_plan.ts";
import type { Repository } from "../repository/repository.ts";
import type { RestoreTier } from "../storage/storage.ts";
import { approveCost, costGateOptions } from "./confirm.ts";
import { commandLine, emitJobSpec, jobOptions } from "./job_flags.ts";
import { bytes, type Context, jsonOption, repoOptions, UsageError } from "./context.ts";
import { hoursText, render, usd } from "./estimate_render.ts";
import type { OptionTable } from "./options.ts";
import { regionOption, type RepoPricing, repoPricing } from "./pricing.ts";
import {
  checkClassOffers,
  checkTierOffered,
  restoresRequested,
  type ThawFlags,
  thawFlags,
  thawOptions,
  WAITING,
  waitUntilReadable,
} from "./thaw_step.ts";

export const rebuildOptions = {
  ...repoOptions,
  ...jsonOption,
  ...thawOptions,
  ...costGateOptions,
  ...regionOption,
  ...jobOptions,
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
  const options = parseOptions(ctx);
  const location = ctx.requireRepo();
  const repo = await ctx.open(location);
  try {
    assertAdmin(repo, "rebuild");
    await proveDeleteAllowed(repo, "rebuild");
    const plan = await planRebuild(repo);
    const pricing = repoPricing(ctx, location, repo.config.cold.storageClass);
    if (ctx.string("emit-job") !== undefined) {
      const c = count(plan.first);
      return emitJobSpec(ctx, commandLine("rebuild", ctx), {
        bytes: c.bytes,
        estimateAt: (to) =>
          estimateRebuild({
            storageClass: pricing.coldClass,
            objects: c.packs,
            bytes: c.bytes,
            tier: options.tier,
            days: options.days,
            to,
          }, pricing.table),
      });
    }
    const estimate = priceRebuild(plan, pricing, options);
    const summary = describePlan(plan);
    if (ctx.bool("estimate")) {
      ctx.print({ ...estimate.json, plan: summary }, () => estimate.text);
      return 0;
    }
    if (ctx.bool("dry-run")) {
      ctx.print({ ...summary, dryRun: true }, () => planText(plan, options.tier));
      return 0;
    }
    if (plan.packs.length === 0) {
      throw new Deno.errors.NotFound(
        `"${location}" has no packs: there is nothing to rebuild from`,
      );
    }

    // Step 1: the metadata packs (and packs of unknown kind) readable, nothing written before.
    const first = await thaw(ctx, repo, plan.first, pricing, options, {
      why: "the metadata packs",
      estimate: () => estimate.chosen,
      shown: () => estimate.text,
    });
    if (first !== undefined) return first;
    const scan = await scanMetadata(repo, plan);

    // Step 2: data packs no pack index names, only when a snapshot needs a blob they may hold.
    const need = await needsUnnamedPacks(repo, scan);
    let missing = 0;
    if (need.needed) {
      const unnamed = scan.unnamed;
      const c = count(unnamed);
      const e = estimateRebuild({
        storageClass: pricing.coldClass,
        objects: c.packs,
        bytes: c.bytes,
        tier: options.tier,
        days: options.days,
        to: options.to,
      }, pricing.table);
      const why = `${c.packs} data packs that no pack index names (${bytes(c.bytes)}): ` +
        `${need.missing} blobs the snapshots need are in none of the metadata packs' indexes`;
      if (!ctx.json) console.error(`rebuild: ${why}; their tables of contents must be read`);
      const second = await thaw(ctx, repo, unnamed, pricing, options, {
        why,
        estimate: () => e,
        shown: () => render(`rebuild: read ${why}`, e, pricing.table),
      });
      if (second !== undefined) return second;
      await readDataTocs(repo, scan, unnamed);
      missing = (await missingBlobs(repo, scan)).size;
    }

    const result = await writeRebuild(repo, scan, {
      cacheDir: ctx.cacheDir(),
      onStep: (what) => !ctx.json && console.error(`rebuild: writing ${what}`),
    });
    const problems = [
      ...scan.problems,
      ...(missing > 0 ? [`${missing} blobs the snapshots reference are in no pack`] : []),
    ];
    ctx.print(
      { ...summary, ...result, unindexed: scan.unnamed.length, gone: scan.gone, problems },
      () => resultText(result, scan.unnamed.length, problems),
    );
    return problems.length === 0 ? 0 : 1;
  } finally {
    await repo.storage.close();
  }
}

function parseOptions(ctx: Context): Options {
  const flags = thawFlags(ctx, { tier: DEFAULT_TIER, days: undefined });
  const to = ctx.string("to") ?? "internet";
  if (to !== "internet" && to !== "region") {
    throw new UsageError(`--to is "internet" or "region", not "${to}"`);
  }
  return { ...flags, to };
}

/**
 * Makes `packs` readable: nothing to do (undefined), or, after the cost gate, requests their
 * restores and either waits (`--wait`, then undefined) or prints how to go on and returns the
 * exit status 4.
 */
async function thaw(
  ctx: Context,
  repo: Repository,
  packs: PackState[],
  pricing: RepoPricing,
  options: Options,
  what: { why: string; estimate: () => Estimate; shown: () => string },
): Promise<number | undefined> {
  const names = packs.map((p) => p.name);
  const states = await surveyPacks(repo.storage, names);
  if (states.every(isReadable)) return undefined;
  checkTierOffered(states, options.tier);
  if (!pricing.asIfS3) {
    await approveCost(ctx, what.estimate(), {
      action: "this rebuild",
      shown: what.shown,
      threshold: true,
    });
  }
  const days = options.days ?? rebuildDays(count(states).bytes, options.to, defaultAssumptions);
  const sent = await requestThaw(repo.storage, states, { tier: options.tier, days });
  const t = totals(states);
  if (!ctx.json) {
    const requested = restoresRequested(sent, options.tier, days);
    console.error(
      `rebuild: ${what.why}: ${t.packs} packs (${bytes(t.bytes)}); ${requested}, ` +
        `${t.restoring.packs} already being restored`,
    );
  }
  if (!options.wait) {
    const rerun = rerunCommand(ctx);
    const cold = states.find((s) => !isReadable(s))!.storageClass;
    const hours = restoreTimes[cold]?.[options.tier];
    ctx.print(
      { waiting: true, packs: t.packs, requested: sent, tier: options.tier, days, rerun },
      () =>
        `packs are being restored from cold storage; nothing was written. Run \`${rerun}\` ` +
        `later${hours ? ` (${cold} ${options.tier}: ${describeHours(hours)})` : ""}, ` +
        `or add --wait`,
    );
    return WAITING;
  }
  await waitUntilReadable(ctx, repo.storage, names, { ...options, days });
  return undefined;
}

/** The command to run again: the same flags that matter (tier, days), without `--wait`. */
function rerunCommand(ctx: Context): string {
  const flags = [
    ...(ctx.string("tier") ? [`--tier ${ctx.string("tier")}`] : []),
    ...(ctx.string("days") ? [`--days ${ctx.string("days")}`] : []),
  ];
  return ["permafrost rebuild", ...flags].join(" ");
}

/** The metadata-only and every-pack cases, at home and in the region; the chosen one itemised. */
function priceRebuild(plan: RebuildPlan, pricing: RepoPricing, options: Options) {
  const pc = (c: { packs: number; bytes: number }): PackCount => ({
    objects: c.packs,
    bytes: c.bytes,
  });
  const cases = rebuildCases({
    metadata: pc(plan.metadata),
    data: pc(plan.data),
    unknown: pc(plan.unknown),
  });
  checkClassOffers(pricing.coldClass, options.tier);
  const tier = tiersOf(pricing.coldClass).length > 0 ? options.tier : undefined;
  const rows: { name: string; to: Destination; normal: boolean; e: Estimate }[] = [];
  for (const [normal, c] of [[true, cases.normal], [false, cases.worst]] as const) {
    for (const to of ["internet", "region"] as const) {
      const e = estimateRebuild(
        { storageClass: pricing.coldClass, ...c, tier, days: options.days, to },
        pricing.table,
      );
      const what = normal
        ? `metadata packs only (${c.objects} packs, ${bytes(c.bytes)})`
        : `every pack, if needed (${c.objects} packs, ${bytes(c.bytes)})`;
      const where = to === "internet" ? "at home" : `in ${pricing.table.region}`;
      rows.push({ name: `${what}, ${where}`, to, normal, e });
    }
  }
  const chosen = rows.find((r) => r.normal && r.to === options.to)!;
  const notes = [
    "the normal case: the metadata packs' pack-index blobs locate every data blob, so no data " +
    "pack is restored",
    "every pack: when a snapshot needs a blob in a data pack that no pack index names " +
    "(written before pack indexes, or by a killed backup); known once the metadata packs are read",
    ...(plan.unknown.packs > 0
      ? [`${plan.unknown.packs} archived packs have no label: restored to read their headers`]
      : []),
    ...(pricing.note ? [pricing.note] : []),
  ];
  const header = ["alternative", "usd", "time"];
  const table = rows.map((r) => [
    `${r.name}${r === chosen ? " (chosen)" : ""}`,
    usd(r.e.total_usd),
    hoursText(r.e.hours),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...table.map((row) => row[c].length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => c === 1 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))
      .join("  ").trimEnd();
  const title = `rebuild from the cold tier (${plan.packs.length} packs, tier ${tier ?? "none"})`;
  const text = [
    `estimate: ${title}`,
    "",
    line(header),
    ...table.map(line),
    "",
    render(chosen.name, chosen.e, pricing.table),
    ...notes.map((n) => `note: ${n}`),
  ].join("\n");
  const json = {
    ...chosen.e,
    tier: tier ?? null,
    to: options.to,
    alternatives: rows.map((r) => ({
      case: r.normal ? "metadata" : "every-pack",
      to: r.to,
      ...r.e,
    })),
    notes,
  };
  return { chosen: chosen.e, text, json };
}

function describePlan(plan: RebuildPlan) {
  const byLabel = plan.packs.filter((p) => p.by === "label").length;
  const byHeader = plan.packs.filter((p) => p.by === "header").length;
  return {
    packs: plan.packs.length,
    metadata: plan.metadata,
    data: plan.data,
    unknown: plan.unknown,
    kindFrom: { label: byLabel, header: byHeader },
    restore: { packs: plan.first.length, bytes: count(plan.first).bytes },
    thawing: plan.thawing,
    cold: totals(plan.first),
    ...(plan.ignored.length > 0 ? { ignored: plan.ignored } : {}),
  };
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
