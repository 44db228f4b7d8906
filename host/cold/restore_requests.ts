/**
 * Thawing packs: asking the store for readable copies of archived packs, and waiting until
 * they are there. Both work on a pack survey (`pack_survey.ts`) and never read pack data.
 *
 * @module
 */

import type { RestoreTier, Storage } from "../storage/storage.ts";
import { restoreTiers } from "./restore_times.ts";
import { isReadable, type PackState, surveyPacks } from "./pack_survey.ts";
import { objectOf } from "./mirror_objects.ts";

/** How many restore requests are in flight at once. */
const CONCURRENCY = 8;

/**
 * Requests a restore for every archived pack in `states`, and for packs being restored when
 * `upgrade` is set (a faster tier than before; S3 honours the faster one). Returns how many
 * requests were sent. Requests already under way at the same tier are not repeated.
 */
export async function requestThaw(
  storage: Storage,
  states: PackState[],
  options: { tier: RestoreTier; days: number; upgrade?: boolean },
): Promise<number> {
  const todo = states.filter((s) =>
    s.availability.state === "archived" || (options.upgrade && s.availability.state === "restoring")
  );
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const s = todo[next++];
      const { name, version } = objectOf(s.name); // a mirrored file's version: `mirror_objects.ts`
      const { tier, days } = options;
      await storage.requestRestore(name, { tier, days, ...(version ? { version } : {}) });
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, todo.length) }, worker));
  return todo.length;
}

/** Whether tier `a` is faster than tier `b`. */
export function fasterTier(a: RestoreTier, b: RestoreTier): boolean {
  return restoreTiers.indexOf(a) > restoreTiers.indexOf(b);
}

/** Options of {@link waitForThaw}. */
export interface WaitOptions {
  /** Seconds between surveys. */
  intervalSeconds: number;
  /** Called after each survey with the packs' states. */
  onSurvey?: (states: PackState[]) => void;
  /** Packs that went back to `archived` (an expired copy) are requested again with these. */
  tier: RestoreTier;
  days: number;
  /** Waits between surveys (default: a timer); tests pass one that returns at once. */
  sleep?: (ms: number) => Promise<void>;
  /**
   * Sends the requests instead of {@link requestThaw} (a Batch Operations job's stand-in,
   * host/cold/batch_restore.ts).
   */
  request?: (
    states: PackState[],
    options: { tier: RestoreTier; days: number; upgrade?: boolean },
  ) => Promise<number>;
}

/**
 * Surveys `names` every `intervalSeconds` until every pack is readable; resolves with the last
 * survey. A pack whose restored copy expired while waiting is requested again.
 */
export async function waitForThaw(
  storage: Storage,
  names: string[],
  options: WaitOptions,
): Promise<PackState[]> {
  for (;;) {
    const states = await surveyPacks(storage, names);
    options.onSurvey?.(states);
    if (states.every(isReadable)) return states;
    await (options.request ?? ((s, o) => requestThaw(storage, s, o)))(states, options);
    const ms = options.intervalSeconds * 1000;
    await (options.sleep ? options.sleep(ms) : new Promise((r) => setTimeout(r, ms)));
  }
}
