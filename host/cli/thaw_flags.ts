/**
 * The thaw step of commands that read cold packs (`restore`, `rebuild`, `check
 * --read-data-subset`, `gc compact`): their `--tier`, `--days`, `--poll`, `--wait` flags, the
 * refusal of a tier the packs' class does not offer, and waiting for restores with a line per
 * survey. A command composes these with its own cost gate, job and messages: it checks the
 * tier, requests restores (host/cold/restore_requests.ts), then waits (`--wait`) or prints what to run and
 * returns {@link WAITING}. The restore requests are idempotent, so that command is simply run
 * again. {@link thawPacks} is the whole step for a command with nothing of its own to add.
 *
 * @module
 */

import { isReadable, type PackState, totals } from "../cold/pack_survey.ts";
import { checkTierOffered as workflowCheckTierOffered, TierNotOffered } from "../workflows/thaw.ts";
import { requestThaw, waitForThaw } from "../cold/restore_requests.ts";
import { type RestoreTier, restoreTiers, type Storage } from "../storage/storage.ts";
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

/** Refuses `tier` when an archived pack's class does not offer it (Deep Archive has no expedited). */
export function checkTierOffered(states: PackState[], tier: RestoreTier): void {
  try {
    workflowCheckTierOffered(states, tier);
  } catch (err) {
    throw err instanceof TierNotOffered ? tierUsage(err) : err;
  }
}

/** The CLI's words for a tier a class does not offer: the workflow names tiers, this the flag. */
export function tierUsage(err: TierNotOffered): UsageError {
  return new UsageError(
    `${err.storageClass} offers no ${err.tier} restores; use --tier ${
      err.offered.join(" or --tier ")
    }`,
  );
}

/** "requested 2 pack restores (tier bulk, 3 days)". */
export function restoresRequested(sent: number, tier: RestoreTier, days: number): string {
  return `requested ${sent} pack restore${sent === 1 ? "" : "s"} (tier ${tier}, ` +
    `${days} day${days === 1 ? "" : "s"})`;
}

/**
 * Waits until every pack of `names` is readable (`waitForThaw`, which asks again for a copy
 * that expired meanwhile), surveying every `flags.poll` seconds, else {@link POLL_SECONDS} of
 * the tier. Prints a line per survey on stderr, unless `--json`: the time and how many of the
 * packs (`what`) are readable. Resolves with the last survey.
 */
export function waitUntilReadable(
  ctx: Context,
  storage: Storage,
  names: string[],
  flags: { tier: RestoreTier; days: number; poll?: number },
  what = "packs",
): Promise<PackState[]> {
  return waitForThaw(storage, names, {
    intervalSeconds: flags.poll ?? POLL_SECONDS[flags.tier],
    tier: flags.tier,
    days: flags.days,
    onSurvey: (s) => surveyLine(ctx, s, what),
  });
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

/**
 * Makes every pack of `states` readable: nothing to do when they are; else requests restores
 * of the archived ones (refusing a tier their class does not offer) and waits when `--wait`,
 * or returns `"waiting"` after telling the user to run `again` later.
 */
export async function thawPacks(
  ctx: Context,
  storage: Storage,
  states: PackState[],
  flags: ThawFlags,
  again: string,
): Promise<PackState[] | "waiting"> {
  if (states.every(isReadable)) return states;
  checkTierOffered(states, flags.tier);
  const sent = await requestThaw(storage, states, { tier: flags.tier, days: flags.days });
  if (!ctx.json) {
    console.error(
      `${restoresRequested(sent, flags.tier, flags.days)}; ` +
        `${totals(states).restoring.packs} already being restored`,
    );
  }
  if (!flags.wait) {
    ctx.print(
      { waiting: true, requested: sent, tier: flags.tier, days: flags.days, again },
      () =>
        `packs are being restored from cold storage; run \`${again}\` again later ` +
        "(add --wait to wait for them)",
    );
    return "waiting";
  }
  return await waitUntilReadable(ctx, storage, states.map((s) => s.name), flags);
}

function wholeNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(value)) throw new UsageError(`${flag} must be a whole number ≥ 1`);
  return Number(value);
}
