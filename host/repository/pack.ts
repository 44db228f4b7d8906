/**
 * Packs (docs/format.md §6): self-describing containers of blobs, each sealed under its own
 * random data key, which is itself sealed to the repository public key.
 *
 * ```
 * header  (88, plaintext): "PFPK" | version u8 (1, or 2 with a pack-index blob) | flags u8
 *                          (bit0 = metadata) | reserved u16 = 0
 *                          | sealedDataKey (80) = crypto_box_seal(dataKey, repo public key)
 * frames:  aeadSeal(dataKey, zstd(concatenated blob plaintexts), "PFFR" || u32le frameOffset) ...
 * TOC:     aeadSeal(dataKey, u32le count || count x 53-byte blob entry, "PFTC")
 * trailer (8): tocLength u32le | "PFTR"
 * ```
 *
 * The pack id is the SHA-256 (hex) of all its bytes.
 *
 * @module
 */

import { randomBytes } from "node:crypto";
import { AEAD_OVERHEAD, aeadOpen, aeadOpenAsync, aeadSeal, aeadSealAsync } from "../crypto/aead.ts";
import { concatBytes, release, utf8, viewOf } from "../crypto/bytes.ts";
import type { FrameCompressor } from "./compressor.ts";
import { PackBuffer, type PackSpool } from "./pack_buffer.ts";
import { IntegrityError } from "../crypto/errors.ts";
import { sha256Hex } from "../crypto/hash.ts";
import { blobId } from "../crypto/mac.ts";
import { openSealed, sealTo } from "../crypto/sealed_box.ts";
import { compress, decompress } from "../crypto/zstd.ts";
import {
  BLOB_ENTRY_LENGTH,
  BLOB_TYPES,
  type BlobLocation,
  type BlobType,
  readBlobEntry,
  writeBlobEntry,
} from "./blob_table.ts";
import { FormatError } from "./errors.ts";
import { type RepoKeys, requirePrivateKey } from "./keys.ts";
import { isHex64 } from "./_fields.ts";

export type { BlobLocation, BlobType };

export const PACK_HEADER_LENGTH = 88;
export const PACK_TRAILER_LENGTH = 8;
export const PACK_VERSION = 1;
/** The version of a pack whose TOC holds a blob of type "pack-index" (docs/format.md §6.1). */
export const PACK_VERSION_WITH_PACK_INDEX = 2;
/** Packs are < 4 GiB: every offset is a u32. */
export const MAX_PACK_LENGTH = 0xffffffff;

const SEALED_KEY_LENGTH = 80;
/** Room kept below 4 GiB for zstd's worst-case expansion, AEAD overheads and the TOC. */
const PACK_SLACK = 256 * 1024 * 1024;
/**
 * The longest blob a pack can take (docs/format.md §6: a pack is smaller than 4 GiB): what fits
 * in an empty pack after its header, with the slack above. Engines get it as `blobLimit`.
 */
export const MAX_BLOB_LENGTH = MAX_PACK_LENGTH - PACK_SLACK - PACK_HEADER_LENGTH;
const PACK_MAGIC = utf8("PFPK");
const TRAILER_MAGIC = utf8("PFTR");
const TOC_AAD = utf8("PFTC");
const FRAME_AAD_TAG = utf8("PFFR");

/** A finished pack: its id, its bytes, its kind, and where each blob is. */
export interface FinishedPack {
  id: string;
  data: Uint8Array;
  metadata: boolean;
  blobs: BlobLocation[];
}

/** A finished data pack whose bytes are in its spool file (`PackWriter`'s `spool`). */
export interface SpooledPack {
  id: string;
  /** Holds the pack's bytes, sealed; the caller discards it. */
  spool: PackSpool;
  length: number;
  metadata: false;
  blobs: BlobLocation[];
}

/**
 * Builds one pack in memory. Blobs are grouped into frames of up to `frameSize` plaintext bytes
 * (a blob larger than that gets a frame of its own); each frame is compressed at `level` and
 * sealed once. The caller must not modify a blob's bytes after `add` (they are not copied until
 * their frame is sealed), must add each id at most once, and must pass
 * `id = blobId(macKey, plaintext)`. `finish()` may be called once.
 */
export class PackWriter {
  readonly #dataKey: Uint8Array;
  readonly #metadata: boolean;
  readonly #frameSize: number;
  readonly #level: number;
  #data: PackBuffer | PackSpool;
  readonly #blobs: BlobLocation[] = [];
  readonly #ids = new Set<string>();
  #offset = PACK_HEADER_LENGTH;
  #open: Uint8Array[] = [];
  #openBlobs: { id: string; type: BlobType; offsetInFrame: number; length: number }[] = [];
  #openBytes = 0;
  #finished = false;
  #hasPackIndex = false;
  readonly #compressor?: FrameCompressor;
  /** Frames handed to the compressor and not yet sealed, in order. */
  #chain: Promise<void> = Promise.resolve();
  #pendingBytes = 0;
  #backlogWaiters: { below: number; wake: () => void }[] = [];

  /**
   * With `compressor`, frames are compressed elsewhere (a worker) while blobs keep coming, and
   * the pack must be finished with `finishAsync()`; without it, compression is inline. With a
   * compressor the writer takes ownership of every blob's bytes: they are moved to the worker
   * or freed once copied, so callers must not use a blob after `add`.
   */
  constructor(
    opts: {
      publicKey: Uint8Array;
      metadata: boolean;
      frameSize: number;
      level: number;
      compressor?: FrameCompressor;
      /** The size the pack will likely reach, to allocate once (default: 1 MiB). */
      expectedSize?: number;
      /**
       * Where a data pack's bytes go instead of memory (an empty spool): then the pack is
       * finished with `finishSpooled()`. Not for metadata packs, whose header may change (§6.1).
       */
      spool?: PackSpool;
    },
  ) {
    if (!Number.isInteger(opts.frameSize) || opts.frameSize < 1) {
      throw new RangeError(`frame size "${opts.frameSize}" is not a positive integer`);
    }
    if (!Number.isInteger(opts.level) || opts.level < 1 || opts.level > 22) {
      throw new RangeError(`zstd level "${opts.level}" is not an integer in 1..22`);
    }
    this.#dataKey = new Uint8Array(randomBytes(32));
    this.#metadata = opts.metadata;
    this.#frameSize = opts.frameSize;
    this.#level = opts.level;
    this.#compressor = opts.compressor;
    if (opts.spool && (opts.metadata || opts.spool.length > 0)) {
      throw new TypeError(`pack spool "${opts.spool.path}" must be empty and for a data pack`);
    }
    this.#data = opts.spool ?? new PackBuffer(opts.expectedSize ?? 1 << 20);
    this.#data.append(encodePackHeader(opts.metadata, sealTo(opts.publicKey, this.#dataKey)));
  }

  /** Adds one blob. Throws on a duplicate id, a bad id or type, or a pack that would pass 4 GiB. */
  add(id: string, type: BlobType, plaintext: Uint8Array): void {
    if (this.#finished) throw new Error("PackWriter.add() called after finish()");
    if (!isHex64(id)) throw new TypeError(`blob id "${id}" is not 64 lowercase hex digits`);
    if (!BLOB_TYPES.includes(type)) throw new TypeError(`blob "${id}" has unknown type "${type}"`);
    if (this.#ids.has(id)) throw new Error(`blob "${id}" was already added to this pack`);
    if (type === "pack-index") {
      if (!this.#metadata) {
        throw new TypeError(`pack-index blob "${id}" belongs in a metadata pack`);
      }
      this.#hasPackIndex = true;
    }
    if (this.#openBytes > 0 && this.#openBytes + plaintext.length > this.#frameSize) {
      this.#closeFrame();
    }
    if (this.bytes + plaintext.length > MAX_PACK_LENGTH - PACK_SLACK) {
      throw new RangeError(`blob "${id}" would take the pack past 4 GiB; finish it first`);
    }
    this.#ids.add(id);
    this.#open.push(plaintext);
    this.#openBlobs.push({ id, type, offsetInFrame: this.#openBytes, length: plaintext.length });
    this.#openBytes += plaintext.length;
    if (this.#openBytes >= this.#frameSize) this.#closeFrame();
  }

  /**
   * Bytes so far: header, sealed frames, and the plaintext of frames not sealed yet
   * (pre-compression, so an upper bound).
   */
  get bytes(): number {
    return this.#offset + this.#pendingBytes + this.#openBytes;
  }

  /** Plaintext bytes of frames handed to the compressor and not sealed yet. */
  get backlog(): number {
    return this.#pendingBytes;
  }

  /**
   * Resolves once the compression backlog is at most `bytes` (at once if it already is), so a
   * fast producer cannot queue unbounded plaintext for a slower compressor.
   */
  backlogBelow(bytes: number): Promise<void> {
    if (this.#pendingBytes <= bytes) return Promise.resolve();
    const chained = this.#chain.then(() => {}); // settles, at the latest, when the chain does
    return Promise.race([
      new Promise<void>((wake) => this.#backlogWaiters.push({ below: bytes, wake })),
      chained,
    ]);
  }

  /** The spool the pack is built in, if it was given one. */
  get spool(): PackSpool | undefined {
    return this.#data instanceof PackBuffer ? undefined : this.#data;
  }

  /** Blobs added so far. */
  get count(): number {
    return this.#ids.size;
  }

  /** Seals the open frame, the TOC and the trailer; returns the pack. Throws if empty. */
  finish(): FinishedPack {
    if (this.#compressor) throw new Error("PackWriter with a compressor: use finishAsync()");
    return this.#finish();
  }

  /** Like `finish()`, waiting for frames still being compressed. Rejects if one failed. */
  async finishAsync(): Promise<FinishedPack> {
    if (this.#finished) throw new Error("PackWriter.finish() called twice");
    this.#closeFrame();
    await this.#chain;
    return this.#finish();
  }

  /**
   * Finishes a pack built in its spool (after frames still being compressed): its id is the
   * SHA-256 of the spooled bytes, hashed as they were written. Rejects if a frame failed.
   */
  async finishSpooled(): Promise<SpooledPack> {
    const spool = this.#data;
    if (spool instanceof PackBuffer) throw new Error("PackWriter without a spool: use finish()");
    if (this.#finished) throw new Error("PackWriter.finish() called twice");
    this.#closeFrame();
    await this.#chain;
    this.#appendEnd();
    if (spool.length > MAX_PACK_LENGTH) throw new RangeError("pack is larger than 4 GiB");
    return { id: spool.seal(), spool, length: spool.length, metadata: false, blobs: this.#blobs };
  }

  #finish(): FinishedPack {
    if (!(this.#data instanceof PackBuffer)) {
      throw new Error("PackWriter with a spool: use finishSpooled()");
    }
    this.#appendEnd();
    const data = this.#data.take();
    if (data.length > MAX_PACK_LENGTH) throw new RangeError("pack is larger than 4 GiB");
    // §6.1: a pack holding a pack-index blob is version 2, so a reader that does not know the
    // blob type refuses the pack by its header. The header is not sealed: patching is safe.
    if (this.#hasPackIndex) data[4] = PACK_VERSION_WITH_PACK_INDEX;
    return { id: sha256Hex(data), data, metadata: this.#metadata, blobs: this.#blobs };
  }

  /** Seals the open frame, then appends the TOC and the trailer; the writer is finished. */
  #appendEnd(): void {
    if (this.#finished) throw new Error("PackWriter.finish() called twice");
    if (this.#ids.size === 0) throw new Error("PackWriter.finish() called on a pack with no blobs");
    this.#closeFrame();
    this.#finished = true;
    const toc = sealToc(this.#dataKey, this.#blobs);
    this.#data.append(toc);
    this.#data.append(encodePackTrailer(toc.length));
    this.#dataKey.fill(0);
  }

  #closeFrame(): void {
    if (this.#open.length === 0) return;
    const plain = this.#open.length === 1 ? this.#open[0] : concatBytes(this.#open);
    if (this.#compressor) {
      // With a compressor the writer owns the blobs' bytes (see the constructor): once copied
      // into the frame they are freed at once rather than left to the garbage collector.
      if (this.#open.length > 1) this.#open.forEach(release);
      const blobs = this.#openBlobs;
      const length = plain.length;
      const compressed = this.#compressor(plain, this.#level);
      // Reported through the chain; once an earlier frame failed (a full spool disk), nothing
      // awaits this one, and its own failure (the pool closed meanwhile) must not go unhandled.
      compressed.catch(() => {});
      this.#pendingBytes += length;
      this.#chain = this.#chain.then(async () => {
        const zipped = await compressed;
        const frame = await aeadSealAsync(this.#dataKey, zipped, frameAad(this.#offset));
        release(zipped);
        for (const b of blobs) {
          this.#blobs.push({ ...b, frameOffset: this.#offset, frameLength: frame.length });
        }
        this.#data.append(frame);
        this.#offset += frame.length;
        release(frame);
        this.#pendingBytes -= length;
        this.#backlogWaiters = this.#backlogWaiters.filter((w) => {
          if (this.#pendingBytes > w.below) return true;
          w.wake();
          return false;
        });
      });
      this.#chain.catch(() => {}); // reported by finishAsync()
      this.#open = [];
      this.#openBlobs = [];
      this.#openBytes = 0;
      return;
    }
    const frame = sealFrame(this.#dataKey, plain, this.#offset, this.#level);
    for (const b of this.#openBlobs) {
      this.#blobs.push({ ...b, frameOffset: this.#offset, frameLength: frame.length });
    }
    this.#data.append(frame);
    this.#offset += frame.length;
    this.#open = [];
    this.#openBlobs = [];
    this.#openBytes = 0;
  }
}

/** The 88-byte header for a pack of the given kind holding `sealedKey` (80 bytes). */
export function encodePackHeader(metadata: boolean, sealedKey: Uint8Array): Uint8Array {
  if (sealedKey.length !== SEALED_KEY_LENGTH) {
    throw new RangeError(`sealed data key is ${sealedKey.length} bytes, expected 80`);
  }
  const header = new Uint8Array(PACK_HEADER_LENGTH);
  header.set(PACK_MAGIC);
  header[4] = PACK_VERSION;
  header[5] = metadata ? 1 : 0;
  header.set(sealedKey, 8);
  return header;
}

/**
 * Parses the first 88 bytes of a pack; `FormatError` on bad magic, version (1 or 2), flags or
 * length.
 */
export function packHeader(
  headerBytes: Uint8Array,
): { version: number; metadata: boolean; sealedKey: Uint8Array } {
  if (headerBytes.length < PACK_HEADER_LENGTH) {
    throw new FormatError(`pack header is ${headerBytes.length} bytes, expected 88`);
  }
  for (let i = 0; i < 4; i++) {
    if (headerBytes[i] !== PACK_MAGIC[i]) throw new FormatError('pack header has no "PFPK" magic');
  }
  const version = headerBytes[4];
  if (version !== PACK_VERSION && version !== PACK_VERSION_WITH_PACK_INDEX) {
    throw new FormatError(`pack version ${version} is not supported (expected 1 or 2)`);
  }
  if ((headerBytes[5] & ~1) !== 0 || headerBytes[6] !== 0 || headerBytes[7] !== 0) {
    throw new FormatError("pack header has unknown flags or non-zero reserved bytes");
  }
  const metadata = headerBytes[5] === 1;
  if (version === PACK_VERSION_WITH_PACK_INDEX && !metadata) {
    throw new FormatError("pack header says version 2 (pack index) for a data pack");
  }
  return { version, metadata, sealedKey: headerBytes.slice(8, PACK_HEADER_LENGTH) };
}

/** Opens the pack's data key. `KeyCannotRead` for an ingest key, `IntegrityError` for a wrong key. */
export function openDataKey(headerBytes: Uint8Array, keys: RepoKeys): Uint8Array {
  const privateKey = requirePrivateKey(keys, "pack data");
  const { sealedKey } = packHeader(headerBytes);
  const key = openSealed(sealedKey, keys.publicKey, privateKey);
  if (key.length !== 32) throw new IntegrityError(`pack data key is ${key.length} bytes, not 32`);
  return key;
}

/** Seals one frame's plaintext for a frame starting at `frameOffset` (`nonce`: tests only). */
export function sealFrame(
  dataKey: Uint8Array,
  plaintext: Uint8Array,
  frameOffset: number,
  level: number,
  nonce?: Uint8Array,
): Uint8Array {
  return aeadSeal(dataKey, compress(plaintext, level), frameAad(frameOffset), nonce);
}

/** `openFrame` with the AEAD through WebCrypto (several times faster for bulk reads). */
export async function openFrameAsync(
  dataKey: Uint8Array,
  frameBytes: Uint8Array,
  frameOffset: number,
): Promise<Uint8Array> {
  const compressed = await aeadOpenAsync(dataKey, frameBytes, frameAad(frameOffset));
  const plain = decompress(compressed);
  release(compressed);
  return plain;
}

/** Authenticates and decompresses one frame (the `frameLength` bytes at `frameOffset`). */
export function openFrame(
  dataKey: Uint8Array,
  frameBytes: Uint8Array,
  frameOffset: number,
): Uint8Array {
  return decompress(aeadOpen(dataKey, frameBytes, frameAad(frameOffset)));
}

/**
 * One blob out of an opened frame's plaintext, verified: `IntegrityError` when the slice is out
 * of range or its blob id is not `loc.id`. Use it to take several blobs from one frame.
 */
export function blobFromFrame(
  framePlaintext: Uint8Array,
  loc: BlobLocation,
  macKey: Uint8Array,
): Uint8Array {
  const end = loc.offsetInFrame + loc.length;
  if (end > framePlaintext.length) {
    throw new IntegrityError(
      `blob "${loc.id}" ends at ${end}, past its ${framePlaintext.length}-byte frame`,
    );
  }
  const blob = framePlaintext.subarray(loc.offsetInFrame, end);
  if (blobId(macKey, blob) !== loc.id) {
    throw new IntegrityError(`blob "${loc.id}" does not match its id`);
  }
  return blob;
}

/** Opens `frameBytes` (the frame of `loc`) and returns the verified blob. */
export function readBlob(
  dataKey: Uint8Array,
  frameBytes: Uint8Array,
  loc: BlobLocation,
  macKey: Uint8Array,
): Uint8Array {
  return blobFromFrame(openFrame(dataKey, frameBytes, loc.frameOffset), loc, macKey);
}

/** Seals the table of contents for `blobs` (`nonce`: tests only). */
export function sealToc(
  dataKey: Uint8Array,
  blobs: readonly BlobLocation[],
  nonce?: Uint8Array,
): Uint8Array {
  const table = new Uint8Array(4 + blobs.length * BLOB_ENTRY_LENGTH);
  const view = viewOf(table);
  view.setUint32(0, blobs.length, true);
  blobs.forEach((b, i) => writeBlobEntry(table, view, 4 + i * BLOB_ENTRY_LENGTH, b));
  return aeadSeal(dataKey, table, TOC_AAD, nonce);
}

/** The 8-byte trailer for a TOC of `tocLength` bytes. */
export function encodePackTrailer(tocLength: number): Uint8Array {
  const trailer = new Uint8Array(PACK_TRAILER_LENGTH);
  viewOf(trailer).setUint32(0, tocLength, true);
  trailer.set(TRAILER_MAGIC, 4);
  return trailer;
}

/** The TOC length a trailer states; `FormatError` on bad magic. */
export function packTrailer(trailerBytes: Uint8Array): number {
  if (trailerBytes.length !== PACK_TRAILER_LENGTH) {
    throw new FormatError(`pack trailer is ${trailerBytes.length} bytes, expected 8`);
  }
  for (let i = 0; i < 4; i++) {
    if (trailerBytes[4 + i] !== TRAILER_MAGIC[i]) {
      throw new FormatError('pack trailer has no "PFTR" magic');
    }
  }
  return viewOf(trailerBytes).getUint32(0, true);
}

/**
 * Opens a sealed TOC and reads its entries; each must name a frame inside the first
 * `framesEnd` bytes of the pack (the TOC's own offset). `IntegrityError` or `FormatError`.
 */
export function openToc(
  dataKey: Uint8Array,
  tocBytes: Uint8Array,
  framesEnd: number,
): BlobLocation[] {
  const table = aeadOpen(dataKey, tocBytes, TOC_AAD);
  const view = viewOf(table);
  if (table.length < 4) throw new FormatError("pack TOC is shorter than its count");
  const count = view.getUint32(0, true);
  if (table.length !== 4 + count * BLOB_ENTRY_LENGTH) {
    throw new FormatError(`pack TOC is ${table.length} bytes, not right for ${count} blobs`);
  }
  const blobs: BlobLocation[] = new Array(count);
  for (let i = 0; i < count; i++) {
    blobs[i] = readBlobEntry(table, view, 4 + i * BLOB_ENTRY_LENGTH, "pack TOC", framesEnd);
  }
  return blobs;
}

/** What a whole pack holds, from its own bytes (header + TOC); needs the private key. */
export function readPackContents(
  packBytes: Uint8Array,
  keys: RepoKeys,
): { metadata: boolean; blobs: BlobLocation[] } {
  const minimum = PACK_HEADER_LENGTH + AEAD_OVERHEAD + 4 + PACK_TRAILER_LENGTH;
  if (packBytes.length < minimum) {
    throw new FormatError(`pack is ${packBytes.length} bytes, shorter than the minimum ${minimum}`);
  }
  const { version, metadata } = packHeader(packBytes.subarray(0, PACK_HEADER_LENGTH));
  const dataKey = openDataKey(packBytes.subarray(0, PACK_HEADER_LENGTH), keys);
  const trailerAt = packBytes.length - PACK_TRAILER_LENGTH;
  const tocLength = packTrailer(packBytes.subarray(trailerAt));
  const tocAt = trailerAt - tocLength;
  if (tocAt < PACK_HEADER_LENGTH) {
    throw new FormatError(`pack trailer states a ${tocLength}-byte TOC, longer than the pack`);
  }
  const blobs = openToc(dataKey, packBytes.subarray(tocAt, trailerAt), tocAt);
  checkPackIndexVersion(blobs, version);
  return { metadata, blobs };
}

/**
 * §6.1, §6.5: a pack-index blob only in a version-2 (metadata) pack. `FormatError` naming the
 * first blob that breaks this.
 */
export function checkPackIndexVersion(blobs: readonly BlobLocation[], version: number): void {
  for (const b of blobs) {
    if (b.type === "pack-index" && version !== PACK_VERSION_WITH_PACK_INDEX) {
      throw new FormatError(`pack TOC: pack-index blob "${b.id}" in a version ${version} pack`);
    }
  }
}

function frameAad(frameOffset: number): Uint8Array {
  const aad = new Uint8Array(8);
  aad.set(FRAME_AAD_TAG);
  viewOf(aad).setUint32(4, frameOffset, true);
  return aad;
}
