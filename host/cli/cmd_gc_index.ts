/**
 * `gc index`: admin only. Consolidates the index segments into one (host/ops/index_consolidate.ts)
 * so every later command reads one object instead of one per backup run. Deletes nothing; the
 * superseded segments go with the next `gc purge`.
 *
 * @module
 */

import { assertAdmin, proveDeleteAllowed } from "../ops/admin_gate.ts";
import { consolidateIndex } from "../ops/index_consolidate.ts";
import { type Context, UsageError } from "./context.ts";

export async function cmdGcIndex(ctx: Context): Promise<number> {
  if (ctx.positionals.length > 0) {
    throw new UsageError(`unexpected argument "${ctx.positionals[0]}"`);
  }
  const repo = await ctx.open(ctx.requireRepo());
  try {
    assertAdmin(repo, "gc index"); // before anything is listed
    await proveDeleteAllowed(repo, "gc index");
    const result = await consolidateIndex(repo);
    ctx.print(
      result,
      () =>
        result.segment === undefined
          ? `the index is ${result.segments} segment${result.segments === 1 ? "" : "s"} already`
          : `wrote one segment naming ${result.packs} packs in place of ${result.segments}; ` +
            "`permafrost gc purge` deletes the old ones",
    );
    return 0;
  } finally {
    await repo.storage.close();
  }
}
