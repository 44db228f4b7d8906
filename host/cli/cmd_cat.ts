import { type Context, UsageError } from "./context.ts";

/** `cat config` or `cat snapshot ID`: prints the decoded object as JSON. */
export async function cmdCat(ctx: Context): Promise<number> {
  const [what, id] = ctx.positionals;
  const repo = await ctx.open();
  try {
    if (what === "config") console.log(JSON.stringify(repo.config, null, 2));
    else if (what === "snapshot") {
      if (!id) throw new UsageError("cat snapshot needs an ID (or latest)");
      const snap = await repo.snapshot(id);
      console.log(JSON.stringify({ id: snap.id, ...snap.manifest }, null, 2));
    } else throw new UsageError(`cat takes "config" or "snapshot ID", not "${what ?? ""}"`);
  } finally {
    await repo.storage.close();
  }
  return 0;
}
