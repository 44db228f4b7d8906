import { backup, type BackupResult } from "../ops/backup.ts";
import type { Repository } from "../repository/repository.ts";
import { openStorage } from "../storage/open.ts";
import { idOf, kindOf, layout, tierOf } from "../repository/layout.ts";
import { encodeSnapshot } from "../repository/snapshot.ts";
import type { StorageClass } from "../storage/storage.ts";
import { type BackupEstimate, defaultAssumptions, estimateBackup } from "../cost/mod.ts";
import { uploadParts } from "../cost/store_cost.ts";
import { bytes, type Context, printable, UsageError } from "./context.ts";
import { parseSize } from "./size.ts";
import { initRepository } from "./cmd_init.ts";
import { Progress, scanTotals } from "./progress.ts";
import { approveCost, budgetFlag } from "./confirm.ts";
import { render, usd } from "./estimate_render.ts";
import { type RepoPricing, repoPricing } from "./pricing.ts";

/**
 * `backup PATH... [--tag T] [--exclude GLOB] [--dry-run] [--host H] [--locality-floor SIZE]
 * [--estimate] [--budget USD]`
 *
 * `--estimate` runs the backup dry and prices what it would write; `--budget` does the same
 * first and refuses a backup whose estimate is over budget (docs/cost-model.md §10.1).
 */
export async function cmdBackup(ctx: Context): Promise<number> {
  if (ctx.positionals.length === 0) throw new UsageError("backup needs at least one PATH");
  const budget = budgetFlag(ctx);
  const floor = localityFloor(ctx); // a bad flag is refused before anything is opened
  const { location, isDefault } = ctx.repoOrDefault();
  let repo: Repository;
  if (isDefault && !(await exists(location))) {
    console.error(`no repository given: creating the default repository at ${location}`);
    repo = await initRepository(ctx, location);
  } else {
    if (isDefault) console.error(`using the default repository at ${location}`);
    repo = await ctx.open(location);
  }
  try {
    if (ctx.bool("estimate") || budget !== undefined) {
      const pricing = repoPricing(ctx, location, repo.config.cold.storageClass);
      const dry = await runBackup(ctx, repo, true, floor);
      const priced = priceBackup(repo, dry, pricing);
      const shown = () => backupEstimateText(ctx, priced, pricing);
      if (ctx.bool("estimate")) {
        ctx.print(backupEstimateJson(priced, pricing), shown);
        return 0;
      }
      await approveCost(ctx, priced.estimate, { action: "the backup", shown, threshold: false });
    }
    const result = await runBackup(ctx, repo, ctx.bool("dry-run"), floor);
    const s = result.manifest.stats;
    ctx.print({
      snapshot: result.id ?? null,
      dryRun: result.dryRun,
      repository: location,
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
  } finally {
    await repo.storage.close();
  }
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
  repo: Repository,
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
    return await backup(repo, {
      paths: ctx.positionals,
      tags: ctx.strings("tag"),
      excludes: ctx.strings("exclude"),
      dryRun,
      host: ctx.string("host"),
      cacheDir: ctx.cacheDir(),
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

async function exists(location: string): Promise<boolean> {
  const storage = await openStorage(location, "ingest").catch(() => undefined);
  if (!storage) return false;
  try {
    return (await storage.stat(layout.config())) !== null;
  } finally {
    await storage.close();
  }
}
