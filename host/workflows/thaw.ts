/**
 * The thaw step of the workflows that read cold packs (restore, rebuild): refuse a tier the
 * packs' class does not offer, then request restores of the archived packs and either wait
 * (the caller's `wait`, with an injected `sleep`) or report that the packs are on their way.
 * The requests are idempotent: a caller that is told `waiting` simply runs again later.
 *
 * @module
 */

import { isReadable, type PackState } from "../cold/pack_survey.ts";
import { tiersOf } from "../cold/restore_times.ts";
import { requestThaw, waitForThaw, type WaitOptions } from "../cold/restore_requests.ts";
import type { RestoreTier, Storage, StorageClass } from "../storage/storage.ts";
import { InvalidRequest } from "./invalid_request.ts";

/** A tier that an archived pack's class does not offer (Deep Archive has no expedited). */
export class TierNotOffered extends InvalidRequest {
  override name = "TierNotOffered";
  constructor(
    readonly storageClass: StorageClass,
    readonly tier: RestoreTier,
    readonly offered: RestoreTier[],
  ) {
    super(`${storageClass} offers no ${tier} restores; it offers ${offered.join(" or ")}`);
  }
}

/** Refuses `tier` when an archived pack's class does not offer it. */
export function checkTierOffered(states: PackState[], tier: RestoreTier): void {
  for (const s of states) {
    if (s.availability.state === "archived") checkClassOffers(s.storageClass, tier);
  }
}

/** Refuses `tier` when `storageClass` does not offer it; a class with no tiers is never archived. */
export function checkClassOffers(storageClass: StorageClass, tier: RestoreTier): void {
  const offered = tiersOf(storageClass);
  if (offered.length > 0 && !offered.includes(tier)) {
    throw new TierNotOffered(storageClass, tier, offered);
  }
}

/** Waiting for restored copies: every `intervalSeconds`, through `sleep` when given. */
export interface ThawWait {
  intervalSeconds: number;
  onSurvey?: (states: PackState[]) => void;
  sleep?: (ms: number) => Promise<void>;
}

/** Options of {@link thawPacks}. */
export interface ThawOptions {
  tier: RestoreTier;
  days: number;
  /** Ask again for packs already being restored (a faster tier than before). */
  upgrade?: boolean;
  /** Absent: return after requesting. */
  wait?: ThawWait;
  /** Sends the requests instead of `requestThaw` (a Batch Operations job's stand-in). */
  request?: WaitOptions["request"];
}

/** What {@link thawPacks} did: requested `sent` restores, and waited or not. */
export type ThawOutcome =
  | { status: "readable"; states: PackState[] }
  | { status: "waiting"; states: PackState[]; sent: number };

/**
 * Requests restores of the archived packs of `states` (refused with {@link TierNotOffered}
 * first), then waits for every pack to be readable when `wait` is given. `onRequested` is told
 * how many requests went out, before any waiting.
 */
export async function thawPacks(
  storage: Storage,
  states: PackState[],
  options: ThawOptions & { onRequested?: (sent: number) => void },
): Promise<ThawOutcome> {
  if (states.every(isReadable)) return { status: "readable", states };
  checkTierOffered(states, options.tier);
  const { tier, days } = options;
  const request = options.request ?? ((s, o) => requestThaw(storage, s, o));
  const sent = await request(states, { tier, days, upgrade: options.upgrade });
  options.onRequested?.(sent);
  if (!options.wait) return { status: "waiting", states, sent };
  const names = states.map((s) => s.name);
  return {
    status: "readable",
    states: await waitForThaw(storage, names, {
      tier,
      days,
      ...options.wait,
      request: options.request,
    }),
  };
}
