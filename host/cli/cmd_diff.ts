import { diff } from "../ops/diff.ts";
import { type Context, jsonOption, printable, repoOptions, UsageError } from "./context.ts";
import { type OptionTable, refuseExtraArguments } from "./options.ts";

export const diffOptions = {
  ...repoOptions,
  ...jsonOption,
  content: { type: "boolean" },
} as const satisfies OptionTable;

/**
 * `diff SNAP PATH [--content]`: disk against backup. Exit status 1 when something differs. A
 * note (on stderr, and in `--json` as `notes`) says when contents could not be compared.
 */
export async function cmdDiff(ctx: Context): Promise<number> {
  const [ref, path] = ctx.positionals;
  refuseExtraArguments(ctx, 2);
  if (!ref || !path) throw new UsageError("diff needs a snapshot and a PATH on disk");
  const repo = await ctx.open();
  try {
    const snap = await repo.snapshot(ref);
    const notes: string[] = [];
    const changes = await diff(repo, snap.manifest, path, {
      content: ctx.bool("content"),
      onNote: (note) => notes.push(note),
    });
    if (!ctx.json) { for (const note of notes) console.error(`note: ${note}`); }
    ctx.print(
      { snapshot: snap.id, changes, notes },
      () =>
        changes.length === 0
          ? "no differences"
          : changes.map((c) =>
            `${c.change === "added" ? "+" : c.change === "removed" ? "-" : "M"} ${
              printable(c.path)
            }${c.what ? ` (${c.what.join(", ")})` : ""}`
          ).join("\n"),
    );
    return changes.length === 0 ? 0 : 1;
  } finally {
    await repo.storage.close();
  }
}
