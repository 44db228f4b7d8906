/**
 * `gc index [--dry-run] [--json]`: admin only. Consolidates the index segments into one
 * (host/ops/index_consolidate.ts) so every later command reads one object instead of one per
 * backup run. Deletes nothing; the superseded segments go with the next `gc purge`. With
 * `--dry-run` it says what it would write, and writes nothing.
 *
 * @module
 */

import { assertAdmin, proveDeleteAllowed } from "../ops/admin_gate.ts";
import { consolidateIndex } from "../ops/index_consolidate.ts";
import { type Context, jsonOption, plural, repoOptions, UsageError } from "./context.ts";
import type { OptionTable } from "./options.ts";

/** One PUT: nothing to price, so a dry run and no `--estimate`. */
export const gcIndexOptions = {
  ...repoOptions,
  ...jsonOption,
  "dry-run": { type: "boolean" },
} as const satisfies OptionTable;

export async function cmdGcIndex(ctx: Context): Promise<number> {
  if (ctx.positionals.length > 0) {
    throw new UsageError(`unexpected argument "${ctx.positionals[0]}"`);
  }
  const dryRun = ctx.bool("dry-run");
  const repo = await ctx.open(ctx.requireRepo());
  try {
    assertAdmin(repo, "gc index"); // before anything is listed
    await proveDeleteAllowed(repo, "gc index");
    const result = await consolidateIndex(repo, { dryRun });
    const s = (n: number) => n === 1 ? "" : "s";
    const disputed = result.disputed ?? [];
    const what = result.segment === undefined
      ? disputed.length > 0
        ? "nothing to consolidate beside the segments left as they are"
        : `the index is ${result.segments} segment${s(result.segments)} already`
      : dryRun
      ? `dry run: nothing was written; would write one segment naming ${result.packs} ` +
        `pack${s(result.packs)} in place of ${result.segments}`
      : `wrote one segment naming ${
        plural(result.packs, "pack")
      } in place of ${result.segments}; ` +
        "`permafrost gc purge` deletes the old ones";
    const note = disputed.length === 0 ? "" : `\nwarning: segments give different records of ` +
      `${disputed.length} pack${s(disputed.length)} (${
        disputed.slice(0, 3).map((p) => `"${p.slice(0, 12)}"`).join(", ")
      }${disputed.length > 3 ? ", ..." : ""}), so one of them is forged; the segments naming ` +
      "them are left as they are. `permafrost check --read-data` names the segment that claims " +
      "what a pack does not hold; delete it, then run `gc index` again";
    ctx.print({ ...result, dryRun }, () => what + note);
    return 0;
  } finally {
    await repo.storage.close();
  }
}
