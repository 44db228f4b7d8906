/**
 * A deep check's reading of one pack object whole (`check --read-data`, `--read-data-subset`):
 * three questions, each about a different thing a pack could be lying about.
 *
 * 1. **Its name** (docs/format.md §2): the object's id is the SHA-256 of its bytes, for
 *    `packs/<id>` and for the hot copy `meta/<id>` alike. Two same-size packs swapped, or one
 *    copied over another, pass every other test: their frames open and their blobs verify.
 * 2. **Its own contents** (§6): every frame opens, and every blob its TOC lists matches its id.
 * 3. **What the index says of it** (§7): every index entry naming the pack (every copy the
 *    effective index knows, `RepoIndex.locations`) is in the pack's verified TOC at the same
 *    frame, offset and length. An ingest client can write a segment claiming that a real pack
 *    holds a blob it does not ("Poison deduplication", docs/security.md); reads then fail while
 *    the pack itself is whole. Each such entry is reported with the segments that claim it.
 *    Not asked of another pack's bytes, which say nothing about this pack.
 *
 * @module
 */

import { sha256Hex } from "../crypto/hash.ts";
import { blobId } from "../crypto/mac.ts";
import type { BlobEntry, PackInfo } from "../repository/repo_index.ts";
import { openIndexSegment } from "../repository/index_segment.ts";
import { layout } from "../repository/layout.ts";
import {
  type BlobLocation,
  openDataKey,
  openFrameAsync,
  PACK_HEADER_LENGTH,
  readPackContents,
} from "../repository/pack.ts";
import { isDamage, type Repository } from "../repository/repository.ts";
import type { Problem } from "./check.ts";

/** Wrong index entries reported one by one per pack; the rest are counted in one problem. */
const ENTRIES_LISTED = 10;

/** The index entries naming each of `packs` (every copy the effective index knows). */
export function indexClaims(repo: Repository, packs: Set<string>): Map<string, BlobEntry[]> {
  const out = new Map<string, BlobEntry[]>();
  for (const e of repo.index.locations()) {
    if (!packs.has(e.pack)) continue;
    const list = out.get(e.pack);
    if (list) list.push(e);
    else out.set(e.pack, [e]);
  }
  return out;
}

/**
 * Checks the object `name` (a copy of pack `pack`) from its whole `bytes`: questions 1 and 2
 * of the module doc, and 3 against `claims` unless `claims` is undefined (asked once per pack,
 * of its first copy whose bytes are its own). Bytes that are not the pack's own are reported
 * when they are another indexed pack's, or when nothing else shows it (every frame opens); a
 * damaged frame is reported as such. Returns its problems and whether the bytes are the pack's
 * own, damaged or not (not another pack's). Throws what `readPackContents` throws when the
 * header or TOC does not open.
 */
export async function verifyPack(
  repo: Repository,
  pack: PackInfo,
  name: string,
  bytes: Uint8Array,
  claims?: readonly BlobEntry[],
): Promise<{ problems: Problem[]; own: boolean }> {
  const sha = sha256Hex(bytes);
  const other = sha === pack.id ? undefined : repo.index.pack(sha);
  const toc = readPackContents(bytes, repo.keys);
  const problems = await verifyFrames(repo, pack.id, bytes, toc.blobs);
  if (sha !== pack.id && (other || problems.length === 0)) {
    problems.push({
      pack: pack.id,
      message: `"${name}" does not hold its own bytes (their SHA-256 is ${sha.slice(0, 12)}…): ` +
        (other
          ? `they are the bytes of pack "${other.id}" (the two were swapped, or one was ` +
            "copied over the other)"
          : "another object was stored under its name") +
        `. Reads of this pack fail; store each pack's own bytes under its own name (a copy of ` +
        "the repository may hold them)",
    });
  }
  const own = sha === pack.id || (!other && problems.length > 0);
  if (own && toc.metadata !== pack.metadata) {
    const kind = (metadata: boolean) => metadata ? "metadata" : "data";
    problems.push({
      pack: pack.id,
      message: `the index says a ${kind(pack.metadata)} pack, its header a ${kind(toc.metadata)} ` +
        "pack",
    });
  }
  if (own && claims) problems.push(...await verifyClaims(repo, pack.id, toc.blobs, claims));
  return { problems, own };
}

/** Opens every frame of a pack and checks every blob its TOC lists against its id. */
async function verifyFrames(
  repo: Repository,
  pack: string,
  bytes: Uint8Array,
  blobs: readonly BlobLocation[],
): Promise<Problem[]> {
  const problems: Problem[] = [];
  const key = openDataKey(bytes.subarray(0, PACK_HEADER_LENGTH), repo.keys);
  const frames = new Map<number, Uint8Array | null>();
  for (const b of blobs) {
    let plain = frames.get(b.frameOffset);
    if (plain === null) continue; // this frame is damaged: reported once below
    if (!plain) {
      try {
        plain = await openFrameAsync(
          key,
          bytes.subarray(b.frameOffset, b.frameOffset + b.frameLength),
          b.frameOffset,
        );
      } catch (err) {
        frames.set(b.frameOffset, null);
        const lost = blobs.filter((x) => x.frameOffset === b.frameOffset);
        problems.push({
          pack,
          blob: b.id,
          message: `frame at offset ${b.frameOffset} is damaged (${
            errMessage(err)
          }); its ${lost.length} blobs are unreadable: ${
            lost.map((x) => x.id.slice(0, 12)).join(", ")
          }`,
        });
        continue;
      }
      frames.set(b.frameOffset, plain);
    }
    const data = plain.subarray(b.offsetInFrame, b.offsetInFrame + b.length);
    if (data.length !== b.length || blobId(repo.keys.macKey, data) !== b.id) {
      problems.push({ pack, blob: b.id, message: "blob does not match its id" });
    }
  }
  return problems;
}

/** Question 3: the index entries naming `pack` that its TOC does not hold as they say. */
async function verifyClaims(
  repo: Repository,
  pack: string,
  toc: readonly BlobLocation[],
  claims: readonly BlobEntry[],
): Promise<Problem[]> {
  const held = new Set(toc.map(entryKey));
  const wrong = claims.filter((c) => !held.has(entryKey(c)));
  if (wrong.length === 0) return [];
  const claimants = await claimingSegments(repo, pack, wrong);
  const where = new Map(toc.map((b) => [b.id, b]));
  const by = (e: BlobEntry) => {
    const names = claimants.get(entryKey(e)) ?? [];
    return names.length === 0
      ? ""
      : ` (claimed by ${names.map((id) => `"${layout.index(id)}"`).join(", ")})`;
  };
  const problems: Problem[] = wrong.slice(0, ENTRIES_LISTED).map((e) => {
    const actual = where.get(e.id);
    return {
      pack,
      blob: e.id,
      message: `an index entry says this pack holds the blob (frame at ${e.frameOffset}, ` +
        `${e.length} bytes at ${e.offsetInFrame}); ${
          actual
            ? `the pack holds it elsewhere (frame at ${actual.frameOffset}, ${actual.length} ` +
              `bytes at ${actual.offsetInFrame})`
            : "the pack does not hold it"
        }${by(e)}: reads through this entry fail. ${REPAIR}`,
    };
  });
  if (wrong.length > ENTRIES_LISTED) {
    const segments = [...new Set(wrong.flatMap((e) => claimants.get(entryKey(e)) ?? []))];
    problems.push({
      pack,
      message: `and ${wrong.length - ENTRIES_LISTED} more index entries say this pack holds ` +
        `blobs it does not hold there${
          segments.length > 0
            ? ` (claimed by ${segments.map((id) => `"${layout.index(id)}"`).join(", ")})`
            : ""
        }`,
    });
  }
  return problems;
}

/** What to do about an index entry a pack does not hold (docs/security.md). */
const REPAIR = 'An ingest client can claim what it cannot check (docs/security.md, "Poison ' +
  'deduplication"): delete the segment that claims it; `permafrost rebuild` then indexes again ' +
  "any pack only that segment named";

/**
 * For each of `wrong` (by `entryKey`), the effective segments whose record of `pack` holds it:
 * the segments naming the pack (`Repository.segments`) are read again, only for a pack with
 * wrong entries. A segment that cannot be read now is left out.
 */
async function claimingSegments(
  repo: Repository,
  pack: string,
  wrong: readonly BlobEntry[],
): Promise<Map<string, string[]>> {
  const keys = new Set(wrong.map(entryKey));
  const out = new Map<string, string[]>();
  const superseded = repo.supersededSegments();
  for (const s of repo.segments()) {
    if (superseded.has(s.id) || !s.packs.includes(pack)) continue;
    let records;
    try {
      records = openIndexSegment(repo.keys.indexKey, await repo.storage.read(layout.index(s.id)))
        .packs;
    } catch (err) {
      if (isDamage(err) || (err as Error).name === "ObjectNotFound") continue;
      throw err;
    }
    for (const r of records) {
      if (r.pack !== pack) continue;
      for (const b of r.blobs) {
        const k = entryKey(b);
        if (!keys.has(k)) continue;
        const list = out.get(k) ?? [];
        if (!list.includes(s.id)) list.push(s.id);
        out.set(k, list);
      }
    }
  }
  return out;
}

export function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** One blob entry's every field (§6.3): an index entry and a TOC entry are equal as these. */
function entryKey(b: BlobLocation): string {
  return `${b.id}:${b.type}@${b.frameOffset}+${b.frameLength}/${b.offsetInFrame}+${b.length}`;
}
