import { backup, type BackupOptions, type BackupResult } from "../ops/backup.ts";
import type { Repository } from "../repository/repository.ts";
import { defaultAssumptions } from "../cost/mod.ts";
import { loadMark, type StoredMark } from "../ops/gc_mark_store.ts";
import {
  backupEstimateNotes,
  backupEstimateReport,
  estimateBackup,
  onScratchRepository,
  type PricedBackup,
} from "../workflows/backup_estimate.ts";
import type { RepoPricing } from "../workflows/pricing.ts";
import {
  bytes,
  type Context,
  jsonOption,
  plural,
  printable,
  repoOptions,
  UsageError,
} from "./context.ts";
import { parseSize } from "./size.ts";
import {
  createOrOpen,
  holdsRepository,
  newRepositoryOptions,
  newRepositorySettings,
} from "./cmd_init.ts";
import { Progress, scanTotals } from "./progress.ts";
import { approveCost, budgetFlag, budgetOption } from "./confirm.ts";
import { noteUnbilledBudget } from "./budget_note.ts";
import { render, usd } from "./estimate_render.ts";
import type { OptionTable } from "./options.ts";
import { cliPricing, regionOption } from "./pricing.ts";

/**
 * The gate is `--budget` alone: a backup asks no question, so no `--yes`. A new repository's
 * settings are taken for the default repository a first backup creates, and refused otherwise.
 */
export const backupOptions = {
  ...repoOptions,
  ...jsonOption,
  ...budgetOption,
  ...regionOption,
  ...newRepositoryOptions,
  tag: { type: "string", multiple: true },
  exclude: { type: "string", multiple: true },
  "dry-run": { type: "boolean" },
  host: { type: "string" },
  "locality-floor": { type: "string" },
  estimate: { type: "boolean" },
} as const satisfies OptionTable;

/**
 * `backup PATH... [--tag T] [--exclude GLOB] [--dry-run] [--host H] [--locality-floor SIZE]
 * [--estimate] [--budget USD]`
 *
 * `--estimate` runs the backup dry and prices what it would write; `--budget` does the same
 * first and refuses a backup whose estimate is over budget (docs/cost-model.md §10.1).
 *
 * Without `--repo` (or `PERMAFROST_REPO`) the default repository is used, and created by the
 * first backup. A dry run, an estimate, and the estimate before a `--budget` check create
 * nothing: while the default repository does not exist they compare with a new, empty one in a
 * scratch folder, removed after.
 */
export async function cmdBackup(ctx: Context): Promise<number> {
  if (ctx.positionals.length === 0) throw new UsageError("backup needs at least one PATH");
  const budget = budgetFlag(ctx);
  const floor = localityFloor(ctx); // a bad flag is refused before anything is opened
  const { location, isDefault } = ctx.repoOrDefault();
  const missing = isDefault && !(await holdsRepository(location));
  if (!missing) refuseNewRepositoryOptions(ctx, location, isDefault);
  const writes = !ctx.bool("dry-run") && !ctx.bool("estimate");
  if (missing && (!writes || budget !== undefined)) {
    console.error(
      `no repository given, and the default repository at ${location} does not exist yet: ` +
        (writes
          ? "the estimate compares with a new, empty one; the backup creates it if it goes ahead"
          : "comparing with a new, empty one, and creating nothing"),
    );
    const { config } = newRepositorySettings(ctx);
    const status = await onScratchRepository(config, async (repo) => {
      const target = { repo, location, cache: false };
      return await priceFirst(ctx, target, budget, floor) ??
        (writes ? undefined : await backupStep(ctx, target, floor));
    });
    if (status !== undefined) return status;
  }
  let repo: Repository;
  if (missing) {
    console.error(`no repository given: creating the default repository at ${location}`);
    repo = await createOrOpen(ctx, location);
  } else {
    if (isDefault) console.error(`using the default repository at ${location}`);
    repo = await ctx.open(location);
  }
  try {
    const target = { repo, location, cache: true };
    const status = missing ? undefined : await priceFirst(ctx, target, budget, floor);
    return status ?? await backupStep(ctx, target, floor);
  } finally {
    await repo.storage.close();
  }
}

/** Where a backup goes: the repository, its location, and whether it keeps a file cache. */
interface Target {
  repo: Repository;
  location: string;
  /** False for a scratch repository: its file cache would outlive it. */
  cache: boolean;
}

/**
 * `--estimate` (prints the estimate, and resolves with the exit status) and `--budget` (refuses
 * a backup over it): a dry run into the target, priced. Undefined when the backup goes on.
 */
async function priceFirst(
  ctx: Context,
  target: Target,
  budget: number | undefined,
  floor: number | undefined,
): Promise<number | undefined> {
  if (!ctx.bool("estimate") && budget === undefined) return undefined;
  const { repo, location } = target;
  const pricing = cliPricing(ctx, repo, location);
  if (!ctx.bool("estimate")) noteUnbilledBudget(ctx, pricing, location, true);
  const progress = startProgress(ctx, true);
  let priced: PricedBackup;
  try {
    priced = await estimateBackup(
      repo,
      backupRunOptions(ctx, target, true, floor, progress),
      pricing,
    );
  } finally {
    progress.done();
  }
  const shown = () => backupEstimateText(ctx, priced, pricing);
  if (ctx.bool("estimate")) {
    ctx.print(backupEstimateReport(priced, pricing), shown);
    return 0;
  }
  await approveCost(ctx, priced.estimate, { action: "the backup", shown, threshold: false });
  return undefined;
}

/** `--pack-size`, `--cold-class`, `--kdf-memlimit` are refused unless a repository is created. */
function refuseNewRepositoryOptions(ctx: Context, location: string, isDefault: boolean): void {
  const given = Object.keys(newRepositoryOptions).find((o) => ctx.string(o) !== undefined);
  if (given === undefined) return;
  throw new UsageError(
    `--${given} is a setting of a new repository, and this backup creates none: ` +
      (isDefault
        ? `the default repository at ${location} exists`
        : "backup creates only the default repository, the first time (use `permafrost init`)"),
  );
}

/** The backup, or with `--dry-run` the dry run, and what it stored or would store. */
async function backupStep(ctx: Context, target: Target, floor: number | undefined) {
  const result = await runBackup(ctx, target, ctx.bool("dry-run"), floor);
  const s = result.manifest.stats;
  const due = result.dryRun ? undefined : compactionDue(target.repo.config.id);
  ctx.print({
    snapshot: result.id ?? null,
    dryRun: result.dryRun,
    repository: target.location,
    stats: s,
    upload: result.upload,
    walk: result.walk,
    skipped: result.skipped,
    compaction_due: due ?? null,
  }, () => backupText(result));
  if (due !== undefined && !ctx.json) console.error(due);
  return 0;
}

/**
 * One line when the last `gc mark` saved on this machine (host/ops/gc_mark_store.ts) found the
 * dead share of the bill over its threshold, with the command to run; else undefined. A saved
 * mark that cannot be read is passed over: `gc mark` and `cost` report it.
 */
export function compactionDue(repositoryId: string, marks?: string): string | undefined {
  let mark: StoredMark | null;
  try {
    mark = marks === undefined ? loadMark(repositoryId) : loadMark(repositoryId, marks);
  } catch {
    return undefined;
  }
  const v = mark?.verdict;
  if (!mark || !v?.compact || v.share === null) return undefined;
  return `note: the last gc mark (${mark.time.slice(0, 10)}) found dead data at ` +
    `${(v.share * 100).toFixed(1)}% of the monthly bill, over its ${v.thresholdPct}% ` +
    "threshold: run `permafrost gc compact --estimate`, then `permafrost gc compact`";
}

/**
 * What a backup did, in the snapshot's own counters (the `stats` of `--json`, which `snapshots
 * --json` shows too): the details the run stores after counting (docs/format.md §9.2, a metadata
 * pack of their own, `storeDetails` in host/ops/backup.ts) are named apart, so that no count
 * here differs from the same count in `--json`.
 */
export function backupText(result: BackupResult): string {
  const s = result.manifest.stats;
  const up = result.upload;
  // The details are one blob in one pack of their own, written after the counters were taken.
  const details = { blobs: up.newBlobs - s.newBlobs, bytes: up.storedBytes - s.storedBytes };
  const countedPacks = Math.max(0, up.packs - (details.blobs > 0 ? 1 : 0));
  const stored = result.dryRun ? "would be stored" : "stored";
  return [
    result.dryRun ? "dry run: nothing was written" : `snapshot ${result.id!.slice(0, 8)} saved`,
    `  ${plural(s.files, "file")}, ${plural(s.dirs, "dir")}, ${bytes(s.bytes)} ` +
    `(${plural(result.walk.cachedFiles, "file")} unchanged)`,
    s.newBlobs === 0
      ? "  no new data"
      : `  ${plural(s.newBlobs, "new blob")}, ${bytes(s.newBytes)} new, ${bytes(s.storedBytes)} ` +
        `${stored} in ${plural(countedPacks, "pack")}`,
    ...(details.blobs > 0
      ? [`  ${bytes(details.bytes)} of snapshot details ${stored} in 1 more pack`]
      : []),
    ...(up.copies > 0
      ? [
        `  ${plural(up.copies, "small blob")} (${bytes(up.copyBytes)}) stored again near the ` +
        "directories using them, for restore locality",
      ]
      : []),
    ...(result.skipped.length > 0
      ? [`  ${plural(result.skipped.length, "entry", "entries")} skipped (see warnings)`]
      : []),
  ].join("\n");
}

/** `--locality-floor SIZE`, or undefined for the default (a quarter of the data pack target). */
function localityFloor(ctx: Context): number | undefined {
  const text = ctx.string("locality-floor");
  if (text === undefined) return undefined;
  let floor: number;
  try {
    floor = parseSize(text);
  } catch (err) {
    throw new UsageError(`--locality-floor: ${(err as Error).message}`);
  }
  if (floor < 1) throw new UsageError("--locality-floor must be at least 1 byte");
  return floor;
}

/** The progress line of a backup (or of its dry run, "scanning"), on a terminal only. */
function startProgress(ctx: Context, dryRun: boolean): Progress {
  const progress = new Progress(
    dryRun ? "scanning" : "backup",
    !ctx.json && Deno.stderr.isTerminal(),
  );
  if (Deno.stderr.isTerminal() && !ctx.json) {
    const t = scanTotals(ctx.positionals);
    progress.total(t.files, t.bytes);
  }
  return progress;
}

/** What the backup of the command line into `target` is run with, reporting to `progress`. */
function backupRunOptions(
  ctx: Context,
  target: Target,
  dryRun: boolean,
  localityFloor: number | undefined,
  progress: Progress,
): BackupOptions {
  return {
    paths: ctx.positionals,
    tags: ctx.strings("tag"),
    excludes: ctx.strings("exclude"),
    dryRun,
    host: ctx.string("host"),
    cacheDir: target.cache ? ctx.cacheDir() : undefined,
    localityFloor,
    onProgress: (f, b) => progress.add(f, b),
    onWarning: (path, reason) => {
      // The dry run ahead of a real one (for --budget) leaves the warnings to the real one.
      if (!ctx.json && (!dryRun || ctx.bool("estimate") || ctx.bool("dry-run"))) {
        progress.note(`warning: "${printable(path)}" ${reason}`);
      }
    },
  };
}

async function runBackup(
  ctx: Context,
  target: Target,
  dryRun: boolean,
  localityFloor: number | undefined,
): Promise<BackupResult> {
  const progress = startProgress(ctx, dryRun);
  try {
    return await backup(
      target.repo,
      backupRunOptions(ctx, target, dryRun, localityFloor, progress),
    );
  } finally {
    progress.done();
  }
}

function backupEstimateText(ctx: Context, p: PricedBackup, pricing: RepoPricing): string {
  const s = p.result.manifest.stats;
  const objects = p.kinds.reduce((n, k) => n + k.objects, 0);
  const cold = pricing.table.rules.classes[pricing.coldClass].min_days.value;
  return [
    render(
      `back up ${ctx.positionals.map(printable).join(", ")}: ${bytes(s.newBytes)} new after ` +
        `dedup of ${bytes(s.bytes)}, as ${plural(objects, "new object")} (${
          plural(p.requests, "PUT request")
        })`,
      p.estimate,
      pricing.table,
      `the upload, at ${uploadRate()}`,
    ),
    "",
    "new objects:",
    ...p.kinds.map((k) =>
      `  ${String(k.objects).padStart(5)} ${k.kind} (${k.storage_class}), ${bytes(k.bytes)}`
    ),
    "",
    `adds ${usd(p.monthly_usd)} a month of storage. The total is the uploads, the first month` +
    (cold > 30 ? ` and the rest of ${pricing.coldClass}'s ${cold}-day minimum` : ""),
    ...backupEstimateNotes(pricing).map((n) => `note: ${n}`),
  ].join("\n");
}

/** The upload rate the estimate assumes (docs/cost-model.md), as "100-1,000 Mbit/s". */
function uploadRate(): string {
  const { min, max } = defaultAssumptions.internetMbitPerS;
  return `${min.toLocaleString("en-US")}-${max.toLocaleString("en-US")} Mbit/s`;
}
