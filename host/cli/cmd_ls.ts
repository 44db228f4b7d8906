import { ls } from "../ops/ls.ts";
import { bytes, type Context, UsageError } from "./context.ts";

/** `ls SNAP [PATH]`: entries of a snapshot (recursively below PATH). */
export async function cmdLs(ctx: Context): Promise<number> {
  const [ref, path] = ctx.positionals;
  if (!ref) throw new UsageError("ls needs a snapshot (an id, a prefix, or latest)");
  const repo = await ctx.open();
  try {
    const snap = await repo.snapshot(ref);
    await repo.loadIndex();
    const entries = await ls(repo, snap.manifest.root, path ?? "/");
    ctx.print(
      entries,
      () =>
        entries.map((e) =>
          `${modeString(e.type, e.mode)} ${bytes(e.size).padStart(10)} ${
            e.mtime.slice(0, 19).replace("T", " ")
          } ${e.path}${e.target !== undefined ? ` -> ${e.target}` : ""}`
        ).join("\n"),
    );
  } finally {
    await repo.storage.close();
  }
  return 0;
}

export function modeString(type: string, mode: number): string {
  const t = type === "dir" ? "d" : type === "symlink" ? "l" : "-";
  let s = "";
  for (let i = 8; i >= 0; i--) s += mode & (1 << i) ? "rwx"[(8 - i) % 3] : "-";
  return t + s;
}
