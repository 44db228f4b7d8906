import { bytes, type Context, jsonOption, repoOptions } from "./context.ts";
import { type OptionTable, refuseExtraArguments } from "./options.ts";

export const snapshotsOptions = { ...repoOptions, ...jsonOption } as const satisfies OptionTable;

/** `snapshots`: every snapshot, oldest first (works with the ingest key). */
export async function cmdSnapshots(ctx: Context): Promise<number> {
  refuseExtraArguments(ctx, 0);
  const repo = await ctx.open();
  try {
    const all = await repo.snapshots();
    ctx.print(all.map((s) => ({ id: s.id, ...s.manifest })), () => {
      if (all.length === 0) return "no snapshots";
      const rows = all.map((s) =>
        [
          s.id.slice(0, 8),
          s.manifest.time.replace("T", " ").slice(0, 19),
          s.manifest.host,
          s.manifest.tags.join(",") || "-",
          `${s.manifest.stats.files} files`,
          bytes(s.manifest.stats.bytes),
          s.manifest.paths.join(" "),
        ].join("  ")
      );
      return ["ID        time                 host  tags  files  size  paths", ...rows].join("\n");
    });
  } finally {
    await repo.storage.close();
  }
  return 0;
}
