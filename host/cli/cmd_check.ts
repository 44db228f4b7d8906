import { check } from "../ops/check.ts";
import type { Context } from "./context.ts";

/** `check [--read-data]`: exit status 3 when problems are found. */
export async function cmdCheck(ctx: Context): Promise<number> {
  const repo = await ctx.open();
  try {
    const result = await check(repo, { readData: ctx.bool("read-data") });
    ctx.print(result, () =>
      [
        `checked ${result.snapshots} snapshots, ${result.packs} packs, ${result.blobs} blobs${
          ctx.bool("read-data") ? `, read ${result.readPacks} packs` : ""
        }`,
        ...result.problems.map((p) =>
          `error: ${p.pack ? `pack ${p.pack.slice(0, 12)}: ` : ""}${p.message}`
        ),
        result.problems.length === 0
          ? "no problems found"
          : `${result.problems.length} problems found`,
      ].join("\n"));
    return result.problems.length === 0 ? 0 : 3;
  } finally {
    await repo.storage.close();
  }
}
