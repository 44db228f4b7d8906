import { backup, type BackupResult } from "../ops/backup.ts";
import { Repository } from "../repository/repository.ts";
import { openStorage } from "../storage/open.ts";
import { onInterrupt } from "../storage/orderly_close.ts";
import { idOf, kindOf, layout, tierOf } from "../repository/layout.ts";
import { encodeSnapshot } from "../repository/snapshot.ts";
import type { StorageClass } from "../storage/storage.ts";
import { type BackupEstimate, defaultAssumptions, estimateBackup } from "../cost/mod.ts";
import { uploadParts } from "../cost/store_cost.ts";
import { bytes, type Context, jsonOption, printable, repoOptions, UsageError } from "./context.ts";
import { parseSize } from "./size.ts";
import {
  createOrOpen,
  holdsRepository,
  newRepositoryOptions,
  newRepositorySettings,
} from "./cmd_init.ts";
import { Progress, scanTotals } from "./progress.ts";
import { approveCost, budgetFlag, budgetOption } from "./confirm.ts";
import { render, usd } from "./estimate_render.ts";
import type { OptionTable } from "./options.ts";
import { regionOption, type RepoPricing, repoPricing } from "./pricing.ts";

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
    const status = await onScratchRepository(ctx, async (repo) => {
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
  const pricing = repoPricing(ctx, location, repo.config.cold.storageClass);
  const dry = await runBackup(ctx, target, true, floor);
  const priced = priceBackup(repo, dry, pricing);
  const shown = () => backupEstimateText(ctx, priced, pricing);
  if (ctx.bool("estimate")) {
    ctx.print(backupEstimateJson(priced, pricing), shown);
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

/**
 * Runs `fn` on a new repository with the settings given (`--pack-size`, `--cold-class`), in a
 * scratch folder removed after: what a first backup into the default repository, which does not
 * exist yet, compares with.
 */
async function onScratchRepository<T>(
  ctx: Context,
  fn: (repo: Repository) => Promise<T>,
): Promise<T> {
  const { config } = newRepositorySettings(ctx);
  const dir = await Deno.makeTempDir({ prefix: "permafrost-scratch-" });
  // A signal exits without waiting for the `finally` below: it waits for the same removal.
  let removal: Promise<void> | undefined;
  const remove = () => removal ??= Deno.remove(dir, { recursive: true });
  const unregister = onInterrupt(remove);
  try {
    const storage = await openStorage(dir, "admin", { create: true });
    try {
      // Nobody opens it again: the cheapest key derivation the format accepts will do.
      const repo = await Repository.init(storage, crypto.randomUUID(), {
        config,
        kdf: { opslimit: 1, memlimit: 8 << 10 },
      });
      return await fn(repo);
    } finally {
      await storage.close();
    }
  } finally {
    await remove();
    unregister();
  }
}

/** The backup, or with `--dry-run` the dry run, and what it stored or would store. */
async function backupStep(ctx: Context, target: Target, floor: number | undefined) {
  const result = await runBackup(ctx, target, ctx.bool("dry-run"), floor);
  const s = result.manifest.stats;
  ctx.print({
    snapshot: result.id ?? null,
    dryRun: result.dryRun,
    repository: target.location,
    stats: s,
    upload: result.upload,
    walk: result.walk,
    skipped: result.skipped,
  }, () =>
    [
      result.dryRun ? "dry run: nothing was written" : `snapshot ${result.id!.slice(0, 8)} saved`,
      `  ${s.files} files, ${s.dirs} dirs, ${
        bytes(s.bytes)
      } (${result.walk.cachedFiles} files unchanged)`,
      `  ${result.upload.newBlobs} new blobs, ${bytes(s.newBytes)} new, ${bytes(s.storedBytes)} ${
        result.dryRun ? "would be stored" : "stored"
      } in ${result.upload.packs} packs`,
      ...(result.upload.copies > 0
        ? [
          `  ${result.upload.copies} small blobs (${
            bytes(result.upload.copyBytes)
          }) stored again near the directories using them, for restore locality`,
        ]
        : []),
      ...(result.skipped.length > 0
        ? [`  ${result.skipped.length} entries skipped (see warnings)`]
        : []),
    ].join("\n"));
  return 0;
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

async function runBackup(
  ctx: Context,
  target: Target,
  dryRun: boolean,
  localityFloor: number | undefined,
): Promise<BackupResult> {
  const progress = new Progress(
    dryRun ? "scanning" : "backup",
    !ctx.json && Deno.stderr.isTerminal(),
  );
  if (Deno.stderr.isTerminal() && !ctx.json) {
    const t = scanTotals(ctx.positionals);
    progress.total(t.files, t.bytes);
  }
  try {
    return await backup(target.repo, {
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
    });
  } finally {
    progress.done();
  }
}

/** One kind of object a backup writes, in one class. */
interface WrittenKind {
  kind: string;
  storage_class: StorageClass;
  objects: number;
  bytes: number;
}

interface PricedBackup extends BackupEstimate {
  result: BackupResult;
  kinds: WrittenKind[];
  /** PUT-class requests: one PutObject per object, or a multipart upload's parts + 2. */
  requests: number;
}

/**
 * §10.1 The objects the dry run would have created, plus the snapshot manifest (encoded here
 * to know its size), each in the class the tier predicate gives it, priced.
 */
function priceBackup(repo: Repository, result: BackupResult, pricing: RepoPricing): PricedBackup {
  const snapshot = encodeSnapshot(repo.keys.indexKey, result.manifest);
  const objects = [
    ...(result.written ?? []),
    // Any valid id: only the kind and the size matter here.
    { name: layout.snapshot("0".repeat(64)), size: snapshot.length },
  ];
  const metaIds = new Set(
    objects.filter((o) => kindOf(o.name) === "meta").map((o) => idOf(o.name)),
  );
  const classOf = (name: string): StorageClass =>
    tierOf(name) === "cold" ? pricing.coldClass : "STANDARD";
  const kinds = new Map<string, WrittenKind>();
  let requests = 0;
  for (const o of objects) {
    const kind = kindName(o.name, metaIds);
    const k = kinds.get(kind) ??
      { kind, storage_class: classOf(o.name), objects: 0, bytes: 0 };
    k.objects++;
    k.bytes += o.size;
    kinds.set(kind, k);
    const parts = uploadParts(o.size, defaultAssumptions.upload);
    requests += parts === 0 ? 1 : parts + 2;
  }
  const priced = estimateBackup(
    objects.map((o) => ({ storageClass: classOf(o.name), size: o.size })),
    pricing.table,
  );
  return { ...priced, result, kinds: [...kinds.values()], requests };
}

function kindName(name: string, metaIds: Set<string>): string {
  switch (kindOf(name)) {
    case "pack":
      return metaIds.has(idOf(name)) ? "metadata pack, cold copy" : "data pack";
    case "meta":
      return "metadata pack, hot copy";
    case "index":
      return "index segment";
    case "snapshot":
      return "snapshot";
    default:
      return "other";
  }
}

function backupEstimateJson(p: PricedBackup, pricing: RepoPricing) {
  const s = p.result.manifest.stats;
  return {
    ...p.estimate,
    monthly_usd: p.monthly_usd,
    plan: {
      files: s.files,
      bytes: s.bytes,
      new_blobs: s.newBlobs,
      new_bytes: s.newBytes,
      stored_bytes: s.storedBytes,
      objects: p.kinds,
      put_requests: p.requests,
    },
    notes: notes(pricing),
  };
}

function backupEstimateText(ctx: Context, p: PricedBackup, pricing: RepoPricing): string {
  const s = p.result.manifest.stats;
  const objects = p.kinds.reduce((n, k) => n + k.objects, 0);
  const cold = pricing.table.rules.classes[pricing.coldClass].min_days.value;
  return [
    render(
      `back up ${ctx.positionals.map(printable).join(", ")}: ${bytes(s.newBytes)} new after ` +
        `dedup of ${bytes(s.bytes)}, as ${objects} new objects (${p.requests} PUT requests)`,
      p.estimate,
      pricing.table,
    ),
    "",
    "new objects:",
    ...p.kinds.map((k) =>
      `  ${String(k.objects).padStart(5)} ${k.kind} (${k.storage_class}), ${bytes(k.bytes)}`
    ),
    "",
    `adds ${usd(p.monthly_usd)} a month of storage. The total is the uploads, the first month` +
    (cold > 30 ? ` and the rest of ${pricing.coldClass}'s ${cold}-day minimum` : ""),
    ...notes(pricing).map((n) => `note: ${n}`),
  ].join("\n");
}

function notes(pricing: RepoPricing): string[] {
  return [
    "the estimate read and chunked the source files (a dry run); nothing was written",
    ...(pricing.note ? [pricing.note] : []),
  ];
}
