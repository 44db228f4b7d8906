/**
 * Fills packs with new blobs and stores them, in the write order of docs/format.md
 * "Write ordering": a pack is durable before the index segment naming it is written, and a
 * blob counts as stored (`index.has`) only once both are.
 *
 * Blobs are added in walk order; data blobs go to the open data pack, trees and snapshot
 * details to the open metadata pack. Metadata packs are written to both tiers (`packs/` and its
 * hot copy `meta/`), with the label "meta" (data packs: "data") so that the cold tier says which
 * is which without a restore (docs/format.md §2). A blob already in the index, or already added
 * in this run, is skipped: content is never stored twice, whichever client stored it first.
 *
 * `flush` stores the open data pack first and waits until every data pack is durable; then it
 * adds a pack-index blob naming the data packs stored since the last one (docs/format.md
 * §6.5) to the open metadata pack and stores that, so the metadata packs alone say where every
 * data blob of a completed run is.
 *
 * @module
 */

import type { Storage } from "../storage/storage.ts";
import { sha256Hex } from "../crypto/hash.ts";
import { blobId } from "../crypto/mac.ts";
import { release } from "../crypto/bytes.ts";
import { encodeIndexSegment, type IndexedPack } from "./index_segment.ts";
import { encodePackIndex } from "./pack_index.ts";
import { layout } from "./layout.ts";
import { type BlobType, PackWriter } from "./pack.ts";
import type { RepoConfig } from "./config.ts";
import type { RepoKeys } from "./keys.ts";
import { RepoIndex } from "./index.ts";
import type { FrameCompressor } from "./compressor.ts";

/**
 * `add` waits after handing off a full pack until fewer than this many are being finished or
 * stored: one pack is stored while the next one fills.
 */
const MAX_UPLOADS = 1;
/** Plaintext queued for the compressor per open pack before `add` waits (then down to half). */
const MAX_COMPRESS_BACKLOG = 8 << 20;

export interface UploadStats {
  /** Blobs added that were not yet in the repository. */
  newBlobs: number;
  /** Plaintext bytes of those blobs. */
  newBytes: number;
  /** Bytes of packs written (after compression and encryption). */
  storedBytes: number;
  packs: number;
  /** Blobs offered that were already stored. */
  knownBlobs: number;
}

/**
 * What the uploader needs of an index: membership, and learning about stored packs. `add` is
 * told the id of the durable segment that names them, so a repository can count that segment
 * as loaded instead of reading it back (`Repository.adoptSegment`).
 */
export interface IndexSink {
  has(id: string): boolean;
  add(packs: IndexedPack[], segment?: string): void;
}

/**
 * An index that answers from `base` and its own additions but never adds to `base`: what a dry
 * run writes to, so the repository's index only ever learns about packs that exist.
 */
export class IndexOverlay implements IndexSink {
  #own = new RepoIndex();
  constructor(private base: RepoIndex) {}
  has(id: string): boolean {
    return this.base.has(id) || this.#own.has(id);
  }
  add(packs: IndexedPack[]): void {
    this.#own.add(packs);
  }
}

export class PackUploader {
  readonly stats: UploadStats = {
    newBlobs: 0,
    newBytes: 0,
    storedBytes: 0,
    packs: 0,
    knownBlobs: 0,
  };
  #open: { data?: PackWriter; meta?: PackWriter } = {};
  #pending = new Set<string>();
  #uploads = new Set<Promise<void>>();
  #failure: unknown;
  /** Data packs stored (durable and indexed) that no pack-index blob names yet. */
  #unnamedDataPacks: IndexedPack[] = [];

  constructor(
    private storage: Storage,
    private keys: RepoKeys,
    private config: RepoConfig,
    private index: IndexSink,
    /** Compresses frames off the main thread when given (see compressor.ts). */
    private compressor?: FrameCompressor,
  ) {}

  /** Whether a blob is stored or pending in this run. */
  has(id: string): boolean {
    return this.index.has(id) || this.#pending.has(id);
  }

  /**
   * Adds one blob; resolves to its id once it is accepted (not yet durable: see `flush`).
   * Waits while too many packs are being stored or too much awaits compression; rejects with
   * the first storage failure. Calls may overlap (engines pipeline them): they are applied one
   * at a time, in call order. With a compressor the uploader takes ownership of `plaintext`
   * (moved to the worker, or freed once copied or found already stored): do not use it after.
   */
  add(type: BlobType, plaintext: Uint8Array): Promise<string> {
    const run = this.#queue.then(() => this.#add(type, plaintext));
    this.#queue = run.then(() => {}, () => {});
    return run;
  }

  #queue: Promise<void> = Promise.resolve();

  async #add(type: BlobType, plaintext: Uint8Array): Promise<string> {
    this.#throwIfFailed();
    const id = blobId(this.keys.macKey, plaintext);
    if (this.has(id)) {
      this.stats.knownBlobs++;
      if (this.compressor) release(plaintext); // owned, as with a writer that has a compressor
      return id;
    }
    const metadata = type !== "data";
    const slot = metadata ? "meta" : "data";
    const writer = this.#open[slot] ??= new PackWriter({
      publicKey: this.keys.publicKey,
      metadata,
      frameSize: this.config.pack.frameSize,
      level: this.config.compression.level,
      compressor: this.compressor,
      expectedSize: (metadata ? this.config.pack.metaSize : this.config.pack.dataSize) +
        this.config.pack.frameSize + (1 << 20),
    });
    // `add` may move the bytes to the compressor: take the length first.
    this.stats.newBytes += plaintext.length;
    this.stats.newBlobs++;
    writer.add(id, type, plaintext);
    this.#pending.add(id);
    if (writer.backlog > MAX_COMPRESS_BACKLOG) await writer.backlogBelow(MAX_COMPRESS_BACKLOG / 2);
    const target = metadata ? this.config.pack.metaSize : this.config.pack.dataSize;
    if (writer.bytes >= target) {
      this.#open[slot] = undefined;
      this.#store(writer);
      while (this.#uploads.size >= MAX_UPLOADS) await Promise.race(this.#uploads);
      this.#throwIfFailed();
    }
    return id;
  }

  /**
   * Stores the open packs and waits until every added blob is durable and indexed: the data
   * pack first, then, once every data pack is durable, the metadata pack with a pack-index
   * blob naming the data packs stored since the last flush (if any). Waits for the `add` calls
   * made before it; `add` calls made while it runs wait for it.
   */
  flush(): Promise<void> {
    const run = this.#queue.then(() => this.#flush());
    this.#queue = run.then(() => {}, () => {});
    return run;
  }

  async #flush(): Promise<void> {
    const data = this.#open.data;
    this.#open.data = undefined;
    if (data && data.count > 0) this.#store(data);
    await this.#settle();
    if (this.#unnamedDataPacks.length > 0) {
      const named = this.#unnamedDataPacks;
      this.#unnamedDataPacks = [];
      await this.#add("pack-index", encodePackIndex(named));
    }
    const meta = this.#open.meta;
    this.#open.meta = undefined;
    if (meta && meta.count > 0) this.#store(meta);
    await this.#settle();
  }

  /** Waits for every upload; rejects with the first failure. */
  async #settle(): Promise<void> {
    while (this.#uploads.size > 0) await Promise.allSettled([...this.#uploads]);
    this.#throwIfFailed();
  }

  #store(writer: PackWriter): void {
    const upload = (async () => {
      const pack = await writer.finishAsync();
      const length = pack.data.length;
      // `create` moves the bytes to the storage worker: the hot copy needs bytes of its own.
      const hotCopy = pack.metadata ? pack.data.slice() : undefined;
      const storageClass = this.config.cold.storageClass;
      const label = pack.metadata ? "meta" : "data";
      await this.storage.create(layout.pack(pack.id), pack.data, { storageClass, label });
      if (hotCopy) await this.storage.create(layout.metaCopy(pack.id), hotCopy);
      const indexed: IndexedPack = {
        pack: pack.id,
        metadata: pack.metadata,
        length,
        blobs: pack.blobs,
      };
      const segment = encodeIndexSegment(this.keys.indexKey, [indexed]);
      const segmentId = sha256Hex(segment);
      await this.storage.create(layout.index(segmentId), segment);
      this.index.add([indexed], segmentId);
      if (!pack.metadata) this.#unnamedDataPacks.push(indexed);
      for (const b of pack.blobs) this.#pending.delete(b.id);
      this.stats.packs++;
      this.stats.storedBytes += length;
    })();
    const tracked: Promise<void> = upload.catch((err) => {
      this.#failure ??= err;
    }).finally(() => this.#uploads.delete(tracked));
    this.#uploads.add(tracked);
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }
}
