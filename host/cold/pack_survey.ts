/**
 * The pack survey: where each pack a plan needs stands in cold storage (readable, archived,
 * being restored, restored until T), from one `stat` per pack. It is what `restore` prints
 * before it requests anything, and what a resumed job re-reads to see its progress.
 *
 * @module
 */

import { ObjectNotFound } from "../../plugins/sdk/errors.ts";
import type { Availability, Storage, StorageClass } from "../storage/storage.ts";
import { objectOf } from "./mirror_objects.ts";

/** One pack: its object name, size and state. */
export interface PackState {
  name: string;
  bytes: number;
  storageClass: StorageClass;
  availability: Availability;
}

/** Packs and bytes per state. */
export interface SurveyTotals {
  packs: number;
  bytes: number;
  readable: { packs: number; bytes: number };
  archived: { packs: number; bytes: number };
  restoring: { packs: number; bytes: number };
  restored: { packs: number; bytes: number };
}

/** How many `stat` calls are in flight at once. */
const CONCURRENCY = 16;

/**
 * Stats every pack in `names`. A missing pack rejects with `ObjectNotFound` naming it (the
 * index names a pack the store does not have: `permafrost check` tells more).
 */
export async function surveyPacks(storage: Storage, names: string[]): Promise<PackState[]> {
  const out: PackState[] = new Array(names.length);
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const i = next++;
      // A mirrored file's object version is surveyed as itself (`mirror_objects.ts`).
      const { name, version } = objectOf(names[i]);
      const stat = version === undefined
        ? await storage.stat(name)
        : await storage.statVersion(name, version);
      if (stat === null) {
        throw new ObjectNotFound(
          `pack "${names[i]}" is in the index but not in the repository; run \`permafrost check\``,
        );
      }
      out[i] = {
        name: names[i],
        bytes: stat.size,
        storageClass: stat.storageClass ?? "STANDARD",
        availability: stat.availability,
      };
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, names.length) }, worker));
  return out;
}

/** Whether a pack can be read now. */
export function isReadable(p: PackState): boolean {
  return p.availability.state === "readable" || p.availability.state === "restored";
}

export function totals(states: PackState[]): SurveyTotals {
  const zero = () => ({ packs: 0, bytes: 0 });
  const t: SurveyTotals = {
    packs: states.length,
    bytes: 0,
    readable: zero(),
    archived: zero(),
    restoring: zero(),
    restored: zero(),
  };
  for (const s of states) {
    t.bytes += s.bytes;
    const bucket = t[s.availability.state];
    bucket.packs++;
    bucket.bytes += s.bytes;
  }
  return t;
}

/** The earliest time a restored copy among `states` expires, or `undefined`. */
export function firstExpiry(states: PackState[]): string | undefined {
  let first: string | undefined;
  for (const s of states) {
    if (s.availability.state !== "restored") continue;
    if (first === undefined || s.availability.until < first) first = s.availability.until;
  }
  return first;
}
