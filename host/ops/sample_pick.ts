/**
 * The sample of packs `check --read-data-subset` reads whole, and how it is chosen.
 *
 * A subset is written `N%` (a share of the indexed packs, rounded up, at least one) or `N`,
 * `Np`, `N packs` (a number of packs; all of them when there are fewer), optionally followed by
 * `@SEED`. The packs (data and metadata alike) are ordered by
 * `SHA-256("permafrost check sample v1\n" ‖ SEED ‖ "\n" ‖ pack id)` and the first ones taken.
 * Nothing is stored: the same seed over the same index picks the same packs, so a check that
 * had to wait for restores picks, when run again, the packs it asked to restore. A larger
 * subset with the same seed holds the smaller one, and a pack added to the index joins the
 * sample only where its hash sorts in. Without `@SEED` the seed is the UTC date (`2026-11-26`):
 * checks on different days read different packs, reruns on the same day the same ones, and
 * the command prints the seed so a rerun on a later day can give it back.
 *
 * @module
 */

import { sha256Hex } from "../crypto/hash.ts";
import { utf8 } from "../crypto/bytes.ts";

/** A parsed `--read-data-subset`: a share or a count of packs, and the seed if one was given. */
export type SubsetSpec =
  & ({ percent: number; count?: undefined } | { count: number; percent?: undefined })
  & { seed?: string };

const SEED = /^[A-Za-z0-9._-]{1,64}$/;
const PERCENT = /^([0-9]+(?:\.[0-9]+)?)\s*%$/;
const COUNT = /^([0-9]+)\s*(?:p|packs?)?$/;

/**
 * Parses `10%`, `0.5%`, `5`, `5p`, `5 packs`, each optionally followed by `@SEED` (letters,
 * digits, `.`, `_`, `-`; up to 64). `TypeError` naming the spec for anything else, a share
 * outside (0, 100] or a count below 1.
 */
export function parseSubset(text: string): SubsetSpec {
  const at = text.lastIndexOf("@");
  const body = (at < 0 ? text : text.slice(0, at)).trim();
  const seed = at < 0 ? undefined : text.slice(at + 1).trim();
  if (seed !== undefined && !SEED.test(seed)) {
    throw new TypeError(
      `the seed in subset "${text}" must be 1-64 letters, digits, ".", "_" or "-"`,
    );
  }
  const pct = PERCENT.exec(body);
  if (pct) {
    const percent = Number(pct[1]);
    if (!(percent > 0 && percent <= 100)) {
      throw new TypeError(`subset "${text}" must be a share above 0% and at most 100%`);
    }
    return { percent, ...(seed ? { seed } : {}) };
  }
  const n = COUNT.exec(body);
  if (n && Number(n[1]) >= 1 && Number.isSafeInteger(Number(n[1]))) {
    return { count: Number(n[1]), ...(seed ? { seed } : {}) };
  }
  throw new TypeError(
    `subset "${text}" is not a share or a number of packs: write e.g. 10%, 5 or 5p, ` +
      `optionally followed by @SEED`,
  );
}

/** How many of `total` packs `spec` reads: a share rounded up (at least 1), or the count. */
export function sampleSize(spec: SubsetSpec, total: number): number {
  if (total === 0) return 0;
  if (spec.percent !== undefined) {
    // Rounded to 9 decimals first, so 10% of 30 is 3, not 4 through 30 × 0.1 = 3.0000000004.
    const exact = Math.round(total * spec.percent / 100 * 1e9) / 1e9;
    return Math.min(total, Math.max(1, Math.ceil(exact)));
  }
  return Math.min(total, spec.count);
}

/** The seed used when the subset names none: the UTC date of `now`, `YYYY-MM-DD`. */
export function defaultSeed(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}

/** The subset written back with its seed, for the command that reruns the same sample. */
export function subsetText(spec: SubsetSpec, seed: string): string {
  return `${spec.percent !== undefined ? `${spec.percent}%` : `${spec.count}`}@${seed}`;
}

/** The first `size` of `packIds` in the seed's order (module doc); ties cannot occur. */
export function pickSample(packIds: Iterable<string>, seed: string, size: number): string[] {
  const keyed = [...packIds].map((id) => ({ id, key: sampleKey(seed, id) }));
  keyed.sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  return keyed.slice(0, size).map((k) => k.id);
}

/** How many sample keys `seedPicking` computes at most before it gives up. */
const PICK_WORK = 2_000_000;

/**
 * A seed whose sample of one pack (`--read-data-subset 1@SEED`) is `pack`, among `packIds`, so
 * a message can name the check that reads just that pack; undefined when none is found within
 * a bounded search. Seeds are tried in turn (`<first 8 digits of pack>.<n>`); each picks
 * `pack` with chance 1/N for N packs, and a seed that does not is mostly ruled out after a few
 * keys, so the search costs about N·ln N hashes (a second for 100,000 packs).
 */
export function seedPicking(pack: string, packIds: Iterable<string>): string | undefined {
  const others = [...packIds].filter((id) => id !== pack);
  let work = 0;
  for (let n = 0; work < PICK_WORK; n++) {
    const seed = `${pack.slice(0, 8)}.${n}`;
    const key = sampleKey(seed, pack);
    const after = (id: string) => {
      work++;
      return sampleKey(seed, id) > key;
    };
    work++;
    if (others.every(after)) return seed;
  }
  return undefined;
}

function sampleKey(seed: string, id: string): string {
  return sha256Hex(utf8(`permafrost check sample v1\n${seed}\n${id}`));
}
