/**
 * Byte ranges of snapshot files for a mount: a file is its blobs in order (docs/format.md §8
 * `content`). Each frame is read with one ranged read and opened, its blobs verified against
 * their ids, on a worker (`frame_opener.ts`, §6). Verified blobs stay in a small cache, so the
 * kernel's many reads of one blob (128 KiB each) open and hash it once, and a read starts the
 * blobs after it in the background (read-ahead), frames at once, each frame read once.
 *
 * @module
 */

import { ObjectNotFound } from "../../plugins/sdk/errors.ts";
import { type Repository, withPack } from "../repository/repository.ts";
import type { BlobEntry } from "../repository/repo_index.ts";
import { FrameOpener } from "./frame_opener.ts";

/** Bytes of verified blobs kept. */
const BLOB_CACHE_BYTES = 64 << 20;
/** How far past a read the next blobs are read ahead. */
const READ_AHEAD_BYTES = 8 << 20;

/** Where each blob of a file starts. */
export interface FileLayout {
  ids: string[];
  /** `starts[i]` is the offset of blob `i`; `starts[ids.length]` is the file's size. */
  starts: number[];
}

export class FileReader {
  /** Verified blobs, in flight or read, oldest use first. */
  #blobs = new Map<string, Promise<Uint8Array>>();
  #sizes = new Map<string, number>();
  #bytes = 0;

  #opener: FrameOpener;

  constructor(readonly repo: Repository, readonly cacheBytes = BLOB_CACHE_BYTES) {
    this.#opener = new FrameOpener(repo.keys.macKey);
  }

  /** Stops the frame workers; reads after this fail. */
  close(): void {
    this.#opener.close();
  }

  /** Where the blobs of `content` start, from the index; `ObjectNotFound` for a missing blob. */
  layout(content: string[]): FileLayout {
    const starts = [0];
    for (const id of content) {
      const entry = this.repo.index.get(id);
      if (!entry) throw new ObjectNotFound(`blob "${id}" is not in the index`);
      starts.push(starts[starts.length - 1] + entry.length);
    }
    return { ids: content, starts };
  }

  /** The data packs that hold `layout`'s blobs, each once. */
  packsOf(layout: FileLayout): string[] {
    return [...new Set(layout.ids.map((id) => this.repo.index.get(id)?.pack ?? ""))]
      .filter((p) => p !== "");
  }

  /**
   * Up to `size` bytes of the file at `offset` (fewer at its end); may be a view of a cached
   * blob: do not modify it.
   */
  async read(layout: FileLayout, offset: number, size: number): Promise<Uint8Array<ArrayBuffer>> {
    const fileSize = layout.starts[layout.ids.length];
    const end = Math.min(fileSize, offset + size);
    if (offset >= end) return new Uint8Array(0);
    const first = blobAt(layout, offset);
    let last = first;
    while (last + 1 < layout.ids.length && layout.starts[last + 1] < end) last++;
    const ahead = layout.starts[first] + READ_AHEAD_BYTES + size;
    let until = last;
    while (until + 1 < layout.ids.length && layout.starts[until + 1] < ahead) until++;
    const reads = this.#start(layout.ids.slice(first, until + 1));
    for (const r of reads.slice(last - first + 1)) r.catch(() => {}); // a read that needs it reports
    if (first === last) {
      // Within one blob (most reads): a view of it, which the reply copies.
      const at = layout.starts[first];
      return (await reads[0]).subarray(offset - at, end - at) as Uint8Array<ArrayBuffer>;
    }
    const out = new Uint8Array(end - offset);
    await Promise.all(
      reads.slice(0, last - first + 1).map(async (blob, k) => {
        const at = first + k;
        const bytes = await blob;
        const from = Math.max(offset, layout.starts[at]);
        const to = Math.min(end, layout.starts[at + 1]);
        out.set(bytes.subarray(from - layout.starts[at], to - layout.starts[at]), from - offset);
      }),
    );
    return out;
  }

  /**
   * Reads of `ids`, from the cache or started now: a run of blobs in one frame with one read
   * of it, different frames at once.
   */
  #start(ids: string[]): Promise<Uint8Array>[] {
    const runs: BlobEntry[][] = [];
    for (const id of ids) {
      if (this.#blobs.has(id)) continue;
      const entry = this.repo.index.get(id);
      if (!entry) throw new ObjectNotFound(`blob "${id}" is not in the index`);
      const run = runs.at(-1);
      const prev = run?.at(-1);
      if (run && prev!.pack === entry.pack && prev!.frameOffset === entry.frameOffset) {
        if (!run.some((b) => b.id === id)) run.push(entry);
      } else runs.push([entry]);
    }
    for (const run of runs) this.#readRun(run);
    return ids.map((id) => this.#use(id));
  }

  /** Starts reading the frame of `run` (blobs in one frame) and caches each of its blobs. */
  #readRun(run: BlobEntry[]): void {
    const frame = this.#openFrame(run);
    for (const b of run) {
      const blob = frame.then(
        (plain) => {
          this.#sizes.set(b.id, b.length);
          this.#bytes += b.length;
          this.#evict();
          return plain.subarray(b.offsetInFrame, b.offsetInFrame + b.length);
        },
        (err) => {
          this.#blobs.delete(b.id);
          throw err;
        },
      );
      this.#blobs.set(b.id, blob);
    }
  }

  /** The plaintext of the frame holding `run`, its blobs verified (on a worker). */
  async #openFrame(run: BlobEntry[]): Promise<Uint8Array> {
    const { pack, metadata, frameOffset, frameLength } = run[0];
    const key = await this.repo.dataKey(pack, metadata);
    const bytes = await this.repo.readPack(pack, metadata, {
      offset: frameOffset,
      length: frameLength,
    });
    try {
      return await this.#opener.open(key, bytes, frameOffset, run);
    } catch (err) {
      throw withPack(err, pack);
    }
  }

  /** The cached read of blob `id`, now the most recently used. */
  #use(id: string): Promise<Uint8Array> {
    const cached = this.#blobs.get(id)!;
    this.#blobs.delete(id);
    this.#blobs.set(id, cached);
    return cached;
  }

  #evict(): void {
    for (const [id] of this.#blobs) {
      if (this.#bytes <= this.cacheBytes) return;
      const size = this.#sizes.get(id);
      if (size === undefined) continue; // still in flight
      this.#blobs.delete(id);
      this.#sizes.delete(id);
      this.#bytes -= size;
    }
  }
}

/** The index of the blob holding `offset` (binary search; `offset` < the file's size). */
function blobAt(layout: FileLayout, offset: number): number {
  let lo = 0;
  let hi = layout.ids.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (layout.starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
