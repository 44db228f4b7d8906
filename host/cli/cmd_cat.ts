import { type Context, repoOptions, UsageError } from "./context.ts";
import { type OptionTable, refuseExtraArguments } from "./options.ts";

/** It prints JSON whatever is asked: no `--json`. */
export const catOptions = { ...repoOptions } as const satisfies OptionTable;

/** `cat config` or `cat snapshot ID`: prints the decoded object as JSON. */
export async function cmdCat(ctx: Context): Promise<number> {
  const [what, id] = ctx.positionals;
  if (what !== "config" && what !== "snapshot") {
    throw new UsageError(`cat takes "config" or "snapshot ID", not "${what ?? ""}"`);
  }
  if (what === "snapshot" && !id) throw new UsageError("cat snapshot needs an ID (or latest)");
  refuseExtraArguments(ctx, what === "config" ? 1 : 2);
  const repo = await ctx.open();
  try {
    if (what === "config") console.log(JSON.stringify(repo.config, null, 2));
    else {
      const snap = await repo.snapshot(id);
      console.log(JSON.stringify({ id: snap.id, ...snap.manifest }, null, 2));
    }
  } finally {
    await repo.storage.close();
  }
  return 0;
}
