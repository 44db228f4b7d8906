import { useIndexCache } from "../cache/index_cache.ts";
import { find } from "../ops/find.ts";
import { bytes, type Context, jsonOption, printable, repoOptions, UsageError } from "./context.ts";
import type { OptionTable } from "./options.ts";

export const findOptions = { ...repoOptions, ...jsonOption } as const satisfies OptionTable;

/** `find PATTERN...`: the snapshots that hold matching paths. */
export async function cmdFind(ctx: Context): Promise<number> {
  if (ctx.positionals.length === 0) throw new UsageError("find needs at least one PATTERN");
  const repo = await ctx.open();
  try {
    useIndexCache(repo, ctx.cacheDir());
    await repo.loadIndex();
    const hits = await find(repo, ctx.positionals);
    ctx.print(
      hits,
      () =>
        hits.length === 0
          ? "no matches"
          : hits.map((h) =>
            `${h.snapshot.slice(0, 8)} ${h.time.slice(0, 19).replace("T", " ")} ${
              bytes(h.size).padStart(10)
            } ${h.mtime.slice(0, 19).replace("T", " ")} ${printable(h.path)}`
          ).join("\n"),
    );
  } finally {
    await repo.storage.close();
  }
  return 0;
}
