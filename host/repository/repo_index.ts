/**
 * The repository index: blob id -> where it is stored, built from every effective index
 * segment (docs/format.md §7; superseded segments are left out, §7.1). Segments are
 * append-only; when a blob appears in several packs (two clients stored it at once, a
 * compaction copied it, or a backup stored a small copy again near the directory that uses it:
 * docs/format.md §7.2) one of them is its location (`get`: the repository puts the newest
 * segments first); any is valid, and `copies` names them all, for a restore that picks the
 * ones in packs it needs anyway.
 *
 * Two implementations answer the one interface `RepoIndex`: `MemoryIndex` (here: every entry
 * in the heap) and `DiskIndex` (disk_index.ts: the entries in a SQLite file of the local cache,
 * read one lookup at a time).
 *
 * @module
 */

import type { BlobLocation } from "./pack.ts";
import type { IndexedPack } from "./index_segment.ts";

/** A blob's location: its pack and its place in that pack. */
export interface BlobEntry extends BlobLocation {
  pack: string;
  metadata: boolean;
}

/** Facts about one indexed pack. */
export interface PackInfo {
  id: string;
  metadata: boolean;
  length: number;
  blobs: number;
}

/**
 * What the repository and its commands ask of an index. Lookups (`has`, `get`, `copies`,
 * `pack`) are cheap in both implementations; `packs`, `blobs` and `locations` visit every
 * entry (for commands that need them all: check, gc). `add` records packs for this process
 * only (a segment just written, or packs a rebuild found); `clear` forgets those and what was
 * loaded.
 */
export interface RepoIndex {
  /** Adds every blob of the given packs (a decoded segment, or a pack just written). */
  add(packs: IndexedPack[]): void;
  /** Forgets everything (the repository rebuilds its effective index). */
  clear(): void;
  has(id: string): boolean;
  get(id: string): BlobEntry | undefined;
  /** Every indexed copy of a blob, `get`'s first, each pack once; empty when not indexed. */
  copies(id: string): BlobEntry[];
  /** `copies` of each of `ids`, in order: one statement per few hundred ids on disk. */
  copiesMany(ids: string[]): BlobEntry[][];
  pack(id: string): PackInfo | undefined;
  packs(): IterableIterator<PackInfo>;
  /** Each indexed blob once, at `get`'s location. */
  blobs(): IterableIterator<BlobEntry>;
  /** Every indexed copy of every blob. */
  locations(): IterableIterator<BlobEntry>;
  readonly blobCount: number;
  readonly packCount: number;
}

/** The index held in memory: the first copy added of a blob is its location. */
export class MemoryIndex implements RepoIndex {
  #blobs = new Map<string, BlobEntry>();
  /** The second and later copies of blobs stored more than once (rare: a map of its own). */
  #moreCopies = new Map<string, BlobEntry[]>();
  #packs = new Map<string, PackInfo>();

  /** Adds every blob of the given packs (a decoded segment, or a pack just written). */
  add(packs: IndexedPack[]): void {
    for (const p of packs) {
      // A pack named again (by a later segment) is checked for copies already recorded; a new
      // pack cannot hold one yet, so adding it stays linear in its blobs.
      const known = this.#packs.has(p.pack);
      if (!known) {
        this.#packs.set(p.pack, {
          id: p.pack,
          metadata: p.metadata,
          length: p.length,
          blobs: p.blobs.length,
        });
      }
      for (const b of p.blobs) {
        const first = this.#blobs.get(b.id);
        if (first === undefined) {
          this.#blobs.set(b.id, { ...b, pack: p.pack, metadata: p.metadata });
          continue;
        }
        const more = this.#moreCopies.get(b.id);
        if (first.pack === p.pack || (known && more?.some((c) => c.pack === p.pack))) continue;
        const copy = { ...b, pack: p.pack, metadata: p.metadata };
        if (more) more.push(copy);
        else this.#moreCopies.set(b.id, [copy]);
      }
    }
  }

  /** Forgets everything (the repository rebuilds its effective index). */
  clear(): void {
    this.#blobs.clear();
    this.#moreCopies.clear();
    this.#packs.clear();
  }

  has(id: string): boolean {
    return this.#blobs.has(id);
  }

  get(id: string): BlobEntry | undefined {
    return this.#blobs.get(id);
  }

  /** Every indexed copy of a blob, `get`'s first; empty when it is not indexed. */
  copies(id: string): BlobEntry[] {
    const first = this.#blobs.get(id);
    if (first === undefined) return [];
    return [first, ...(this.#moreCopies.get(id) ?? [])];
  }

  copiesMany(ids: string[]): BlobEntry[][] {
    return ids.map((id) => this.copies(id));
  }

  pack(id: string): PackInfo | undefined {
    return this.#packs.get(id);
  }

  packs(): IterableIterator<PackInfo> {
    return this.#packs.values();
  }

  /** Each indexed blob once, at `get`'s location. */
  blobs(): IterableIterator<BlobEntry> {
    return this.#blobs.values();
  }

  /** Every indexed copy of every blob: `blobs()`, then the second and later copies. */
  *locations(): IterableIterator<BlobEntry> {
    yield* this.#blobs.values();
    for (const more of this.#moreCopies.values()) yield* more;
  }

  get blobCount(): number {
    return this.#blobs.size;
  }

  get packCount(): number {
    return this.#packs.size;
  }
}
