import { backup, type BackupOptions, type BackupResult } from "../ops/backup.ts";
import type { Finding } from "../ops/protection.ts";
import type { Repository } from "../repository/repository.ts";
import { defaultAssumptions } from "../cost/mod.ts";
import { loadMark, type StoredMark } from "../ops/gc_mark_store.ts";
import {
  backupEstimateNotes,
  backupEstimateReport,
  estimateBackup,
  onScratchRepository,
  type PricedBackup,
  replacedNote,
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
import { parseSize } from "../text/size.ts";
import { type BackupJob, backupJobs, backupSourceOptions } from "./backup_jobs.ts";
import { explain } from "./explain.ts";
import {
  createOrOpen,
  holdsRepository,
  newRepositoryOptions,
  newRepositorySettings,
} from "./cmd_init.ts";
import { ProgressDisplay, progressMode } from "./progress.ts";
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
  ...backupSourceOptions,
  "dry-run": { type: "boolean" },
  host: { type: "string" },
  "locality-floor": { type: "string" },
  estimate: { type: "boolean" },
} as const satisfies OptionTable;

/**
 * `backup PATH... [--engine NAME] [--tag T] [--exclude GLOB] [--exclude-file FILE]
 * [--exclude-if-present NAME] [--exclude-larger-than SIZE] [--git-ignore] [--dry-run] [--host H]
 * [--locality-floor SIZE] [--estimate] [--budget USD]`, or `backup [--source NAME]...` for the
 * sources of the configuration file (`backup_jobs.ts`, docs/config.md): one snapshot each; a
 * source that fails does not stop the others, and the exit status is the worst.
 *
 * `--estimate` runs the backup dry and prices what it would write; `--budget` does the same
 * first and refuses a backup whose estimate is over budget (docs/cost-model.md §10.1).
 *
 * Without `--repo`, `PERMAFROST_REPO` or a configured `repository`, the default repository is
 * used, and created by the first backup. A dry run, an estimate, and the estimate before a
 * `--budget` check create nothing: while the default repository does not exist they compare
 * with a new, empty one in a scratch folder, removed after.
 */
export async function cmdBackup(ctx: Context): Promise<number> {
  const jobs = backupJobs(ctx); // every flag and the configuration checked before anything opens
  const run: CommandRun = {
    ctx,
    jobs,
    budget: budgetFlag(ctx),
    floor: localityFloor(ctx),
    outcomes: [],
  };
  const { location, isDefault } = ctx.repoOrDefault();
  const missing = isDefault && !(await holdsRepository(location));
  if (!missing) refuseNewRepositoryOptions(ctx, location, isDefault);
  const writes = !ctx.bool("dry-run") && !ctx.bool("estimate");
  if (missing && (!writes || run.budget !== undefined)) await onScratch(run, location, writes);
  if (run.outcomes.filter(Boolean).length < jobs.length) {
    await intoRepository(run, location, { missing, isDefault });
  }
  return printOutcomes(run);
}

/**
 * While the default repository does not exist: the dry runs, estimates, or estimates before a
 * `--budget` check (`writes`) of every job, against a new, empty repository in a scratch folder.
 */
async function onScratch(run: CommandRun, location: string, writes: boolean): Promise<void> {
  console.error(
    `no repository given, and the default repository at ${location} does not exist yet: ` +
      (writes
        ? "the estimate compares with a new, empty one; the backup creates it if it goes ahead"
        : "comparing with a new, empty one, and creating nothing"),
  );
  const { config } = newRepositorySettings(run.ctx);
  await onScratchRepository(config, async (repo) => {
    const target = { repo, location, cache: false };
    await eachJob(run, (job) => jobStep(run, target, job, { price: true, back: !writes }));
  });
}

/**
 * The jobs left, into the repository at `location`: opened, or the default one created when
 * `missing` (its estimates were made on a scratch one, so they are not made again).
 */
async function intoRepository(
  run: CommandRun,
  location: string,
  { missing, isDefault }: { missing: boolean; isDefault: boolean },
): Promise<void> {
  let repo: Repository;
  if (missing) {
    console.error(`no repository given: creating the default repository at ${location}`);
    repo = await createOrOpen(run.ctx, location);
  } else {
    if (isDefault) console.error(`using the default repository at ${location}`);
    repo = await run.ctx.open(location);
  }
  try {
    const target = { repo, location, cache: true };
    await eachJob(run, (job) => jobStep(run, target, job, { price: !missing, back: true }));
  } finally {
    await repo.storage.close();
  }
}

/** The state of one `backup` command: its backups, and what each gave once it ended. */
interface CommandRun {
  ctx: Context;
  jobs: BackupJob[];
  budget: number | undefined;
  floor: number | undefined;
  /** By job: its outcome once it ended (printed, failed, or refused by the budget). */
  outcomes: (Outcome | undefined)[];
}

/** What one backup gave: its exit status, and its result as `--json` and as text. */
interface Outcome {
  status: number;
  value: Record<string, unknown>;
  text: string;
}

/**
 * Runs `step` for each job that has no outcome yet. A configured source's failure is its
 * outcome (said at once, on stderr) and the next source runs; on the command line's paths, or
 * once a signal stopped the command, it is thrown.
 */
async function eachJob(
  run: CommandRun,
  step: (job: BackupJob) => Promise<Outcome | undefined>,
): Promise<void> {
  for (const [i, job] of run.jobs.entries()) {
    if (run.outcomes[i] !== undefined) continue;
    try {
      run.outcomes[i] = await step(job);
    } catch (err) {
      if (job.source === undefined || err instanceof Deno.errors.Interrupted) throw err;
      const { message, status } = explain(err);
      console.error(`permafrost: source "${job.source}": ${message}`);
      run.outcomes[i] = { status, value: { error: message }, text: "" };
    }
  }
}

/**
 * One backup into `target`: first its price when `price` (`--estimate`, which ends it with the
 * estimate, or `--budget`, which refuses it over budget), then when `back` the backup (or its
 * dry run). Undefined when it goes on in a later step.
 */
async function jobStep(
  run: CommandRun,
  target: Target,
  job: BackupJob,
  steps: { price: boolean; back: boolean },
): Promise<Outcome | undefined> {
  const priced = steps.price ? await priceFirst(run, target, job) : undefined;
  if (priced !== undefined || !steps.back) return priced;
  return await backupStep(run.ctx, target, job, run.floor);
}

/**
 * Prints what the backups gave and returns the worst exit status. The command line's one backup
 * prints its result as it always did; configured sources print theirs under their names, and
 * with `--json` one document `{ sources: [{ source, ... }] }`.
 */
function printOutcomes(run: CommandRun): number {
  const { ctx, jobs } = run;
  const outcomes = run.outcomes as Outcome[];
  if (jobs.length === 1 && jobs[0].source === undefined) {
    ctx.print(outcomes[0].value, () => outcomes[0].text);
  } else {
    const sources = jobs.map((job, i) => ({ source: job.source, ...outcomes[i].value }));
    ctx.print(
      { sources },
      () =>
        jobs.flatMap((job, i) => {
          const text = outcomes[i].text;
          return text === "" ? [] : [`source "${job.source}": ${text}`];
        }).join("\n"),
    );
  }
  // The note that compaction pays, once, after the results.
  const due = outcomes.find((o) => typeof o.value.compaction_due === "string");
  if (due !== undefined && !ctx.json) console.error(due.value.compaction_due);
  return worstStatus(outcomes.map((o) => o.status));
}

/**
 * The worst of several backups' exit statuses: a failure (any status but 0 and 5) outranks
 * `PROTECTED_CHANGED`, which says that the snapshot was saved; among failures, the highest.
 */
export function worstStatus(statuses: number[]): number {
  const failures = statuses.filter((s) => s !== 0 && s !== PROTECTED_CHANGED);
  if (failures.length > 0) return Math.max(...failures);
  return statuses.includes(PROTECTED_CHANGED) ? PROTECTED_CHANGED : 0;
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
  run: CommandRun,
  target: Target,
  job: BackupJob,
): Promise<Outcome | undefined> {
  const { ctx } = run;
  if (!ctx.bool("estimate") && run.budget === undefined) return undefined;
  const { repo, location } = target;
  const pricing = cliPricing(ctx, repo, location);
  if (!ctx.bool("estimate")) noteUnbilledBudget(ctx, pricing, location, true);
  const progress = startProgress(ctx, true);
  let priced: PricedBackup;
  try {
    priced = await estimateBackup(
      repo,
      backupRunOptions(ctx, target, job, { dryRun: true, floor: run.floor }, progress),
      pricing,
    );
  } finally {
    progress.done();
  }
  const shown = () => backupEstimateText(job, priced, pricing);
  if (ctx.bool("estimate")) {
    return { status: 0, value: { ...backupEstimateReport(priced, pricing) }, text: shown() };
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
async function backupStep(
  ctx: Context,
  target: Target,
  job: BackupJob,
  floor: number | undefined,
): Promise<Outcome> {
  const result = await runBackup(ctx, target, job, { dryRun: ctx.bool("dry-run"), floor });
  const due = result.dryRun ? undefined : compactionDue(target.repo.config.id);
  const value = {
    snapshot: result.id ?? null,
    dryRun: result.dryRun,
    repository: target.location,
    engine: result.manifest.engine,
    stats: result.manifest.stats,
    upload: result.upload,
    walk: result.walk,
    ...(result.mirror ? { mirror: result.mirror } : {}),
    skipped: result.skipped,
    findings: result.findings,
    compaction_due: due ?? null,
  };
  const text = [backupText(result), ...findingLines(result.findings, ctx.bool("accept-changes"))]
    .join("\n");
  // Accepted changes are no alarm: they are listed, and the status is that of a clean run.
  const alarm = result.findings.length > 0 && !ctx.bool("accept-changes");
  const status = alarm ? PROTECTED_CHANGED : 0;
  return { status, value, text };
}

/** The exit status of a backup that found protected files changed or vanished. */
export const PROTECTED_CHANGED = 5;

/**
 * What a backup found among its protected files (docs/engines.md): one line each, with the
 * snapshot that holds the original and the command that restores it.
 */
export function findingLines(findings: Finding[], accepted: boolean): string[] {
  if (findings.length === 0) return [];
  const lines = findings.map((f) =>
    `  ${f.kind}: "${printable(f.path)}" (original in snapshot ${f.snapshot.slice(0, 8)}): ` +
    f.restore
  );
  return [
    `${plural(findings.length, "protected file")} changed or vanished since first stored:`,
    ...lines,
    accepted
      ? "  --accept-changes: the new versions are now the originals, vanished files forgotten"
      : "  if the changes are intended, run the backup again with --accept-changes",
  ];
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
    ...(result.mirror
      ? [
        `  ${plural(result.mirror.files, "mirrored file")}: ` +
        `${result.mirror.uploaded.toLocaleString("en-US")} uploaded ` +
        `(${bytes(result.mirror.uploadedBytes)}), ` +
        `${result.mirror.reused.toLocaleString("en-US")} already in the store`,
      ]
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

/**
 * The progress of a backup, or of its dry run (`--dry-run`, or for `--estimate` and before a
 * `--budget` check): a line at a terminal, JSON lines with `--json` (`progress.ts`).
 */
function startProgress(ctx: Context, dryRun: boolean): ProgressDisplay {
  const label = !dryRun ? "backup" : ctx.bool("dry-run") ? "dry run" : "estimate";
  return new ProgressDisplay(label, progressMode(ctx.json));
}

/** What the backup `job` into `target` is run with, reporting to `progress`. */
function backupRunOptions(
  ctx: Context,
  target: Target,
  job: BackupJob,
  { dryRun, floor }: { dryRun: boolean; floor: number | undefined },
  progress: ProgressDisplay,
): BackupOptions {
  return {
    paths: job.paths,
    tags: job.tags,
    engine: job.engine,
    engineOptions: job.engineOptions,
    ...job.filters,
    neverChange: job.neverChange,
    acceptChanges: ctx.bool("accept-changes"),
    dryRun,
    host: ctx.string("host"),
    cacheDir: target.cache ? ctx.cacheDir() : undefined,
    localityFloor: floor,
    onProgress: progress.mode === "off" ? undefined : (e) => progress.update(e),
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
  job: BackupJob,
  how: { dryRun: boolean; floor: number | undefined },
): Promise<BackupResult> {
  const progress = startProgress(ctx, how.dryRun);
  try {
    return await backup(target.repo, backupRunOptions(ctx, target, job, how, progress));
  } finally {
    progress.done();
  }
}

function backupEstimateText(job: BackupJob, p: PricedBackup, pricing: RepoPricing): string {
  const s = p.result.manifest.stats;
  const objects = p.kinds.reduce((n, k) => n + k.objects, 0);
  const cold = pricing.table.rules.classes[pricing.coldClass].min_days.value;
  return [
    render(
      `back up ${job.paths.map(printable).join(", ")}: ${bytes(s.newBytes)} new after ` +
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
    ...(p.result.mirror ? [`note: ${replacedNote(p)}`] : []),
  ].join("\n");
}

/** The upload rate the estimate assumes (docs/cost-model.md), as "100-1,000 Mbit/s". */
function uploadRate(): string {
  const { min, max } = defaultAssumptions.internetMbitPerS;
  return `${min.toLocaleString("en-US")}-${max.toLocaleString("en-US")} Mbit/s`;
}
