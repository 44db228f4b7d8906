import { useIndexCache } from "../cache/index_cache.ts";
import { ls } from "../ops/ls.ts";
import { bytes, type Context, jsonOption, printable, repoOptions, UsageError } from "./context.ts";
import { type OptionTable, refuseExtraArguments } from "./options.ts";

export const lsOptions = { ...repoOptions, ...jsonOption } as const satisfies OptionTable;

/** `ls SNAP [PATH]`: entries of a snapshot (recursively below PATH). */
export async function cmdLs(ctx: Context): Promise<number> {
  const [ref, path] = ctx.positionals;
  refuseExtraArguments(ctx, 2);
  if (!ref) throw new UsageError("ls needs a snapshot (an id, a prefix, or latest)");
  const repo = await ctx.open();
  try {
    const snap = await repo.snapshot(ref);
    useIndexCache(repo, ctx.cacheDir());
    await repo.loadIndex();
    const entries = await ls(repo, snap.manifest.root, path ?? "/");
    ctx.print(
      entries,
      () =>
        entries.map((e) =>
          `${modeString(e.type, e.mode)} ${bytes(e.size).padStart(10)} ${
            e.mtime.slice(0, 19).replace("T", " ")
          } ${printable(e.path)}${e.target !== undefined ? ` -> ${printable(e.target)}` : ""}`
        ).join("\n"),
    );
  } finally {
    await repo.storage.close();
  }
  return 0;
}

/** `ls -l` style: `drwxr-xr-x`, with setuid/setgid as s/S and sticky as t/T. */
export function modeString(type: string, mode: number): string {
  const t = type === "dir" ? "d" : type === "symlink" ? "l" : "-";
  const c = [...Array(9)].map((_, i) => (mode & (1 << (8 - i)) ? "rwx"[i % 3] : "-"));
  const special = (bit: number, at: number, on: string) => {
    if (mode & bit) c[at] = c[at] === "x" ? on : on.toUpperCase();
  };
  special(0o4000, 2, "s");
  special(0o2000, 5, "s");
  special(0o1000, 8, "t");
  return t + c.join("");
}
