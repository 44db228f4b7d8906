/**
 * Protects a backup from a garbage collection that runs while it does (docs/gc.md "Purge").
 *
 * A backup loads the index once, at its start, and deduplicates against it until its end. If an
 * admin's `gc compact` meanwhile retires a pack (docs/format.md §7.1) holding a blob the backup
 * reused, and that blob was dead when the compaction marked (only the backup's own, unwritten
 * manifest needs it), the compaction does not copy it; once the grace period is over `gc purge`
 * may delete the pack. A manifest written after that would name a blob no pack holds; one
 * written before the purge would still name a blob outside the effective index until a purge
 * rescues it. The same goes for the backup's own packs: until its manifest exists, a compaction
 * sees them as all dead.
 *
 * So, during the run, the backup notes every id that a tree it stores references, and the ids of
 * its trees and details, and keeps:
 * - the ids it **reused** (located in a pack it did not write) in a Bloom filter sized for the
 *   index (about 10 bits per blob; a `Set` of the ids would cost over 100 bytes each), and the
 *   ids of the packs those came from (a pack holds hundreds of blobs, so this set is small);
 * - the ids of the packs it wrote itself.
 *
 * Just before the manifest, `verify` loads the index again. If no segment was superseded since
 * the start, nothing was retired and that is all. Otherwise the suspects are the retired packs
 * the run wrote, and those it reused from that hold a blob in no effective pack now which the
 * filter says the run may have reused. Each suspect still in the store is **rescued**: a new
 * version-1 segment names it again (what purge's rescue does), so the manifest's blobs stay in
 * the effective index; a false positive of the filter (about 0.8% per such blob) only keeps a
 * dead pack until the next gc. When a suspect is gone already (a purge deleted it, or its
 * segment, whose blobs cannot be read any more), the backup fails and commits nothing: running
 * it again stores what is needed.
 *
 * A retirement after `verify` is harmless: purge deletes a retired pack only after the grace
 * period (default one day), and by then the manifest exists and purge rescues what it needs;
 * a purge that planned before the manifest stops at it (docs/gc.md "No new snapshot"). Unless
 * the run is paused right after `verify` (a laptop asleep, a stopped VM) for longer than the
 * grace period: so when the manifest lands `LATE_COMMIT_MS` or more after `verify` began,
 * `confirmCommitted` lists `packs/` once more and fails the backup (`PacksGoneAfterCommit`,
 * naming the snapshot, which `check` reports) when a pack it needs is gone, rather than exit 0.
 *
 * The guard also keeps the run to blobs that are stored (`dedup_trust.ts`): its index answers
 * "not stored" for a blob whose only copies are in packs missing at the start of the run (or
 * disputed), so the run stores it again. And `verify` ends with one listing of `packs/`: when a
 * pack the run wrote or reused from is not there at its length any more (a `gc purge` with a
 * short grace deleted the run's new pack before its segment existed, or a pack it reused), the
 * backup fails with `PacksGone` and commits nothing; the rerun's own check at its start then
 * stores those blobs again.
 *
 * @module
 */

import { ObjectNotFound } from "../../plugins/sdk/errors.ts";
import { BloomFilter } from "../repository/bloom.ts";
import { type IndexedPack, openIndexSegment } from "../repository/index_segment.ts";
import { layout } from "../repository/layout.ts";
import type { IndexSink } from "../repository/pack_uploader.ts";
import type { Repository, SegmentInfo } from "../repository/repository.ts";
import { type DedupTrust, listStoredPacks } from "./dedup_trust.ts";

/**
 * A garbage collection retired packs this backup reused (or wrote) while it ran. Nothing was
 * committed; running the backup again stores what is needed.
 */
export class RetiredDuringBackup extends Error {
  override name = "RetiredDuringBackup";
}

/**
 * A pack this backup wrote or reused from was not in the store (at its length) just before the
 * manifest: a garbage collection deleted it while the backup ran. Nothing was committed; the
 * rerun stores what is needed.
 */
export class PacksGone extends Error {
  override name = "PacksGone";
}

/**
 * A garbage collection deleted packs a snapshot needs while its backup was paused between its
 * last check and its manifest: the snapshot was committed but is not whole.
 */
export class PacksGoneAfterCommit extends Error {
  override name = "PacksGoneAfterCommit";
}

/** From this long after `verify` began, a manifest is checked again once written. */
export const LATE_COMMIT_MS = 60_000;

export class ReuseGuard {
  readonly #repo: Repository;
  readonly #clock: () => number;
  /** When `verify` began (`#clock`). */
  #verifiedAt = 0;
  readonly #trust: DedupTrust;
  readonly #supersededAtStart: Set<string>;
  readonly #reused: BloomFilter;
  /** Packs that reused ids were located in (the index's own id strings), with their lengths. */
  readonly #reusedPacks = new Map<string, number>();
  /** Packs this run stored, with their lengths. */
  readonly #ownPacks = new Map<string, number>();

  /**
   * Call right after the run's `repo.loadIndex()`, with the trust checked against it
   * (`DedupTrust.load`), before anything is deduplicated.
   */
  constructor(repo: Repository, trust: DedupTrust, clock: () => number = Date.now) {
    this.#repo = repo;
    this.#clock = clock;
    this.#trust = trust;
    this.#supersededAtStart = repo.supersededSegments();
    this.#reused = BloomFilter.forCount(repo.index.blobCount);
  }

  /** Retired packs `verify` named again so the manifest's blobs stay indexed. */
  rescued = 0;

  /** Bytes the filter takes. */
  get filterBytes(): number {
    return this.#reused.bytes;
  }

  /**
   * The repository's index for the run's pack uploader, whose segments `Repository.writeSegment`
   * writes and adopts (so `verify` does not read them back): a blob the trust distrusts is not
   * stored as far as the run knows (so it stores it again), and the packs the run stores are
   * noted.
   */
  sink(): IndexSink {
    const index = this.#repo.index;
    return {
      has: (id) => index.has(id) && !this.#trust.distrusts(id),
      get: (id) => this.#trust.trustedCopy(id),
      add: (packs: IndexedPack[]) => {
        this.#trust.stored(packs);
        for (const p of packs) this.#ownPacks.set(p.pack, p.length);
      },
    };
  }

  /**
   * Notes an id the snapshot will reference. One the run stored (pending in the uploader, or
   * in a pack it wrote) is not kept: `verify` checks the run's packs as a whole.
   */
  note(id: string): void {
    this.noteCopy(id, this.#trust.trustedCopy(id));
  }

  /**
   * The copy of `id` the run may reuse from the repository as it found it: its trusted copy,
   * unless the run distrusts it (what the sink's `has` answers for an indexed blob). One index
   * lookup, whose answer `noteCopy` takes.
   */
  reusable(id: string): { pack: string } | undefined {
    return this.#trust.distrusts(id) ? undefined : this.#trust.trustedCopy(id);
  }

  /** `note` with the trusted copy of `id` already looked up (`reusable`). */
  noteCopy(id: string, at: { pack: string } | undefined): void {
    if (at === undefined || this.#ownPacks.has(at.pack)) return;
    this.#reused.add(id);
    if (!this.#reusedPacks.has(at.pack)) {
      this.#reusedPacks.set(at.pack, this.#trust.storedLength(at.pack)!);
    }
  }

  /**
   * Loads the index again and lists `packs/`; when a pack the run wrote, or one holding a blob
   * it probably reused, is no longer in the effective index, names it again in a new segment
   * (`rescued`), or throws `RetiredDuringBackup` when it is gone from the store already. Then
   * throws `PacksGone` when a pack the run wrote or reused from is not in the listing at its
   * length. Call after the last flush of the uploader and before the manifest is written.
   */
  async verify(): Promise<void> {
    this.#verifiedAt = this.#clock();
    await this.#repo.loadIndex();
    const stored = await listStoredPacks(this.#repo.storage);
    await this.#rescueRetired(stored);
    const gone = this.#gone(stored);
    if (gone.length === 0) return;
    const example = layout.pack(gone[0][0]);
    const packs = gone.length === 1 ? "1 pack" : `${gone.length} packs`;
    throw new PacksGone(
      `${packs} this backup wrote or reused (e.g. "${example}") are no longer in the store at ` +
        "the length the index gives: a garbage collection deleted them while the backup ran " +
        "(give `gc purge --grace` a period longer than any backup); nothing was committed: run " +
        "the backup again, which stores what is needed",
    );
  }

  /**
   * Call once the manifest of snapshot `id` is written. When that was `LATE_COMMIT_MS` or more
   * after `verify` began, lists `packs/` again and throws `PacksGoneAfterCommit` when a pack the
   * run wrote or reused from is not there at its length any more.
   */
  async confirmCommitted(id: string): Promise<void> {
    const late = this.#clock() - this.#verifiedAt;
    if (late < LATE_COMMIT_MS) return;
    const gone = this.#gone(await listStoredPacks(this.#repo.storage));
    if (gone.length === 0) return;
    const packs = gone.length === 1 ? "1 pack" : `${gone.length} packs`;
    throw new PacksGoneAfterCommit(
      `snapshot "${id.slice(0, 8)}" was saved, but ${packs} it needs (e.g. ` +
        `"${layout.pack(gone[0][0])}") were deleted by a garbage collection while this backup ` +
        `was paused before saving it (${Math.round(late / 60_000)} min): that snapshot cannot ` +
        "be restored whole (`permafrost check` names it). Run the backup again, which stores " +
        "them again; an admin may then forget the damaged snapshot",
    );
  }

  /** The packs the run wrote or reused from that `stored` lacks at their length. */
  #gone(stored: ReadonlyMap<string, number>): [string, number][] {
    return [...this.#ownPacks, ...this.#reusedPacks].filter(([p, length]) =>
      stored.get(p) !== length
    );
  }

  /** The first part of `verify`: rescues what a garbage collection retired meanwhile. */
  async #rescueRetired(stored: ReadonlyMap<string, number>): Promise<void> {
    const superseded = this.#repo.supersededSegments();
    const fresh = [...superseded].filter((id) => !this.#supersededAtStart.has(id));
    if (fresh.length === 0) return;
    const rescue = this.#startRescue(superseded);
    for (const id of fresh) await this.#suspectsRetiredBy(rescue, id);
    if (rescue.suspects.size > 0) await this.#rescue(rescue, stored);
  }

  /**
   * The packs effective now, and the first suspects: the packs the run wrote that are not
   * among them.
   */
  #startRescue(superseded: ReadonlySet<string>): Rescue {
    const segments = new Map(this.#repo.segments().map((s) => [s.id, s]));
    const effective = new Set<string>();
    for (const s of segments.values()) {
      if (!superseded.has(s.id)) { for (const p of s.packs) effective.add(p); }
    }
    const retiredOwn = [...this.#ownPacks.keys()].filter((p) => !effective.has(p));
    return { segments, effective, suspects: new Set(retiredOwn), records: new Map() };
  }

  /**
   * Adds to `rescue.suspects` the packs of the run's that segment `id` (superseded since the run
   * began) retired: each one the run wrote, and each holding a blob that the filter says the run
   * may have reused and that no effective pack holds now; all of them when the segment is gone
   * already. Keeps the records it read in `rescue.records`.
   */
  async #suspectsRetiredBy(rescue: Rescue, id: string): Promise<void> {
    const repo = this.#repo;
    const { effective, suspects, records } = rescue;
    // Every segment effective at the start was loaded then, and `segments()` keeps it even
    // once a purge deleted it. One the run never loaded was written after its start by another
    // client: the run reused nothing from it (its own segments are covered by `#startRescue`).
    const info = rescue.segments.get(id);
    if (!info) return;
    const retired = new Set(
      info.packs.filter((p) =>
        !effective.has(p) && (this.#reusedPacks.has(p) || this.#ownPacks.has(p))
      ),
    );
    if (retired.size === 0) return;
    let packs: IndexedPack[];
    try {
      packs = openIndexSegment(repo.keys.indexKey, await repo.storage.read(layout.index(id))).packs;
    } catch (err) {
      if (!(err instanceof ObjectNotFound)) throw err;
      // Purged already, with the packs it retired: their blobs cannot be listed any more.
      for (const p of retired) suspects.add(p);
      return;
    }
    for (const p of packs) {
      if (!retired.has(p.pack)) continue;
      records.set(p.pack, p);
      const lost = this.#ownPacks.has(p.pack) || p.blobs.some((b) => {
        if (!this.#reused.has(b.id)) return false;
        const now = repo.index.get(b.id);
        return now === undefined || !effective.has(now.pack);
      });
      if (lost) suspects.add(p.pack);
    }
  }

  /**
   * Names every suspect again in a new segment (any client may write one), so it is back in the
   * effective index and no purge deletes it; a false positive of the filter only keeps a dead
   * pack until the next gc. Throws `RetiredDuringBackup`, writing nothing, when a suspect is
   * not in `stored` at its length or its record is unknown.
   */
  async #rescue(rescue: Rescue, stored: ReadonlyMap<string, number>): Promise<void> {
    const { suspects, records } = rescue;
    const rescued: IndexedPack[] = [];
    for (const p of suspects) {
      const record = records.get(p);
      if (record && stored.get(p) === record.length) rescued.push(record);
    }
    if (rescued.length === suspects.size) {
      await this.#repo.writeSegment(rescued); // adopted: the rescued packs are effective again
      this.rescued = rescued.length;
      return;
    }
    for (const r of rescued) suspects.delete(r.pack);
    const [example] = suspects;
    throw new RetiredDuringBackup(
      `a garbage collection retired ${suspects.size} pack${suspects.size === 1 ? "" : "s"} ` +
        `(e.g. "${layout.pack(example)}") that this backup reused or wrote while it ran; ` +
        "nothing was committed: run the backup again, which stores what is needed",
    );
  }
}

/** What `#rescueRetired` works out: which retired packs the run needs, and their records. */
interface Rescue {
  /** Every segment loaded, by id. */
  segments: Map<string, SegmentInfo>;
  /** The packs the effective index names now. */
  effective: Set<string>;
  /** Retired packs holding what the run wrote or may have reused. */
  suspects: Set<string>;
  /** The suspects' records, from the segments that named them. */
  records: Map<string, IndexedPack>;
}
