/**
 * The latest `gc mark` report of each repository, kept on this machine so that `permafrost
 * cost` and the web view can show the dead share without the private key (they may run with
 * an ingest key) and without walking every tree again.
 *
 * Kept in the state folder restore jobs use (`PERMAFROST_STATE_DIR`, else
 * `$XDG_STATE_HOME/permafrost`, else `~/.local/state/permafrost`) as
 * `gc-marks/<repository id>.json` (folder 0700, file 0600): the report without its live set,
 * and what `gc mark` concluded from it ({@link MarkVerdict}: the dead share of the bill, against
 * its threshold), which a backup reads to say when compaction is due.
 * Written whole to a temporary name and renamed, so a crash leaves the old or the new report.
 * It holds no secret, only pack ids and sizes.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { jobsDir } from "../cold/restore_job.ts";
import { MARK_VERSION, type SavedMark } from "./gc_mark.ts";

/** The folder of saved mark reports, beside restore jobs in the state folder. */
export function marksDir(): string {
  return join(dirname(jobsDir()), "gc-marks");
}

/**
 * What `gc mark` found about the bill when it saved the report: dead data as a share of the
 * monthly bill (a fraction; `null` when it could not be priced), the `--threshold` it was held
 * to (percent), and whether that recommends a compaction. Optional in the file: marks saved
 * before it was kept have none.
 */
export interface MarkVerdict {
  share: number | null;
  thresholdPct: number;
  compact: boolean;
}

/** A saved mark report, with the verdict `gc mark` drew from it. */
export type StoredMark = SavedMark & { verdict?: MarkVerdict };

/** Saves `report` as the repository's latest mark (replacing the earlier one); its path. */
export function saveMark(report: StoredMark, dir = marksDir()): string {
  if (!/^[0-9a-f]{64}$/.test(report.repository)) {
    throw new TypeError(`repository id "${report.repository}" is not 64 lowercase hex digits`);
  }
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${report.repository}.json`);
  const tmp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  Deno.writeTextFileSync(tmp, JSON.stringify(report) + "\n", { mode: 0o600 });
  Deno.renameSync(tmp, path);
  return path;
}

/**
 * The repository's latest saved mark, or `null` when there is none. A file that is not a
 * version 1 report of this repository is a `TypeError` naming it (callers that only show the
 * dead share report it and carry on).
 */
export function loadMark(repository: string, dir = marksDir()): StoredMark | null {
  const path = join(dir, `${repository}.json`);
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
  let mark: StoredMark;
  try {
    mark = JSON.parse(text);
  } catch {
    throw new TypeError(`the saved gc mark "${path}" is not JSON (damaged?)`);
  }
  if (
    mark?.version !== MARK_VERSION || mark.repository !== repository ||
    typeof mark.time !== "string" || !Array.isArray(mark.packs) || !Array.isArray(mark.orphans)
  ) {
    throw new TypeError(`the saved gc mark "${path}" is not a version 1 report of this repository`);
  }
  return mark;
}
