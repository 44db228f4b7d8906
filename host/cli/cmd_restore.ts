import { planRestore } from "../ops/restore_plan.ts";
import { executeRestore } from "../ops/restore.ts";
import { bytes, type Context, UsageError } from "./context.ts";
import { Progress } from "./progress.ts";

/** `restore SNAP[:PATH] --target DIR [--dry-run]` */
export async function cmdRestore(ctx: Context): Promise<number> {
  const [spec] = ctx.positionals;
  const target = ctx.string("target");
  if (!spec) throw new UsageError("restore needs a snapshot, e.g. latest or latest:/docs/file.txt");
  if (!target && !ctx.bool("dry-run")) throw new UsageError("restore needs --target DIR");
  const colon = spec.indexOf(":");
  const ref = colon < 0 ? spec : spec.slice(0, colon);
  const path = colon < 0 ? "/" : spec.slice(colon + 1);
  const repo = await ctx.open();
  try {
    const snap = await repo.snapshot(ref);
    const plan = await planRestore(repo, snap.id, snap.manifest.root, path);
    const summary = {
      snapshot: snap.id,
      path: plan.path,
      files: plan.files,
      dirs: plan.dirs,
      bytes: plan.bytes,
      packs: plan.packs.length,
      packBytes: plan.packBytes,
      readBytes: plan.readBytes,
    };
    if (ctx.bool("dry-run")) {
      ctx.print(
        { ...summary, dryRun: true },
        () =>
          `would restore ${plan.files} files, ${plan.dirs} dirs, ${
            bytes(plan.bytes)
          } from ${plan.packs.length} packs (reading ${bytes(plan.readBytes)})`,
      );
      return 0;
    }
    const progress = new Progress("restore", !ctx.json && Deno.stderr.isTerminal());
    progress.total(plan.files, plan.bytes);
    const result = await executeRestore(repo, plan, {
      target: target!,
      onProgress: (f, b) => progress.set(f, b),
    });
    progress.done();
    ctx.print(
      { ...summary, target: result.target },
      () =>
        `restored ${result.files} files, ${result.dirs} dirs, ${
          bytes(result.bytes)
        } to ${result.target} (read ${bytes(result.readBytes)} from ${result.packs} packs)`,
    );
  } finally {
    await repo.storage.close();
  }
  return 0;
}
