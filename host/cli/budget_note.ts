/**
 * `--budget` on a store that bills nothing (a local folder, a SQLite file): said in one line,
 * never passed over in silence.
 *
 * @module
 */

import type { Context } from "./context.ts";
import type { RepoPricing } from "./pricing.ts";

/**
 * The note for `--budget` given to a command on the repository at `location` when `pricing`
 * says its store bills nothing (`asIfS3`), or undefined. `held` says whether the command still
 * holds the estimate as if on S3 to the budget (`backup`, so that a budget can be tried out
 * locally) or leaves the budget unused (`gc compact`, `gc purge`).
 */
export function unbilledBudgetNote(
  ctx: Context,
  pricing: RepoPricing,
  location: string,
  held: boolean,
): string | undefined {
  if (!pricing.asIfS3 || ctx.string("budget") === undefined) return undefined;
  return `note: --budget: ${location} is not on S3, so nothing is billed; ` +
    (held
      ? "the budget is held to what this would cost on S3 (--estimate shows it)"
      : "the budget has nothing to limit here");
}

/** Prints {@link unbilledBudgetNote} on stderr when there is one. */
export function noteUnbilledBudget(
  ctx: Context,
  pricing: RepoPricing,
  location: string,
  held: boolean,
): void {
  const note = unbilledBudgetNote(ctx, pricing, location, held);
  if (note !== undefined) console.error(note);
}
