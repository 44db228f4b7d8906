import { bytes, type Context, jsonOption, printable, repoOptions } from "./context.ts";
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
      const rows = all.map((s) => [
        s.id.slice(0, 8),
        s.manifest.time.replace("T", " ").slice(0, 19),
        printable(s.manifest.host),
        printable(s.manifest.tags.join(",")) || "-",
        s.manifest.stats.files.toLocaleString("en-US"),
        bytes(s.manifest.stats.bytes),
        s.manifest.paths.map(printable).join(" "),
      ]);
      return table(["ID", "time", "host", "tags", "files", "size", "paths"], rows, [4, 5]);
    });
  } finally {
    await repo.storage.close();
  }
  return 0;
}

/**
 * Rows under a header, each column as wide as its widest cell, two spaces apart; the columns
 * numbered in `right` (counts, sizes) are aligned to the right. The last column is not padded.
 */
export function table(header: string[], rows: string[][], right: number[] = []): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) =>
      c === cells.length - 1
        ? cell
        : right.includes(c)
        ? cell.padStart(widths[c])
        : cell.padEnd(widths[c])
    ).join("  ").trimEnd();
  return [header, ...rows].map(line).join("\n");
}
