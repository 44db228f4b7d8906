/**
 * Fills packs with new blobs and stores them, in the write order of docs/format.md
 * "Write ordering": a pack is durable before the index segment naming it is written, and a
 * blob counts as stored (`index.has`) only once both are.
 *
 * Blobs are added in walk order; data blobs go to the open data pack, trees and snapshot
 * details to the open metadata pack. Metadata packs are written to both tiers (`packs/` and its
 * hot copy `meta/`), with the label "meta" (data packs: "data") so that the cold tier says which
 * is which without a restore (docs/format.md §2). A blob already in the index, or already added
 * in this run, is skipped: content is never stored twice, whichever client stored it first,
 * with one bounded exception for restore locality below.
 *
 * Restore locality (docs/format.md §7.2): engines mark where each directory's walk begins and
 * ends (`mark`). When a directory that added at least a quarter of a data pack ends, the open
 * data pack is stored there, so the next directory starts a pack of its own. And a small data
 * blob this run already stored in a pack closed before the current directory began is stored
 * once more, in the open pack, so that restoring the directory alone does not thaw a whole
 * pack of another directory for it; at most `MAX_COPY_SHARE` of the run's data bytes. Blobs
 * stored by earlier runs are never copied.
 *
 * `flush` stores the open data pack first and waits until every data pack is durable; then it
 * adds a pack-index blob naming the data packs stored since the last one (docs/format.md
 * §6.5) to the open metadata pack and stores that, so the metadata packs alone say where every
 * data blob of a completed run is.
 *
 * @module
 */

import type { Storage } from "../storage/storage.ts";
import { blobId } from "../crypto/mac.ts";
import { release } from "../crypto/bytes.ts";
import { IntegrityError } from "../crypto/errors.ts";
import { sha256Hex } from "../crypto/hash.ts";
import type { IndexedPack } from "./index_segment.ts";
import { PackIndexBuilder } from "./pack_index.ts";
import { layout } from "./layout.ts";
import { type BlobType, type FinishedPack, PackWriter, type SpooledPack } from "./pack.ts";
import { PackSpool } from "./pack_buffer.ts";
import type { RepoConfig } from "./config.ts";
import type { RepoKeys } from "./keys.ts";
import { MemoryIndex, type RepoIndex } from "./repo_index.ts";
import type { FrameCompressor } from "./compressor.ts";

/**
 * `add` waits after handing off a full pack until fewer than this many are being finished or
 * stored. With 1, the pack is stored before `add` returns, while the engine reads and chunks
 * ahead into its own bounded batches. 2 (storing one pack while the next fills) measured 11%
 * faster to S3 on moto and 26 MB more peak RSS, over the 400 MB target (docs/bench.md).
 */
const MAX_UPLOADS = 1;
/** Plaintext queued for the compressor per open pack before `add` waits (then down to half). */
const MAX_COMPRESS_BACKLOG = 8 << 20;
/** A directory that added at least this share of a data pack's target size gets its own packs. */
export const LOCALITY_SHARE = 1 / 4;
/** Largest blob that is stored again near the directory that uses it (small files, mostly). */
export const MAX_COPY_BLOB = 1 << 20;
/** Copies near their directory take at most this share of the data bytes the run added... */
export const MAX_COPY_SHARE = 0.05;
/** ...plus this many bytes, so the first directories of a run are not left without any. */
const COPY_ALLOWANCE = 1 << 20;
/** Open directories tracked; marks nested deeper than this are ignored. */
const MAX_DIR_DEPTH = 4096;
/** A spooled pack goes to a store that takes objects in pieces this many bytes at a time. */
export const SPOOL_PIECE_BYTES = 4 << 20;

export interface UploadStats {
  /** Blobs added that were not yet in the repository. */
  newBlobs: number;
  /** Plaintext bytes of those blobs. */
  newBytes: number;
  /** Bytes of packs written (after compression and encryption). */
  storedBytes: number;
  packs: number;
  /** Blobs offered that were already stored (copies excluded). */
  knownBlobs: number;
  /** Blobs already stored that were stored again near the directory using them, and their bytes. */
  copies: number;
  copyBytes: number;
}

/** How a run places data for restore locality. */
export interface UploaderOptions {
  /**
   * Bytes a directory must add for the open data pack to end where the directory ends; default
   * `LOCALITY_SHARE` of the data pack target. Lower: small directories get packs of their own,
   * at the price of more, smaller packs (more PUT requests). At least 1.
   */
  localityFloor?: number;
  /**
   * A folder for data packs being built (`PackSpool`: in the cache folder, say): each is
   * written there rather than held in memory, and stored from there, in pieces where the store
   * takes them (`StoreProperties.pieces`). Files a killed run left there are removed when the
   * first pack is spooled. Without it packs are built in memory.
   */
  spoolDir?: string;
}

/** Where a directory's walk begins or ends, as an engine marks it among its chunks. */
export type DirEdge = "enter" | "leave";

/**
 * What the uploader needs of an index: membership, and learning about stored packs. `add` is
 * told of packs once the segment naming them is durable (and, written by a repository, adopted
 * into its index already: `Repository.writeSegment`).
 */
export interface IndexSink {
  has(id: string): boolean;
  /** A stored blob's pack (its first copy's), or undefined. */
  get(id: string): { pack: string } | undefined;
  add(packs: IndexedPack[]): void;
}

/**
 * Writes the index segment naming packs the uploader stored, once they are durable, and
 * resolves to its id once the segment is durable too: `Repository.writeSegment`, the one writer
 * of segments (docs/format.md §3.5, §7), or its dry run.
 */
export type SegmentWriter = (packs: IndexedPack[]) => Promise<string>;

/**
 * An index that answers from `base` and its own additions but never adds to `base`: what a dry
 * run writes to, so the repository's index only ever learns about packs that exist.
 */
export class IndexOverlay implements IndexSink {
  #own = new MemoryIndex();
  constructor(private base: RepoIndex) {}
  has(id: string): boolean {
    return this.base.has(id) || this.#own.has(id);
  }
  get(id: string): { pack: string } | undefined {
    return this.base.get(id) ?? this.#own.get(id);
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
    copies: 0,
    copyBytes: 0,
  };
  #open: { data?: PackWriter; meta?: PackWriter } = {};
  /** Blobs added but not yet durable, with the run's number of their data pack (-1: metadata). */
  #pending = new Map<string, number>();
  /** The run's number of the open data pack, or of the next one when none is open. */
  #dataSeq = 0;
  /** Data packs this run stored, by id, with their number in the run. */
  #packSeq = new Map<string, number>();
  /** The newest pack number of each blob stored again in this run. */
  #copied = new Map<string, number>();
  /** Directories being walked (engine marks): the data pack number and bytes at their start. */
  #dirs: { seq: number; bytes: number }[] = [];
  /** Marks past `MAX_DIR_DEPTH` not tracked, so their leaves are ignored too. */
  #untracked = 0;
  /** Plaintext bytes added to data packs in this run, copies included. */
  #dataBytes = 0;
  /** `#dataBytes` when the open data pack was opened (or the last one handed off). */
  #openedAt = 0;
  #uploads = new Set<Promise<void>>();
  #failure: unknown;
  /** Data packs stored (durable and indexed) that no pack-index blob names yet, encoded. */
  #unnamedDataPacks = new PackIndexBuilder();
  readonly #spoolDir?: string;
  /** Whether the spool folder was swept of what killed runs left. */
  #swept = false;
  /** Spools of data packs being built or stored, so `close` can remove them. */
  readonly #spools = new Set<PackSpool>();

  constructor(
    private storage: Storage,
    private keys: RepoKeys,
    private config: RepoConfig,
    private index: IndexSink,
    /** Writes the segment of each stored pack (`Repository.writeSegment`). */
    private writeSegment: SegmentWriter,
    /** Compresses frames off the main thread when given (see compressor.ts). */
    private compressor?: FrameCompressor,
    options: UploaderOptions = {},
  ) {
    const floor = options.localityFloor ?? config.pack.dataSize * LOCALITY_SHARE;
    if (!Number.isSafeInteger(floor) || floor < 1) {
      throw new RangeError(`locality floor ${floor} is not a positive whole number of bytes`);
    }
    this.#localityFloor = floor;
    this.#spoolDir = options.spoolDir;
  }

  /** Bytes a directory must add for the open data pack to end where it ends. */
  readonly #localityFloor: number;

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
    const copy = this.has(id);
    if (copy && !(type === "data" && this.#copyNearby(id, plaintext.length))) {
      this.stats.knownBlobs++;
      if (this.compressor) release(plaintext); // owned, as with a writer that has a compressor
      return id;
    }
    const metadata = type !== "data";
    const slot = metadata ? "meta" : "data";
    const writer = this.#open[slot] ??= await this.#newWriter(metadata);
    // `add` may move the bytes to the compressor: take the length first.
    if (copy) {
      this.stats.copies++;
      this.stats.copyBytes += plaintext.length;
      this.#copied.set(id, this.#dataSeq);
    } else {
      this.stats.newBytes += plaintext.length;
      this.stats.newBlobs++;
    }
    if (!metadata) this.#dataBytes += plaintext.length;
    writer.add(id, type, plaintext);
    this.#pending.set(id, metadata ? -1 : this.#dataSeq);
    if (writer.backlog > MAX_COMPRESS_BACKLOG) await writer.backlogBelow(MAX_COMPRESS_BACKLOG / 2);
    const target = metadata ? this.config.pack.metaSize : this.config.pack.dataSize;
    if (writer.bytes >= target) await this.#handOff(slot);
    return id;
  }

  /** A writer for a new pack; a data pack's is spooled when the uploader has a spool folder. */
  async #newWriter(metadata: boolean): Promise<PackWriter> {
    const spool = metadata || this.#spoolDir === undefined ? undefined : await this.#newSpool();
    try {
      return new PackWriter({
        publicKey: this.keys.publicKey,
        metadata,
        frameSize: this.config.pack.frameSize,
        level: this.config.compression.level,
        compressor: this.compressor,
        expectedSize: (metadata ? this.config.pack.metaSize : this.config.pack.dataSize) +
          this.config.pack.frameSize + (1 << 20),
        spool,
      });
    } catch (e) {
      if (spool) await this.#discard(spool);
      throw e;
    }
  }

  async #newSpool(): Promise<PackSpool> {
    const dir = this.#spoolDir!;
    if (!this.#swept) {
      this.#swept = true;
      await PackSpool.sweep(dir);
    }
    const spool = await PackSpool.create(dir);
    this.#spools.add(spool);
    return spool;
  }

  async #discard(spool: PackSpool): Promise<void> {
    this.#spools.delete(spool);
    await spool.discard();
  }

  /**
   * Removes the spool files of packs not stored (a run that failed or stopped before `flush`).
   * The uploader must not be used afterwards.
   */
  async close(): Promise<void> {
    await Promise.all([...this.#spools].map((s) => this.#discard(s)));
  }

  /** Stores the open pack of `slot` and waits while too many packs are being stored. */
  async #handOff(slot: "data" | "meta"): Promise<void> {
    const writer = this.#open[slot]!;
    this.#open[slot] = undefined;
    this.#store(writer, slot === "data" ? this.#dataSeq++ : undefined);
    if (slot === "data") this.#openedAt = this.#dataBytes;
    while (this.#uploads.size >= MAX_UPLOADS) await Promise.race(this.#uploads);
    this.#throwIfFailed();
  }

  /**
   * Notes where a directory's walk begins or ends among the data blobs added (the engine's
   * marks, applied in call order with `add`). Where a directory that added at least the
   * locality floor ends, the open data pack is stored (if it holds a quarter of the floor). Marks only place data:
   * wrong or missing ones cost locality, never correctness. A failure surfaces from `add` or
   * `flush`.
   */
  mark(edge: DirEdge): void {
    const run = this.#queue.then(() => edge === "enter" ? this.#enter() : this.#leave());
    this.#queue = run.catch((err) => {
      this.#failure ??= err;
    });
  }

  #enter(): void {
    if (this.#dirs.length >= MAX_DIR_DEPTH) this.#untracked++;
    else this.#dirs.push({ seq: this.#dataSeq, bytes: this.#dataBytes });
  }

  async #leave(): Promise<void> {
    if (this.#untracked > 0) {
      this.#untracked--;
      return;
    }
    const dir = this.#dirs.pop();
    if (dir === undefined) return;
    const added = this.#dataBytes - dir.bytes;
    const open = this.#open.data;
    // The open pack must hold a quarter of the floor too: the end of every ancestor of a large
    // directory (or a run of nested marks from a faulty engine) does not make a tiny pack each.
    // So every pack ended early holds floor/4, which bounds how many there are.
    const inOpen = this.#dataBytes - this.#openedAt;
    if (
      open && open.count > 0 && added >= this.#localityFloor && inOpen * 4 >= this.#localityFloor
    ) {
      await this.#handOff("data");
    }
  }

  /**
   * Whether an already stored data blob is stored again in the open pack: it is small, this run
   * stored it (earlier runs' blobs are never copied), every copy is in a pack closed before the
   * current directory began (so restoring that directory would thaw the whole pack for it), and
   * the run's copies stay within `MAX_COPY_SHARE` of its data bytes (copies included) plus
   * `COPY_ALLOWANCE`.
   */
  #copyNearby(id: string, length: number): boolean {
    const dir = this.#dirs.at(-1);
    if (dir === undefined || this.#untracked > 0 || length > MAX_COPY_BLOB) return false;
    if (this.stats.copyBytes + length > this.#dataBytes * MAX_COPY_SHARE + COPY_ALLOWANCE) {
      return false;
    }
    const pending = this.#pending.get(id);
    const stored = this.index.get(id);
    const seq = Math.max(
      pending ?? -1,
      this.#copied.get(id) ?? -1,
      stored ? this.#packSeq.get(stored.pack) ?? -1 : -1,
    );
    // -1: stored by an earlier run, or a metadata blob.
    return seq >= 0 && seq < dir.seq;
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
    if (data && data.count > 0) this.#store(data, this.#dataSeq++);
    this.#openedAt = this.#dataBytes;
    await this.#settle();
    if (this.#unnamedDataPacks.count > 0) {
      await this.#add("pack-index", this.#unnamedDataPacks.take());
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

  /** Stores a finished pack in the background; `seq` is a data pack's number in the run. */
  #store(writer: PackWriter, seq?: number): void {
    const upload = (async () => {
      const storageClass = this.config.cold.storageClass;
      let pack: FinishedPack | SpooledPack;
      let length: number;
      if (writer.spool) {
        const spool = writer.spool;
        try {
          pack = await writer.finishSpooled();
          length = pack.length;
          await this.#putSpooled(pack, storageClass);
        } finally {
          await this.#discard(spool);
        }
      } else {
        pack = await writer.finishAsync();
        length = pack.data.length;
        // `create` moves the bytes to the storage worker: the hot copy needs bytes of its own.
        const hotCopy = pack.metadata ? pack.data.slice() : undefined;
        const label = pack.metadata ? "meta" : "data";
        await this.storage.create(layout.pack(pack.id), pack.data, { storageClass, label });
        if (hotCopy) await this.storage.create(layout.metaCopy(pack.id), hotCopy);
      }
      const indexed: IndexedPack = {
        pack: pack.id,
        metadata: pack.metadata,
        length,
        blobs: pack.blobs,
      };
      await this.writeSegment([indexed]);
      if (seq !== undefined) this.#packSeq.set(pack.id, seq);
      this.index.add([indexed]);
      if (!pack.metadata) this.#unnamedDataPacks.add(indexed);
      // A blob pending again in a later pack (a copy near its directory) stays pending there.
      const mine = seq ?? -1;
      for (const b of pack.blobs) if (this.#pending.get(b.id) === mine) this.#pending.delete(b.id);
      this.stats.packs++;
      this.stats.storedBytes += length;
    })();
    const tracked: Promise<void> = upload.catch((err) => {
      this.#failure ??= err;
    }).finally(() => this.#uploads.delete(tracked));
    this.#uploads.add(tracked);
  }

  /**
   * Stores a spooled data pack under its final name, with `create`'s contract either way: in
   * pieces where the store takes them (the store checks the size and SHA-256 it was told, and
   * stores nothing on a mismatch or an abort), else read whole and created.
   */
  async #putSpooled(pack: SpooledPack, storageClass: RepoConfig["cold"]["storageClass"]) {
    const name = layout.pack(pack.id);
    const label = "data";
    const { storage } = this;
    if (!storage.properties?.pieces || !storage.startUpload) {
      for await (const whole of pack.spool.pieces(pack.length)) {
        // No store checks these bytes against the name: a spool file changed since it was
        // written (another process) would be stored under an id its bytes do not have.
        if (sha256Hex(whole) !== pack.id) {
          throw new IntegrityError(
            `pack spool "${pack.spool.path}" no longer has the SHA-256 of the pack written to ` +
              `it (${pack.id}): it was changed by something else; not stored`,
          );
        }
        await storage.create(name, whole, { storageClass, label });
      }
      return;
    }
    const start = { size: pack.length, sha256: pack.id, storageClass, label };
    const upload = await storage.startUpload(name, start);
    try {
      for await (const piece of pack.spool.pieces(SPOOL_PIECE_BYTES)) {
        await storage.writeUpload!(upload, piece);
      }
      await storage.finishUpload!(upload);
    } catch (e) {
      await storage.abortUpload!(upload).catch(() => {});
      throw e;
    }
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }
}
