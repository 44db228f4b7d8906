/**
 * `gc STAGE`: garbage collection in stages (DESIGN §6, docs/gc.md). One table maps each stage
 * to its command, so adding a stage is one line.
 *
 * @module
 */

import { cmdGcCompact } from "./cmd_gc_compact.ts";
import { cmdGcIndex } from "./cmd_gc_index.ts";
import { cmdGcMark } from "./cmd_gc_mark.ts";
import { cmdGcPurge } from "./cmd_gc_purge.ts";
import { Context, UsageError } from "./context.ts";

const stages: Record<string, (ctx: Context) => Promise<number>> = {
  mark: cmdGcMark,
  compact: cmdGcCompact,
  purge: cmdGcPurge,
  index: cmdGcIndex,
};

/** Runs the stage named by the first argument with the rest; a `UsageError` lists the stages. */
export async function cmdGc(ctx: Context): Promise<number> {
  const [stage, ...rest] = ctx.positionals;
  const run = stage !== undefined && Object.hasOwn(stages, stage) ? stages[stage] : undefined;
  if (!run) {
    const names = Object.keys(stages).join(", ");
    throw new UsageError(
      stage === undefined
        ? `gc needs a stage: ${names}`
        : `unknown gc stage "${stage}"; the stages are: ${names}`,
    );
  }
  const sub = new Context(rest, ctx.flags);
  try {
    return await run(sub);
  } finally {
    sub.reportWarnings();
  }
}
