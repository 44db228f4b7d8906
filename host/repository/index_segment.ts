/**
 * Index segments (docs/format.md §7): object `index/<id>`, id = SHA-256 hex of the stored bytes.
 *
 * ```
 * "PFIX" | version u8 = 1 | aeadSeal(indexKey, zstd(body), aad = "PFIX")
 * body: u32le packCount, then per pack:
 *   packId (32 raw) | flags u8 (bit0 = metadata) | packLength u32le | blobCount u32le
 *   | blobCount x 53-byte blob entry (as in the pack TOC)
 * ```
 *
 * @module
 */

import { aeadOpen, aeadSeal } from "../crypto/aead.ts";
import { utf8, viewOf } from "../crypto/bytes.ts";
import { compress, decompress } from "../crypto/zstd.ts";
import {
  BLOB_ENTRY_LENGTH,
  type BlobLocation,
  readBlobEntry,
  writeBlobEntry,
} from "./blob_table.ts";
import { FormatError } from "./errors.ts";
import { isHex64 } from "./_fields.ts";

export const INDEX_VERSION = 1;
const MAGIC = utf8("PFIX");
const PACK_RECORD_HEAD = 32 + 1 + 4 + 4;

/** One pack as an index segment records it: id, kind, byte length and its blobs' locations. */
export interface IndexedPack {
  pack: string;
  metadata: boolean;
  length: number;
  blobs: BlobLocation[];
}

/**
 * Encodes and seals a segment naming `packs`. `nonce` is for reproducible tests and spec
 * examples only. `level` is the zstd level of the body (default 3).
 */
export function encodeIndexSegment(
  indexKey: Uint8Array,
  packs: readonly IndexedPack[],
  options: { level?: number; nonce?: Uint8Array } = {},
): Uint8Array {
  const body = encodeIndexBody(packs);
  const sealed = aeadSeal(indexKey, compress(body, options.level ?? 3), MAGIC, options.nonce);
  const out = new Uint8Array(5 + sealed.length);
  out.set(MAGIC);
  out[4] = INDEX_VERSION;
  out.set(sealed, 5);
  return out;
}

/**
 * Opens and decodes a segment. `IntegrityError` when it does not authenticate under `indexKey`
 * (altered, or another repository's), `FormatError` for a bad magic, version or body.
 */
export function decodeIndexSegment(indexKey: Uint8Array, bytes: Uint8Array): IndexedPack[] {
  if (bytes.length < 5) throw new FormatError(`index segment is only ${bytes.length} bytes`);
  for (let i = 0; i < 4; i++) {
    if (bytes[i] !== MAGIC[i]) throw new FormatError('index segment has no "PFIX" magic');
  }
  if (bytes[4] !== INDEX_VERSION) {
    throw new FormatError(`index segment version ${bytes[4]} is not supported (expected 1)`);
  }
  return decodeIndexBody(decompress(aeadOpen(indexKey, bytes.subarray(5), MAGIC)));
}

/** The plaintext body (before compression and sealing). Exported for the spec examples. */
export function encodeIndexBody(packs: readonly IndexedPack[]): Uint8Array {
  let size = 4;
  for (const p of packs) size += PACK_RECORD_HEAD + p.blobs.length * BLOB_ENTRY_LENGTH;
  const out = new Uint8Array(size);
  const view = viewOf(out);
  view.setUint32(0, packs.length, true);
  let at = 4;
  for (const p of packs) {
    if (!isHex64(p.pack)) throw new TypeError(`pack id "${p.pack}" is not 64 lowercase hex digits`);
    if (!Number.isInteger(p.length) || p.length < 0 || p.length > 0xffffffff) {
      throw new RangeError(`pack "${p.pack}" length ${p.length} does not fit 32 bits`);
    }
    out.subarray(at, at + 32).setFromHex(p.pack);
    view.setUint8(at + 32, p.metadata ? 1 : 0);
    view.setUint32(at + 33, p.length, true);
    view.setUint32(at + 37, p.blobs.length, true);
    at += PACK_RECORD_HEAD;
    for (const b of p.blobs) {
      writeBlobEntry(out, view, at, b);
      at += BLOB_ENTRY_LENGTH;
    }
  }
  return out;
}

/** Decodes a plaintext body; `FormatError` on any inconsistency, including trailing bytes. */
export function decodeIndexBody(body: Uint8Array): IndexedPack[] {
  const view = viewOf(body);
  if (body.length < 4) throw new FormatError("index segment body is shorter than its count");
  const count = view.getUint32(0, true);
  const packs: IndexedPack[] = [];
  let at = 4;
  for (let i = 0; i < count; i++) {
    if (at + PACK_RECORD_HEAD > body.length) {
      throw new FormatError(`index segment body ends inside pack record ${i} of ${count}`);
    }
    const pack = body.subarray(at, at + 32).toHex();
    const flags = view.getUint8(at + 32);
    if ((flags & ~1) !== 0) {
      throw new FormatError(`index segment: pack "${pack}" has unknown flags ${flags}`);
    }
    const length = view.getUint32(at + 33, true);
    const blobCount = view.getUint32(at + 37, true);
    at += PACK_RECORD_HEAD;
    if (at + blobCount * BLOB_ENTRY_LENGTH > body.length) {
      throw new FormatError(`index segment: pack "${pack}" claims more blobs than the body holds`);
    }
    const blobs: BlobLocation[] = new Array(blobCount);
    const what = `index segment pack "${pack}"`;
    for (let j = 0; j < blobCount; j++) {
      blobs[j] = readBlobEntry(body, view, at, what, length);
      at += BLOB_ENTRY_LENGTH;
    }
    packs.push({ pack, metadata: flags === 1, length, blobs });
  }
  if (at !== body.length) {
    throw new FormatError(`index segment body has ${body.length - at} trailing bytes`);
  }
  return packs;
}
