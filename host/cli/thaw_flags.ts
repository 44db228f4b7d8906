/**
 * The CLI side of the thaw step of commands that read cold packs (`restore`, `rebuild`, `check
 * --read-data-subset`, `gc compact`): their `--tier`, `--days`, `--poll`, `--wait` flags, what
 * `--wait` hands the workflow (host/workflows/thaw.ts does the requests and the waiting), and
 * the lines printed: a refused tier worded for `--tier`, the requests sent, a line per survey.
 * A command that is told its packs are on their way prints what to run again and returns
 * {@link WAITING}: the restore requests are idempotent, so that command is simply run again.
 *
 * @module
 */

import { type PackState, totals } from "../cold/pack_survey.ts";
import { type ThawWait, TierNotOffered } from "../workflows/thaw.ts";
import { type RestoreTier, restoreTiers } from "../storage/storage.ts";
import { bytes, type Context, UsageError } from "./context.ts";
import type { OptionTable } from "./options.ts";

/** The options {@link thawFlags} reads, for the tables of the commands that restore packs. */
export const thawOptions = {
  tier: { type: "string" },
  days: { type: "string" },
  wait: { type: "boolean" },
  poll: { type: "string" },
} as const satisfies OptionTable;

/** Exit status: packs are being restored from cold storage; run the command again later. */
export const WAITING = 4;

/** Seconds between surveys while waiting, per tier, unless `--poll` says otherwise. */
export const POLL_SECONDS: Record<RestoreTier, number> = {
  expedited: 60,
  standard: 900,
  bulk: 1800,
};

/** `--tier`, `--days`, `--poll`, `--wait`, parsed. */
export interface ThawFlags<Days extends number | undefined = number> {
  tier: RestoreTier;
  /** Days restored copies are kept; undefined when the command works them out later. */
  days: Days;
  /** Seconds between surveys; undefined: {@link POLL_SECONDS} of the tier the command uses. */
  poll?: number;
  wait: boolean;
}

/**
 * `--tier`, `--days`, `--poll`, `--wait`, with the command's defaults (`days: undefined` when
 * the command works them out itself, as `rebuild` does from the bytes to restore).
 */
export function thawFlags<Days extends number | undefined>(
  ctx: Context,
  defaults: { tier: RestoreTier; days: Days },
): ThawFlags<number | Days> {
  const tierText = ctx.string("tier");
  if (tierText !== undefined && !restoreTiers.includes(tierText as RestoreTier)) {
    throw new UsageError(`--tier must be one of ${restoreTiers.join(", ")}, not "${tierText}"`);
  }
  return {
    tier: (tierText ?? defaults.tier) as RestoreTier,
    days: wholeNumber(ctx.string("days"), "--days") ?? defaults.days,
    poll: wholeNumber(ctx.string("poll"), "--poll"),
    wait: ctx.bool("wait"),
  };
}

/** The CLI's words for a tier a class does not offer: the workflow names tiers, this the flag. */
export function tierUsage(err: TierNotOffered): UsageError {
  return new UsageError(
    `${err.storageClass} offers no ${err.tier} restores; use --tier ${
      err.offered.join(" or --tier ")
    }`,
  );
}

/**
 * Runs `f`, a workflow step that may refuse a tier, with the refusal worded for `--tier`
 * ({@link tierUsage}).
 */
export async function withTierFlag<T>(f: () => T | Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    throw err instanceof TierNotOffered ? tierUsage(err) : err;
  }
}

/** "requested 2 pack restores (tier bulk, 3 days)". */
export function restoresRequested(sent: number, tier: RestoreTier, days: number): string {
  return `requested ${sent} pack restore${sent === 1 ? "" : "s"} (tier ${tier}, ` +
    `${days} day${days === 1 ? "" : "s"})`;
}

/**
 * What `--wait` hands the workflow: surveys every `--poll` seconds, else {@link POLL_SECONDS}
 * of `tier`, each told on stderr ({@link surveyLine}); undefined without `--wait`.
 */
export function thawWait(
  ctx: Context,
  flags: { wait: boolean; poll?: number },
  tier: RestoreTier,
  what = "packs",
): ThawWait | undefined {
  if (!flags.wait) return undefined;
  return {
    intervalSeconds: flags.poll ?? POLL_SECONDS[tier],
    onSurvey: (s) => surveyLine(ctx, s, what),
  };
}

/**
 * While waiting, a line per survey on stderr, unless `--json`: the time and how many of the
 * packs (`what`) are readable.
 */
export function surveyLine(ctx: Context, states: PackState[], what = "packs"): void {
  if (ctx.json) return;
  const t = totals(states);
  const ready = t.readable.packs + t.restored.packs;
  console.error(
    `${new Date().toISOString()} ${ready}/${t.packs} ${what} readable ` +
      `(${bytes(t.readable.bytes + t.restored.bytes)} of ${bytes(t.bytes)})`,
  );
}

function wholeNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(value)) throw new UsageError(`${flag} must be a whole number ≥ 1`);
  return Number(value);
}
