/**
 * `--grace DUR`, the grace period of the commands that delete what nothing names any more
 * (`gc purge`, `sync prune`): what was written within it may belong to a running backup.
 *
 * @module
 */

import { parseDuration } from "../ops/keep_policy.ts";
import { type Context, UsageError } from "./context.ts";

/** `--grace DUR` (e.g. 12h, 2d, or 0) in milliseconds, `defaultMs` when absent. */
export function graceFlag(ctx: Context, defaultMs: number): number {
  const text = ctx.string("grace");
  if (text === undefined) return defaultMs;
  if (text === "0") return 0;
  try {
    const d = parseDuration(text);
    return ((d.years * 365 + d.months * 30 + d.days) * 24 + d.hours) * 3600_000;
  } catch (err) {
    throw new UsageError(`--grace: ${(err as Error).message}`);
  }
}
