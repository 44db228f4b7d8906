import { backup } from "../ops/backup.ts";
import type { Repository } from "../repository/repository.ts";
import { openStorage } from "../storage/open.ts";
import { layout } from "../repository/layout.ts";
import { bytes, type Context, printable, UsageError } from "./context.ts";
import { initRepository } from "./cmd_init.ts";
import { Progress, scanTotals } from "./progress.ts";

/** `backup PATH... [--tag T] [--exclude GLOB] [--dry-run] [--host H]` */
export async function cmdBackup(ctx: Context): Promise<number> {
  if (ctx.positionals.length === 0) throw new UsageError("backup needs at least one PATH");
  const { location, isDefault } = ctx.repoOrDefault();
  let repo: Repository;
  if (isDefault && !(await exists(location))) {
    console.error(`no repository given: creating the default repository at ${location}`);
    repo = await initRepository(ctx, location);
  } else {
    if (isDefault) console.error(`using the default repository at ${location}`);
    repo = await ctx.open(location);
  }
  const progress = new Progress(
    ctx.bool("dry-run") ? "scanning" : "backup",
    !ctx.json && Deno.stderr.isTerminal(),
  );
  if (Deno.stderr.isTerminal() && !ctx.json) {
    const t = scanTotals(ctx.positionals);
    progress.total(t.files, t.bytes);
  }
  const warnings: { path: string; reason: string }[] = [];
  try {
    const result = await backup(repo, {
      paths: ctx.positionals,
      tags: ctx.strings("tag"),
      excludes: ctx.strings("exclude"),
      dryRun: ctx.bool("dry-run"),
      host: ctx.string("host"),
      cacheDir: ctx.cacheDir(),
      onProgress: (f, b) => progress.add(f, b),
      onWarning: (path, reason) => {
        warnings.push({ path, reason });
        if (!ctx.json) progress.note(`warning: "${printable(path)}" ${reason}`);
      },
    });
    progress.done();
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
        ...(result.skipped.length > 0
          ? [`  ${result.skipped.length} entries skipped (see warnings)`]
          : []),
      ].join("\n"));
    return 0;
  } finally {
    progress.done();
    await repo.storage.close();
  }
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
