/**
 * The thaw step of commands that read cold packs in bulk (`gc compact`, and others that work on
 * a pack survey): request restores of the archived packs, then wait (`--wait`, surveying every
 * `--poll` seconds) or stop with exit status 4 and say how to go on. The restore requests are
 * idempotent (host/cold/thaw.ts), so the command is simply run again.
 *
 * @module
 */

import { isReadable, type PackState, totals } from "../cold/pack_survey.ts";
import { tiersOf } from "../cold/restore_times.ts";
import { requestThaw, waitForThaw } from "../cold/thaw.ts";
import { type RestoreTier, restoreTiers, type Storage } from "../storage/storage.ts";
import { bytes, type Context, UsageError } from "./context.ts";

/** Exit status: packs are being restored from cold storage; run the command again later. */
export const WAITING = 4;

/** Seconds between surveys while waiting, per tier, unless `--poll` says otherwise. */
export const POLL_SECONDS: Record<RestoreTier, number> = {
  expedited: 60,
  standard: 900,
  bulk: 1800,
};

export interface ThawFlags {
  tier: RestoreTier;
  days: number;
  poll: number;
  wait: boolean;
}

/** `--tier`, `--days`, `--poll`, `--wait`, with the command's defaults. */
export function thawFlags(ctx: Context, defaults: { tier: RestoreTier; days: number }): ThawFlags {
  const tierText = ctx.string("tier");
  if (tierText !== undefined && !restoreTiers.includes(tierText as RestoreTier)) {
    throw new UsageError(`--tier must be one of ${restoreTiers.join(", ")}, not "${tierText}"`);
  }
  const tier = (tierText ?? defaults.tier) as RestoreTier;
  return {
    tier,
    days: wholeNumber(ctx.string("days"), "--days") ?? defaults.days,
    poll: wholeNumber(ctx.string("poll"), "--poll") ?? POLL_SECONDS[tier],
    wait: ctx.bool("wait"),
  };
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
  for (const s of states) {
    if (s.availability.state !== "archived") continue;
    const offered = tiersOf(s.storageClass);
    if (offered.length > 0 && !offered.includes(flags.tier)) {
      throw new UsageError(
        `${s.storageClass} offers no ${flags.tier} restores; use --tier ${
          offered.join(" or --tier ")
        }`,
      );
    }
  }
  const sent = await requestThaw(storage, states, { tier: flags.tier, days: flags.days });
  const t = totals(states);
  const note = `requested ${sent} pack restore${sent === 1 ? "" : "s"} (tier ${flags.tier}, ` +
    `${flags.days} days); ${t.restoring.packs} already being restored`;
  if (!flags.wait) {
    if (!ctx.json) console.error(note);
    ctx.print(
      { waiting: true, requested: sent, tier: flags.tier, days: flags.days, again },
      () =>
        `packs are being restored from cold storage; run \`${again}\` again later ` +
        "(add --wait to wait for them)",
    );
    return "waiting";
  }
  if (!ctx.json) console.error(note);
  return await waitForThaw(storage, states.map((s) => s.name), {
    intervalSeconds: flags.poll,
    tier: flags.tier,
    days: flags.days,
    onSurvey: (s) => {
      if (ctx.json) return;
      const t = totals(s);
      const ready = t.readable.packs + t.restored.packs;
      console.error(
        `${new Date().toISOString()} ${ready}/${t.packs} packs readable ` +
          `(${bytes(t.readable.bytes + t.restored.bytes)} of ${bytes(t.bytes)})`,
      );
    },
  });
}

function wholeNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(value)) throw new UsageError(`${flag} must be a whole number ≥ 1`);
  return Number(value);
}
