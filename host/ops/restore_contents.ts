/**
 * Step 2 of a restore (`restore.ts`): file contents, pack by pack, one ranged read per run of
 * nearby frames, each blob verified against its id and handed to the writer worker. A pack that
 * is missing or damaged gives up only the blobs not yet written: they are read from other copies
 * the index knows (docs/security.md "Poison deduplication"), if each has one; otherwise the
 * restore stops with an error naming the pack, a file that needs it, and the check to run.
 *
 * @module
 */

import { posix, relative, sep } from "node:path";
import { blobId } from "../crypto/mac.ts";
import { release } from "../crypto/bytes.ts";
import { IntegrityError } from "../crypto/errors.ts";
import { ObjectNotFound } from "../../plugins/sdk/errors.ts";
import { isDamage, type Repository } from "../repository/repository.ts";
import type { BlobEntry } from "../repository/repo_index.ts";
import type { TreeNode } from "../repository/tree.ts";
import {
  chooseCopies,
  type PlannedFrame,
  type PlannedPack,
  plannedPacks,
  type RestorePlan,
} from "./restore_plan.ts";
import { seedPicking } from "./sample_pick.ts";
import type { RestoreWriter } from "./restore_writer.ts";
import { entryMetadata } from "./restore_fs.ts";

/** Frames closer than this are read in one request. */
const COALESCE_GAP = 1 << 20;
/** The most bytes one ranged read asks for. */
const MAX_READ = 4 << 20;

/**
 * A file being written: its final path, the temporary name its bytes go to until it is complete
 * (`restore.ts`), and how many blobs are due.
 */
export interface OpenFile {
  path: string;
  writePath: string;
  node: TreeNode;
  left: number;
}

/** Where one blob goes: a range of a pre-sized file, or (`whole`) a one-chunk file entire. */
export interface Target {
  file: OpenFile;
  offset: number;
  whole?: boolean;
}

/** What writing the contents reads and updates (part of `executeRestore`'s state). */
export interface ContentsState {
  repo: Repository;
  plan: RestorePlan;
  /** The restore target, absolute: snapshot paths in messages are found from it. */
  target: string;
  writer: RestoreWriter;
  /** Where each blob goes, by blob id (laid out by step 1). */
  targets: Map<string, Target[]>;
  /** Bytes read from packs so far. */
  readBytes: number;
  options: { onWarning?: (message: string) => void };
}

/**
 * The packs still to read and what is known to be wrong. A copy is ruled out with its pack when
 * the pack is missing, or alone when its frame does not verify (a pack damaged in one frame
 * still serves the others), or when its index entry points at other bytes.
 */
interface Fallback {
  /** The plan's packs, then packs holding other copies of what could not be read. */
  queue: PlannedPack[];
  /** Blobs written to every place that needs them. */
  delivered: Set<string>;
  /** Packs found missing. */
  missing: Set<string>;
  /** Frames (`frameKey`) that did not verify, and entries (`entryKey`) that point elsewhere. */
  bad: Set<string>;
}

/**
 * Reads every planned pack and hands each verified blob to the writer; reads other copies for
 * what a missing or damaged pack could not give. Throws (from `noOtherCopy`) when some blob has
 * no other copy, and passes on any error that is neither a missing object nor damage.
 */
export async function writeContents(s: ContentsState): Promise<void> {
  const f: Fallback = {
    queue: [...s.plan.packs],
    delivered: new Set(),
    missing: new Set(),
    bad: new Set(),
  };
  for (let i = 0; i < f.queue.length; i++) {
    const pack = f.queue[i];
    const mismatched: BlobEntry[] = [];
    let failure: unknown;
    try {
      await readPack(s, f, pack, mismatched);
    } catch (err) {
      if (!(err instanceof ObjectNotFound) && !isDamage(err)) throw err;
      failure = err;
    }
    if (mismatched.length > 0) rereadMismatched(s, f, pack.pack, mismatched);
    if (failure !== undefined) rereadUnwritten(s, f, pack, failure as Error, mismatched);
  }
}

/**
 * Reads `pack`'s frames run by run, verifies each blob against its id and hands it to the
 * writer. A blob whose bytes do not match its id is added to `mismatched` (its entry is wrong;
 * the frame itself verified, so its other blobs are used). Throws what reading or opening throws.
 */
async function readPack(
  s: ContentsState,
  f: Fallback,
  pack: PlannedPack,
  mismatched: BlobEntry[],
): Promise<void> {
  const { repo, writer } = s;
  const key = await repo.dataKey(pack.pack, pack.metadata);
  for (const run of frameRuns(pack)) {
    const first = run[0].frameOffset;
    const end = run[run.length - 1].frameOffset + run[run.length - 1].frameLength;
    const bytes = await repo.readPack(pack.pack, pack.metadata, {
      offset: first,
      length: end - first,
    });
    s.readBytes += bytes.length;
    for (const frame of run) {
      const at = frame.frameOffset - first;
      const plain = await repo.openFrame(
        key,
        bytes.subarray(at, at + frame.frameLength),
        frame.frameOffset,
        pack.pack,
      );
      writer.frame(plain); // the writer owns the plaintext from here
      for (const blob of frame.blobs) {
        const data = plain.subarray(blob.offsetInFrame, blob.offsetInFrame + blob.length);
        if (data.length !== blob.length || blobId(repo.keys.macKey, data) !== blob.id) {
          mismatched.push(blob);
          continue;
        }
        deliver(s, blob.id, data);
        f.delivered.add(blob.id);
      }
      await writer.room();
    }
    release(bytes);
  }
}

/**
 * Hands one verified blob to the writer for every place that needs it: a one-chunk file whole,
 * or a range of a pre-sized file. The write that completes a file also stamps it and renames it
 * from its temporary name into place.
 */
function deliver(s: ContentsState, id: string, data: Uint8Array): void {
  for (const t of s.targets.get(id) ?? []) {
    const { file } = t;
    const final = file.writePath !== file.path ? file.path : undefined;
    const last = --file.left === 0;
    if (t.whole) {
      s.writer.whole(file.writePath, data, entryMetadata(file.node), final);
      continue;
    }
    const finish = last ? { meta: entryMetadata(file.node), final } : undefined;
    s.writer.range(file.writePath, t.offset, data, finish);
  }
}

/**
 * Rules out the entries of `pack` that point at other bytes and queues other copies of their
 * blobs, with a warning; an `IntegrityError` (via `noOtherCopy`) when some blob has none.
 */
function rereadMismatched(
  s: ContentsState,
  f: Fallback,
  pack: string,
  mismatched: BlobEntry[],
): void {
  for (const b of mismatched) f.bad.add(entryKey(b));
  const message = `pack "${pack}" does not hold what the index says: ` +
    `${mismatched.length} blobs (e.g. "${mismatched[0].id}") are not where an index entry ` +
    "puts them (the entry is wrong, or forged)";
  if (!elsewhere(s, f, mismatched, message)) {
    throw noOtherCopy(s, pack, new IntegrityError(message), mismatched);
  }
}

/**
 * After `pack` failed with `failure` (missing, or damaged): the blobs it has not written (and
 * that `mismatched` has not already sent elsewhere) are read again. A damaged read that spans
 * several frames is queued frame by frame, since which one is damaged is not known; a missing
 * pack or a single damaged frame is ruled out and its blobs queued from other copies, with a
 * warning. Throws `failure` (via `noOtherCopy`) when some blob has no other copy.
 */
function rereadUnwritten(
  s: ContentsState,
  f: Fallback,
  pack: PlannedPack,
  failure: Error,
  mismatched: BlobEntry[],
): void {
  const handled = new Set(mismatched.map((b) => b.id));
  const frames = pack.frames
    .map((fr) => ({
      ...fr,
      blobs: fr.blobs.filter((b) => !f.delivered.has(b.id) && !handled.has(b.id)),
    }))
    .filter((fr) => fr.blobs.length > 0);
  if (frames.length === 0) return;
  const gone = failure instanceof ObjectNotFound;
  if (!gone && frames.length > 1) {
    f.queue.push(...frames.map((fr) => ({ ...pack, frames: [fr] })));
    return;
  }
  if (gone) f.missing.add(pack.pack);
  else f.bad.add(frameKey(pack.pack, frames[0]));
  const due = frames.flatMap((fr) => fr.blobs);
  if (!elsewhere(s, f, due, failure.message)) throw noOtherCopy(s, pack.pack, failure, due);
}

/** Queues other copies of `due`, with a warning; false when some blob has none. */
function elsewhere(s: ContentsState, f: Fallback, due: BlobEntry[], message: string): boolean {
  const usable = (c: BlobEntry) =>
    !f.missing.has(c.pack) && !f.bad.has(frameKey(c.pack, c)) && !f.bad.has(entryKey(c));
  const packs = otherCopies(s.repo, due, usable);
  if (packs === undefined) return false;
  s.options.onWarning?.(`${message}; ${due.length} blobs are read from other copies`);
  f.queue.push(...packs);
  return true;
}

/** Groups a pack's frames into runs read with one request each. */
export function frameRuns(pack: PlannedPack): PlannedFrame[][] {
  const runs: PlannedFrame[][] = [];
  let run: PlannedFrame[] = [];
  for (const f of pack.frames) {
    const last = run[run.length - 1];
    if (
      last &&
      (f.frameOffset - (last.frameOffset + last.frameLength) > COALESCE_GAP ||
        f.frameOffset + f.frameLength - run[0].frameOffset > MAX_READ)
    ) {
      runs.push(run);
      run = [];
    }
    run.push(f);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

/**
 * Packs holding another usable copy of each of `due`; undefined when some blob has none.
 */
function otherCopies(
  repo: Repository,
  due: { id: string }[],
  usable: (c: BlobEntry) => boolean,
): PlannedPack[] | undefined {
  const copiesOf = (id: string) => repo.index.copies(id).filter(usable);
  if (due.some((b) => copiesOf(b.id).length === 0)) return undefined;
  return plannedPacks(repo.index, chooseCopies(copiesOf, due)).packs;
}

/** The snapshot path of a file that needs blob `id`, for messages. */
function fileOf(s: ContentsState, id: string): string | undefined {
  const file = s.targets.get(id)?.[0]?.file;
  if (file === undefined) return undefined;
  const base = s.plan.path === "/" ? "/" : posix.dirname(s.plan.path);
  return posix.join(base, relative(s.target, file.path).split(sep).join("/"));
}

/**
 * The error that stops a restore: blobs of `pack` that no other copy the index knows can give.
 * `cause` says what is wrong with the pack; added: a file that needs them, and what to run to
 * learn more: `check` names the snapshots a missing pack breaks; a check that reads just this
 * pack (`sample_pick.ts` `seedPicking`) names its damage and any index segment claiming a blob
 * it does not hold (docs/security.md "Poison deduplication").
 */
function noOtherCopy(
  s: ContentsState,
  pack: string,
  cause: Error,
  due: { id: string }[],
): Error {
  const files = [...new Set(due.map((b) => fileOf(s, b.id)).filter((f) => f !== undefined))];
  const needed = files.length === 0
    ? ""
    : ` of "${files[0]}"${files.length > 1 ? ` and ${files.length - 1} other files` : ""}`;
  let todo: string;
  if (cause instanceof ObjectNotFound) {
    todo = "run `permafrost check` to list the snapshots that need it";
  } else {
    const seed = seedPicking(pack, [...s.repo.index.packs()].map((p) => p.id));
    todo = seed === undefined
      ? "run `permafrost check --read-data` to find what is wrong with it"
      : `run \`permafrost check --read-data-subset 1@${seed}\` to read just this pack and ` +
        "find what is wrong with it (a damaged frame or header, or an index segment that " +
        "claims what it does not hold)";
  }
  if (!cause.message.includes(pack)) cause.message = `pack "${pack}": ${cause.message}`;
  cause.message += `; ${due.length} blobs${needed} have no other copy the index knows, so ` +
    `they cannot be restored: ${todo}`;
  return cause;
}

function frameKey(pack: string, frame: { frameOffset: number }): string {
  return `${pack}@${frame.frameOffset}`;
}

/** One index entry: a blob's id at its place in a pack. */
function entryKey(b: BlobEntry): string {
  return `${b.pack}@${b.frameOffset}+${b.offsetInFrame}:${b.id}`;
}
