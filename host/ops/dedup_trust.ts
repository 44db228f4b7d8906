/**
 * What a backup may deduplicate against (docs/security.md "Poison deduplication", docs/gc.md
 * "Backups running meanwhile"): the index says where blobs are, but any client with the index
 * key can write a segment, and a segment can outlive its pack. So a backup reuses a blob only
 * from a copy that two cheap checks leave standing:
 *
 * - **Stored.** Its pack is in a listing of `packs/`, with the length the index records. A pack
 *   that `gc purge` deleted while a segment still names it (a backup that failed after purge
 *   took its new pack), one a segment claims that nobody stored, or one cut short holds nothing
 *   a new snapshot may reference.
 * - **Undisputed.** A segment lists a pack's full contents (docs/format.md §7), so every record
 *   of one pack is the same unless one is forged. When the effective segments naming a pack
 *   give different records, only the blob entries that every record at the stored length lists,
 *   identically, are trusted.
 *
 * A blob with no copy that passes both is **distrusted**: the backup's index answers "not
 * stored", so the run stores it again and its snapshot references the new copy. What this does
 * not see: the only record of an existing pack claiming a blob the pack does not hold (packs
 * are cold and sealed, and an ingest key cannot open them); `check --read-data` finds that.
 *
 * Why a listing and not a `stat` per pack: an ingest key on S3 may not HEAD packs (HeadObject
 * needs `s3:GetObject`), while a listing needs only `s3:ListBucket`, and costs one request per
 * 1,000 packs. The segments of packs named more than once are read again (normally none); the
 * index is scanned only when some pack fails a check.
 *
 * @module
 */

import type { BlobEntry, RepoIndex } from "../repository/repo_index.ts";
import type { IndexedPack } from "../repository/index_segment.ts";
import { idOf, kindOf, layout } from "../repository/layout.ts";
import type { Repository } from "../repository/repository.ts";
import type { Storage } from "../storage/storage.ts";
import { effectiveRecords, entryKey, sameRecord } from "./gc_records.ts";

/** The packs in the store, by id, with their sizes: one listing of `packs/`. */
export async function listStoredPacks(storage: Storage): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const o of await storage.list(layout.prefixes.pack)) {
    if (kindOf(o.name) === "pack") out.set(idOf(o.name), o.size);
  }
  return out;
}

export class DedupTrust {
  readonly #index: RepoIndex;
  /** The listing of `packs/` at the start: pack id -> size. */
  readonly #stored: ReadonlyMap<string, number>;
  /** Indexed packs not stored at the length of any of their records. */
  readonly gone: ReadonlySet<string>;
  /** Packs whose records disagree, each with the entries (`entryKey`) all of them list. */
  readonly #agreed: ReadonlyMap<string, ReadonlySet<string>>;
  /** Blobs with no trusted copy that the run has not stored again yet. */
  readonly #distrusted = new Set<string>();

  private constructor(
    index: RepoIndex,
    stored: Map<string, number>,
    gone: Set<string>,
    agreed: Map<string, Set<string>>,
  ) {
    this.#index = index;
    this.#stored = stored;
    this.gone = gone;
    this.#agreed = agreed;
    if (gone.size === 0 && agreed.size === 0) return;
    const suspects = new Set<string>();
    for (const e of index.locations()) {
      if (gone.has(e.pack) || agreed.has(e.pack)) suspects.add(e.id);
    }
    for (const id of suspects) if (this.trustedCopy(id) === undefined) this.#distrusted.add(id);
  }

  /**
   * Checks the effective index of `repo` (call `repo.loadIndex()` first) against one listing
   * of `packs/` and the records of packs named by more than one effective segment.
   */
  static async load(repo: Repository): Promise<DedupTrust> {
    const stored = await listStoredPacks(repo.storage);
    const records = await recordsOfSharedPacks(repo);
    const gone = new Set<string>();
    const agreed = new Map<string, Set<string>>();
    for (const p of repo.index.packs()) {
      const size = stored.get(p.id);
      const named = records.get(p.id);
      if (named === undefined) {
        if (size !== p.length) gone.add(p.id);
        continue;
      }
      const atSize = named.filter((r) => r.length === size);
      if (atSize.length === 0) gone.add(p.id);
      else if (atSize.length < named.length || !named.every((r) => sameRecord(r, named[0]))) {
        agreed.set(p.id, entriesInAll(atSize));
      }
    }
    return new DedupTrust(repo.index, stored, gone, agreed);
  }

  /** Packs whose records disagree (one of them is forged). */
  get disputed(): string[] {
    return [...this.#agreed.keys()];
  }

  /** Blobs the run must store again before it may reference them. */
  get distrustedCount(): number {
    return this.#distrusted.size;
  }

  /** Whether `id` is indexed but has no trusted copy (nor one this run stored). */
  distrusts(id: string): boolean {
    return this.#distrusted.has(id);
  }

  /** The first indexed copy of `id` that passes both checks, or undefined. */
  trustedCopy(id: string): BlobEntry | undefined {
    if (this.gone.size === 0 && this.#agreed.size === 0) return this.#index.get(id);
    return this.#index.copies(id).find((c) =>
      !this.gone.has(c.pack) && (this.#agreed.get(c.pack)?.has(entryKey(c)) ?? true)
    );
  }

  /** The length pack `id` had in the store when the run started (else its indexed length). */
  storedLength(id: string): number | undefined {
    return this.#stored.get(id) ?? this.#index.pack(id)?.length;
  }

  /** Notes packs the run stored: their blobs are trusted from now on. */
  stored(packs: readonly IndexedPack[]): void {
    if (this.#distrusted.size === 0) return;
    for (const p of packs) for (const b of p.blobs) this.#distrusted.delete(b.id);
  }
}

/** The records of every pack that more than one effective segment names, by pack id. */
async function recordsOfSharedPacks(repo: Repository): Promise<Map<string, IndexedPack[]>> {
  const superseded = repo.supersededSegments();
  const seen = new Set<string>();
  const shared = new Set<string>();
  for (const s of repo.segments()) {
    if (superseded.has(s.id)) continue;
    for (const p of s.packs) {
      if (seen.has(p)) shared.add(p);
      seen.add(p);
    }
  }
  const out = new Map<string, IndexedPack[]>();
  if (shared.size === 0) return out;
  const holding = await effectiveRecords(repo, (s) => s.packs.some((p) => shared.has(p)));
  for (const s of holding) {
    for (const p of s.packs) {
      if (!shared.has(p.pack)) continue;
      const list = out.get(p.pack);
      if (list) list.push(p);
      else out.set(p.pack, [p]);
    }
  }
  return out;
}

/** The entries every one of `records` lists. */
function entriesInAll(records: IndexedPack[]): Set<string> {
  let out = new Set(records[0].blobs.map(entryKey));
  for (const r of records.slice(1)) {
    const keys = new Set(r.blobs.map(entryKey));
    out = new Set([...out].filter((k) => keys.has(k)));
  }
  return out;
}

/**
 * Checks the loaded index against the store (`DedupTrust.load`) and warns once when some of it
 * cannot be trusted: those blobs are stored again.
 */
export async function trustedIndex(
  repo: Repository,
  onWarning?: (path: string, reason: string) => void,
): Promise<DedupTrust> {
  const trust = await DedupTrust.load(repo);
  const { gone, disputed } = trust;
  if (gone.size > 0) {
    const [example] = gone;
    onWarning?.(
      layout.pack(example),
      `is not in the store at the length the index gives${
        gone.size > 1 ? ` (nor are ${gone.size - 1} other indexed packs)` : ""
      }; this backup stores their blobs again. \`permafrost check\` names what else they affect`,
    );
  }
  if (disputed.length > 0) {
    onWarning?.(
      layout.pack(disputed[0]),
      `is named by index segments that disagree on its contents${
        disputed.length > 1 ? ` (as are ${disputed.length - 1} other packs)` : ""
      }, so one of them is forged; this backup stores again the blobs they do not agree on. ` +
        "Run `permafrost check --read-data`",
    );
  }
  return trust;
}
