import { type Change, diff } from "../ops/diff.ts";
import { type Context, jsonOption, printable, repoOptions, UsageError } from "./context.ts";
import { type OptionTable, refuseExtraArguments } from "./options.ts";

export const diffOptions = {
  ...repoOptions,
  ...jsonOption,
  content: { type: "boolean" },
} as const satisfies OptionTable;

/**
 * `diff SNAP PATH [--content]`: disk against backup. Exit status 1 when something differs, or a
 * file's contents could not be read (`?`, with the reason: it is not known to be the same). A
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
      () => changes.length === 0 ? "no differences" : changes.map(changeLine).join("\n"),
    );
    return changes.length === 0 ? 0 : 1;
  } finally {
    await repo.storage.close();
  }
}

const MARKS = { added: "+", removed: "-", modified: "M", unreadable: "?" } as const;

/** One change as a line: its mark, the path, and what differs or why it was not compared. */
function changeLine(c: Change): string {
  const why = c.change === "unreadable"
    ? ` (contents not compared: ${printable(c.reason ?? "unreadable")})`
    : c.what
    ? ` (${c.what.join(", ")})`
    : "";
  return `${MARKS[c.change]} ${printable(c.path)}${why}`;
}
