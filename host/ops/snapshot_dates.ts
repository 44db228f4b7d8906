/**
 * When each snapshot was stored, as the store can prove it: the clock `forget` applies its keep
 * policy by (docs/format.md §9.1, last paragraphs; docs/security.md "Client clocks").
 *
 * A snapshot's date is the earlier of two times that the store sets and no client can:
 * - the store's time of its manifest `snapshots/<id>` (`modified` in the listing);
 * - the store's time of the cold pack `packs/<P>` that holds its details blob (§9.2), when P is
 *   shown to hold it: P's bytes (its hot copy `meta/<P>`, else `packs/<P>`) hash to P, P is a
 *   metadata pack, its own TOC, opened with the private key, lists the blob, and the blob's
 *   copy of the manifest equals the snapshot's manifest (its `stats` aside).
 *
 * A backup stores the details' pack before the manifest (§10 item 5), so an untouched repository
 * is dated by the pack, a little before its manifest. A rebuild (§10 item 6) writes every
 * manifest anew but leaves the packs and their store times alone: the same snapshots get the
 * same dates, and retention decides after a rebuild exactly as before it.
 *
 * Why each check, against an ingest client that holds the index, MAC and public keys and may
 * create packs, `meta/` copies, index segments and manifests, but not delete or overwrite:
 * - The index only says which packs to look at; a forged entry naming an old pack is refuted by
 *   that pack's own TOC.
 * - The hash: a hot copy `meta/<P>` may have been planted (say for a data pack, which has none)
 *   with a TOC of the attacker's making; bytes that hash to P are the pack stored as `packs/<P>`.
 * - The manifest comparison: a forged manifest may name an old, real details blob; it is dated
 *   by that blob's pack only if it is the same snapshot (same root, host, paths, tags, claimed
 *   time...), so the most it gains is a duplicate of an existing snapshot. `stats` are left out
 *   because they decide neither retention nor a restore, and details written by early versions
 *   hold zero counters (§9.2).
 * A new details blob can only be in a pack stored after it was made, so nothing here can date a
 * snapshot before its content existed; a store time cannot be set back.
 *
 * Otherwise the manifest's time stands (without it, the claimed time). When the index names no
 * stored pack holding the details, or names one stored before the manifest that cannot be shown
 * to hold them (hot copy and pack missing, archived or damaged; another snapshot's details),
 * `fallback` says why, so the caller can say so.
 *
 * Cost: one listing of `snapshots/` and of `packs/`, the index, and one whole read of each pack
 * that the index names as holding a selected snapshot's details and that was stored before its
 * manifest, each read at most once per call. A backup puts its details in a small metadata pack
 * of their own, so that is one small hot read per snapshot. A forged segment can name more
 * packs to read, each once and none over `MAX_DATING_PACK_BYTES`; an archived one costs a
 * refused GET. A pack over `HEADER_FIRST_BYTES` is read whole only after its 88-byte header says
 * it is a metadata pack, so a forged segment naming every data pack (and a hot copy planted
 * under each) costs a header read per pack, not a read of the repository.
 *
 * @module
 */

import { NeedsRestore, ObjectNotFound } from "../../plugins/sdk/errors.ts";
import { sha256Hex } from "../crypto/hash.ts";
import { requirePrivateKey } from "../repository/keys.ts";
import { idOf, kindOf, layout } from "../repository/layout.ts";
import {
  blobFromFrame,
  openDataKey,
  openFrame,
  PACK_HEADER_LENGTH,
  packHeader,
  readPackContents,
} from "../repository/pack.ts";
import {
  inBatches,
  isDamage,
  type Repository,
  type SnapshotEntry,
} from "../repository/repository.ts";
import {
  decodeDetails,
  type SnapshotDetails,
  type SnapshotManifest,
} from "../repository/snapshot.ts";

/** What dated a snapshot: the pack of its details, its manifest, or (no store time) the client. */
export type DatedBy = "pack" | "manifest" | "claimed";

/** A snapshot's date and where it comes from. */
export interface SnapshotDate {
  /** ISO 8601. */
  time: string;
  by: DatedBy;
  /** The pack whose store time it is, when `by` is `"pack"`. */
  pack?: string;
  /**
   * Why no pack dated it although the index names one stored before its manifest, or none
   * holding its details at all: a sentence naming the pack or blob.
   */
  fallback?: string;
}

/** The dates of the snapshots asked for, by snapshot id, and what finding them read. */
export interface SnapshotDates {
  dates: Map<string, SnapshotDate>;
  /** Packs read whole (hot copies, or cold packs where readable) to check their contents. */
  packsRead: number;
  bytesRead: number;
}

/** Packs checked at once. */
const CONCURRENCY = 8;
/**
 * Packs larger than this are not read to date a snapshot (its manifest does): a backup's details
 * pack holds one small blob, and a forged index entry must not make `forget` read a huge pack.
 */
export const MAX_DATING_PACK_BYTES = 64 << 20;
/**
 * Packs larger than this have their header read (a ranged read) before they are read whole; a
 * backup's details pack (about 540 bytes) is read in one request.
 */
export const HEADER_FIRST_BYTES = 1 << 20;

/** Dates `snapshots` (entries of `repo.snapshots()`); needs the private key. */
export async function dateSnapshots(
  repo: Repository,
  snapshots: readonly SnapshotEntry[],
): Promise<SnapshotDates> {
  requirePrivateKey(repo.keys, "snapshot details");
  const manifestTimes = await stored(repo, layout.prefixes.snapshot, "snapshot");
  const packs = await stored(repo, layout.prefixes.pack, "pack");
  const hotCopies = await stored(repo, layout.prefixes.meta, "meta");
  await repo.loadIndex();
  const reader = new DetailsReader(repo, hotCopies);
  const dates = new Map<string, SnapshotDate>();
  await inBatches([...snapshots], CONCURRENCY, async ({ id, manifest }) => {
    // Every stored pack the index names, whatever kind it says: the pack's own header decides.
    const named = [...new Set(repo.index.copies(manifest.details).map((c) => c.pack))]
      .filter((pack) => packs.has(pack));
    const candidates = named.flatMap((pack) => {
      const { at, size } = packs.get(pack)!;
      return at === undefined ? [] : [{ pack, at, size }];
    }).sort((a, b) => a.at - b.at);
    const date = await dateOne(manifest, manifestTimes.get(id)?.at, candidates, reader);
    if (named.length === 0) {
      date.fallback = `no stored pack that the index names holds its details blob ` +
        `"${manifest.details}"`;
    }
    dates.set(id, date);
  });
  return { dates, packsRead: reader.packsRead, bytesRead: reader.bytesRead };
}

/** The earliest candidate shown to hold the details, if earlier than the manifest. */
async function dateOne(
  manifest: SnapshotManifest,
  manifestAt: number | undefined,
  candidates: { pack: string; at: number; size: number }[],
  reader: DetailsReader,
): Promise<SnapshotDate> {
  const refusals: string[] = [];
  for (const { pack, at, size } of candidates) {
    if (manifestAt !== undefined && at >= manifestAt) break; // the manifest is as early
    const refused = size > MAX_DATING_PACK_BYTES
      ? `pack "${pack}" is too large to check (${size} bytes)`
      : await reader.refute(pack, size, manifest);
    if (refused === undefined) return { time: iso(at), by: "pack", pack };
    refusals.push(refused);
  }
  const date: SnapshotDate = manifestAt === undefined
    ? { time: manifest.time, by: "claimed" }
    : { time: iso(manifestAt), by: "manifest" };
  if (refusals.length > 0) date.fallback = refusals.join("; ");
  return date;
}

/**
 * Reads metadata packs whole, once each, and says whether one holds a snapshot's details.
 * Only what a pack's own verified bytes say counts.
 */
class DetailsReader {
  packsRead = 0;
  bytesRead = 0;
  /** Per pack: its details blobs (each decoded, or why not), or why the pack cannot tell. */
  #packs = new Map<string, Promise<Map<string, SnapshotDetails | string> | string>>();

  /** `hotCopies`: the objects under `meta/`, as `stored` lists them. */
  constructor(
    private readonly repo: Repository,
    private readonly hotCopies: Map<string, { size: number }>,
  ) {}

  /**
   * `undefined` when `pack` (of `size` bytes in `packs/`) holds `manifest`'s details; else why
   * not, as a sentence.
   */
  async refute(
    pack: string,
    size: number,
    manifest: SnapshotManifest,
  ): Promise<string | undefined> {
    let loading = this.#packs.get(pack);
    if (loading === undefined) {
      loading = this.#load(pack, size);
      this.#packs.set(pack, loading);
    }
    const held = await loading;
    if (typeof held === "string") return held;
    const details = held.get(manifest.details);
    if (details === undefined) {
      return `pack "${pack}" does not hold its details blob "${manifest.details}"`;
    }
    if (typeof details === "string") return details;
    if (!sameSnapshot(details.manifest, manifest)) {
      return `its details blob "${manifest.details}" in pack "${pack}" describes another snapshot`;
    }
    return undefined;
  }

  async #load(pack: string, size: number): Promise<Map<string, SnapshotDetails | string> | string> {
    const bytes = await this.#readWhole(pack, size);
    if (typeof bytes === "string") return bytes;
    try {
      const { metadata, blobs } = readPackContents(bytes, this.repo.keys);
      if (!metadata) return `pack "${pack}" is not a metadata pack`;
      const key = openDataKey(bytes.subarray(0, PACK_HEADER_LENGTH), this.repo.keys);
      const out = new Map<string, SnapshotDetails | string>();
      for (const b of blobs) {
        if (b.type !== "snapshot") continue;
        try {
          const frame = bytes.subarray(b.frameOffset, b.frameOffset + b.frameLength);
          const plain = openFrame(key, frame, b.frameOffset);
          out.set(b.id, decodeDetails(blobFromFrame(plain, b, this.repo.keys.macKey)));
        } catch (err) {
          if (!isDamage(err)) throw err;
          out.set(b.id, `details blob "${b.id}" in pack "${pack}" is damaged: ${message(err)}`);
        }
      }
      return out;
    } catch (err) {
      if (!isDamage(err)) throw err;
      return `pack "${pack}" is damaged: ${message(err)}`;
    }
  }

  /**
   * The pack's bytes from its hot copy, else its cold object, only if they hash to its id. A hot
   * copy of another size than the pack is not read (it cannot be the pack: maybe planted). Of a
   * pack over `HEADER_FIRST_BYTES`, the cold object's header is read first, where readable: it
   * is the pack's own (only bytes that hash to P can be stored as `packs/<P>`), and when it says
   * a data pack, nothing is read whole (that pack cannot hold details, whatever a hot copy
   * planted under its id says).
   */
  async #readWhole(pack: string, size: number): Promise<Uint8Array | string> {
    if (size > HEADER_FIRST_BYTES) {
      const notMetadata = await this.#notMetadata(layout.pack(pack));
      if (notMetadata !== undefined) return `pack "${pack}" ${notMetadata}`;
    }
    const failures: string[] = [];
    const hot = this.hotCopies.get(pack)?.size;
    const names = [layout.pack(pack)];
    if (hot === size) names.unshift(layout.metaCopy(pack));
    else if (hot === undefined) failures.push(`"${layout.metaCopy(pack)}" is missing`);
    else failures.push(`"${layout.metaCopy(pack)}" has ${hot} bytes, the pack ${size}`);
    for (const name of names) {
      try {
        const bytes = await this.repo.storage.read(name);
        this.packsRead++;
        this.bytesRead += bytes.length;
        if (sha256Hex(bytes) === pack) return bytes;
        failures.push(`"${name}" does not match its id`);
      } catch (err) {
        if (!(err instanceof ObjectNotFound || err instanceof NeedsRestore)) throw err;
        failures.push(`"${name}" cannot be read (${message(err)})`);
      }
    }
    return `pack "${pack}" cannot be checked: ${failures.join(", ")}`;
  }

  /**
   * What the header of object `name` says instead of a metadata pack, as the end of a sentence
   * naming the object; undefined when it says one, or cannot be read (archived, missing).
   */
  async #notMetadata(name: string): Promise<string | undefined> {
    let head: Uint8Array;
    try {
      head = await this.repo.storage.read(name, { offset: 0, length: PACK_HEADER_LENGTH });
    } catch (err) {
      if (err instanceof ObjectNotFound || err instanceof NeedsRestore) return undefined;
      throw err;
    }
    this.bytesRead += head.length;
    try {
      return packHeader(head).metadata ? undefined : "is not a metadata pack";
    } catch (err) {
      if (!isDamage(err)) throw err;
      return `is damaged: ${message(err)}`;
    }
  }
}

/** Whether a details blob's manifest is the snapshot's manifest, `stats` aside. */
function sameSnapshot(
  fromDetails: Omit<SnapshotManifest, "details">,
  manifest: SnapshotManifest,
): boolean {
  const canonical = (m: Omit<SnapshotManifest, "details">): string => {
    const { stats: _stats, details: _details, ...rest } = m as SnapshotManifest;
    return JSON.stringify(sortedKeys(rest));
  };
  return canonical(fromDetails) === canonical(manifest);
}

/** `value` with the keys of every object in it sorted, for a canonical JSON. */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== "object") return value;
  const object = value as Record<string, unknown>;
  return Object.fromEntries(Object.keys(object).sort().map((k) => [k, sortedKeys(object[k])]));
}

/**
 * The objects of one kind under `prefix`, by id: size, and the store's time in ms (`undefined`
 * where the store gives none).
 */
async function stored(
  repo: Repository,
  prefix: string,
  kind: "snapshot" | "pack" | "meta",
): Promise<Map<string, { at?: number; size: number }>> {
  const out = new Map<string, { at?: number; size: number }>();
  for (const o of await repo.storage.list(prefix)) {
    if (kindOf(o.name) !== kind) continue;
    const at = o.modified === undefined ? NaN : Date.parse(o.modified);
    out.set(idOf(o.name), Number.isNaN(at) ? { size: o.size } : { at, size: o.size });
  }
  return out;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
