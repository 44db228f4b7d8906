/**
 * Restore amplification: for restoring one directory of a snapshot, the bytes of the packs a
 * restore from cold storage must thaw divided by the bytes of the files it restores. Packs are
 * thawed whole (Deep Archive restores objects, not ranges), so a directory whose blobs share
 * packs with other directories costs more than its own size. The target is at most 2.0 for a
 * directory backed up in one run, with cold packs of 64 MiB (issue 3, item 7).
 *
 * Measured from the plan `restore latest:PATH --dry-run --json` prints (`bytes`: file bytes to
 * restore, `packBytes`: bytes of the whole packs involved, `readBytes`: bytes of the frames the
 * restore downloads from them) for each top-level directory of the backed-up tree and every
 * deeper one holding at least the locality floor; nothing is downloaded. The backup gives a
 * directory packs of its own only from the floor up (a quarter of a data pack: docs/format.md
 * §7.2), so the target is checked from there; a smaller directory shares a pack with its
 * neighbours and is reported, not held to it.
 *
 * @module
 */

import fs from "node:fs";
import path from "node:path";
import { type Command, measure } from "./measure.ts";
import { DEFAULT_CONFIG } from "../host/repository/config.ts";
import { LOCALITY_SHARE } from "../host/repository/pack_uploader.ts";

/** The most pack bytes per restored file byte that counts as on target. */
export const AMPLIFICATION_TARGET = 2.0;

/**
 * File bytes from which a directory is held to the target: the backup's locality floor with the
 * default data packs (`LOCALITY_SHARE` of 64 MiB: 16 MiB).
 */
export const LOCALITY_FLOOR = DEFAULT_CONFIG.pack.dataSize * LOCALITY_SHARE;

/** One directory's restore plan, as far as amplification goes. */
export interface DirAmplification {
  /** The directory's path in the snapshot. */
  path: string;
  files: number;
  /** Bytes of the files the restore writes. */
  fileBytes: number;
  /** Bytes of the frames holding those files' blobs: what is downloaded once packs are readable. */
  readBytes: number;
  /** Packs holding those files' blobs. */
  packs: number;
  /** Bytes of those packs, whole: what a restore from cold storage thaws. */
  packBytes: number;
  /** `packBytes / fileBytes`; null for a directory without file bytes. */
  ratio: number | null;
}

/** Min, median and max over the directories that have file bytes. */
export interface AmplificationSummary {
  /** Directories counted (those with a ratio). */
  dirs: number;
  /** File bytes from which a directory is held to the target. */
  floor: number;
  /** Directories with at least `floor` file bytes, and the largest ratio among them. */
  atFloor: number;
  maxAtFloor: number | null;
  worstAtFloor: string | null;
  min: number;
  median: number;
  max: number;
  /** The snapshot path of the directory with the largest ratio. */
  worst: string;
  /** The ratio of the directory named `large` (the corpus's large binaries), if there is one. */
  large: number | null;
  target: number;
  /** Whether every directory with at least `floor` file bytes is at or under the target. */
  withinTarget: boolean;
}

/** The amplification of one repository, as the report carries it. */
export interface Amplification {
  dirs: DirAmplification[];
  summary: AmplificationSummary | null;
  /** Wall time of all the dry runs. */
  seconds: number;
  /** Why a plan could not be made, when one could not (the directories before it are kept). */
  error?: string;
}

/** Reads one directory's figures from the JSON `restore --dry-run --json` printed. */
export function dirAmplification(snapshotPath: string, planJson: string): DirAmplification {
  const plan = JSON.parse(planJson);
  const num = (key: string): number => {
    const v = plan?.[key];
    if (typeof v !== "number" || !(v >= 0)) {
      throw new TypeError(`the restore plan of "${snapshotPath}" has no number "${key}"`);
    }
    return v;
  };
  const fileBytes = num("bytes"), packBytes = num("packBytes");
  return {
    path: snapshotPath,
    files: num("files"),
    fileBytes,
    readBytes: num("readBytes"),
    packs: num("packs"),
    packBytes,
    ratio: fileBytes > 0 ? packBytes / fileBytes : null,
  };
}

/** The median of `xs` (the mean of the middle two for an even count); NaN when empty. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Summarizes `dirs` against `target`; `large` is the ratio of the directory whose last path
 * component is `largeName`. Null when no directory has file bytes.
 */
export function summarizeAmplification(
  dirs: readonly DirAmplification[],
  target = AMPLIFICATION_TARGET,
  largeName = "large",
  floor = LOCALITY_FLOOR,
): AmplificationSummary | null {
  const counted = dirs.filter((d) => d.ratio !== null);
  if (counted.length === 0) return null;
  const ratios = counted.map((d) => d.ratio!);
  const worstOf = (ds: DirAmplification[]) => ds.reduce((a, b) => (b.ratio! > a.ratio! ? b : a));
  const worst = worstOf(counted);
  const held = counted.filter((d) => d.fileBytes >= floor);
  const worstHeld = held.length > 0 ? worstOf(held) : null;
  const large = counted.find((d) => d.path.split("/").pop() === largeName);
  return {
    dirs: counted.length,
    floor,
    atFloor: held.length,
    maxAtFloor: worstHeld?.ratio ?? null,
    worstAtFloor: worstHeld?.path ?? null,
    min: Math.min(...ratios),
    median: median(ratios),
    max: worst.ratio!,
    worst: worst.path,
    large: large?.ratio ?? null,
    target,
    withinTarget: worstHeld === null || worstHeld.ratio! <= target,
  };
}

/**
 * The directories under `dir` to measure, as paths relative to it, sorted: every top-level
 * one, and every deeper one whose files (the whole subtree's) take at least `floor` bytes.
 */
export function measuredDirs(dir: string, floor = LOCALITY_FLOOR): string[] {
  const out: string[] = [];
  const walk = (rel: string): number => {
    let bytes = 0;
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        const sub = walk(child);
        bytes += sub;
        if (rel === "" || sub >= floor) out.push(child);
      } else if (e.isFile()) bytes += fs.statSync(path.join(dir, child)).size;
    }
    return bytes;
  };
  walk("");
  return out.sort();
}

/**
 * Where `name` under the backed-up directory `source` is in the snapshot: a backup stores a
 * directory argument under its base name (`backup /a/b` holds `/b/...`).
 */
export function snapshotPathOf(source: string, name: string): string {
  return `/${path.basename(path.resolve(source))}/${name}`;
}

/**
 * Runs `plan(snapshotPath)` (a `restore --dry-run --json`) for each directory `measuredDirs`
 * names in the backed-up tree `source`, one after the other, and summarizes. Stops at the first plan that
 * fails and says why in `error`.
 */
export async function measureAmplification(
  plan: (snapshotPath: string) => Command,
  source: string,
  log = (_: string) => {},
): Promise<Amplification> {
  const t0 = performance.now();
  const dirs: DirAmplification[] = [];
  let error: string | undefined;
  for (const name of measuredDirs(source)) {
    const at = snapshotPathOf(source, name);
    log(`  plan of ${at} ...`);
    const m = await measure(plan(at));
    try {
      if (m.code !== 0) {
        throw new Error(`exited with code ${m.code}: ${m.stderr.trim().split("\n").pop()}`);
      }
      dirs.push(dirAmplification(at, m.stdout));
    } catch (err) {
      error = `restore plan of "${at}": ${err instanceof Error ? err.message : err}`;
      break;
    }
  }
  return {
    dirs,
    summary: summarizeAmplification(dirs),
    seconds: (performance.now() - t0) / 1000,
    ...(error === undefined ? {} : { error }),
  };
}
