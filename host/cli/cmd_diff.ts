import { diff } from "../ops/diff.ts";
import { type Context, jsonOption, printable, repoOptions, UsageError } from "./context.ts";
import { type OptionTable, refuseExtraArguments } from "./options.ts";

export const diffOptions = {
  ...repoOptions,
  ...jsonOption,
  content: { type: "boolean" },
} as const satisfies OptionTable;

/** `diff SNAP PATH [--content]`: disk against backup. Exit status 1 when something differs. */
export async function cmdDiff(ctx: Context): Promise<number> {
  const [ref, path] = ctx.positionals;
  refuseExtraArguments(ctx, 2);
  if (!ref || !path) throw new UsageError("diff needs a snapshot and a PATH on disk");
  const repo = await ctx.open();
  try {
    const snap = await repo.snapshot(ref);
    const changes = await diff(repo, snap.manifest, path, { content: ctx.bool("content") });
    ctx.print(
      { snapshot: snap.id, changes },
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
