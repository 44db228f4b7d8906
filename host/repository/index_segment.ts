/**
 * Index segments (docs/format.md §7): object `index/<id>`, id = SHA-256 hex of the stored bytes.
 *
 * ```
 * "PFIX" | version u8 = 1 | aeadSeal(indexKey, zstd(body), aad = "PFIX")
 * body: u32le packCount, then per pack:
 *   packId (32 raw) | flags u8 (bit0 = metadata) | packLength u32le | blobCount u32le
 *   | blobCount x 53-byte blob entry (as in the pack TOC)
 *
 * "PFIX" | version u8 = 2 | aeadSeal(indexKey, zstd(body2), aad = "PFIX")      (§7.1)
 * body2: u32le supersededCount | supersededCount x segment id (32 raw) | adminTag (32) | body
 *   (in body2, pack flags bit1 = attested: written by the admin run that wrote the segment)
 * adminTag = HMAC-SHA-256(adminTagKey, u32le supersededCount | ids | body)
 * ```
 *
 * Version 2 is written only by the admin (gc compact, index consolidation): it names the
 * segments it supersedes, and the tag proves it came from a holder of the private key.
 *
 * @module
 */

import { createHmac, timingSafeEqual } from "node:crypto";
import { aeadOpen, aeadSeal } from "../crypto/aead.ts";
import { concatBytes, u32le, utf8, viewOf } from "../crypto/bytes.ts";
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
/** The version of segments that supersede others (§7.1). */
export const SUPERSEDING_INDEX_VERSION = 2;
const MAGIC = utf8("PFIX");
const PACK_RECORD_HEAD = 32 + 1 + 4 + 4;
const TAG_LENGTH = 32;
const ADMIN_TAG_CONTEXT = utf8("permafrost admin tag v1");

/** One pack as an index segment records it: id, kind, byte length and its blobs' locations. */
export interface IndexedPack {
  pack: string;
  metadata: boolean;
  length: number;
  blobs: BlobLocation[];
  /**
   * Version 2 only (§7.1, flags bit 1): the admin run that wrote the segment wrote this pack,
   * so its record is the admin's own (gc trusts only such copies of a blob; an ingest client
   * can write segments naming any pack). Absent when false.
   */
  attested?: boolean;
}

/** What superseding segments carry (§7.1): the ids of the segments they replace. */
export interface Supersession {
  /** Ids (64 hex digits) of the segments this one supersedes; not empty. */
  supersedes: readonly string[];
  /** The admin tag key (`adminTagKey`): only a holder of the private key can supersede. */
  adminTagKey: Uint8Array;
}

/**
 * The key of the admin tag (§7.1): HMAC-SHA-256(privateKey, "permafrost admin tag v1"). Derived
 * from the private key, so an ingest client (which holds the index key and may write segments)
 * cannot forge a segment that hides others from the admin's garbage collection.
 */
export function adminTagKey(privateKey: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac("sha256", privateKey).update(ADMIN_TAG_CONTEXT).digest());
}

/**
 * Encodes and seals a segment naming `packs`: version 1, or version 2 when `supersession` is
 * given. `level` is the zstd level of the body: the repository's `compression.level`
 * (docs/format.md §3.5), so it has no default. `nonce` is for reproducible tests and spec
 * examples only. Repositories write segments through `Repository.writeSegment`, which passes
 * its config's level.
 */
export function encodeIndexSegment(
  indexKey: Uint8Array,
  packs: readonly IndexedPack[],
  options: { level: number; nonce?: Uint8Array; supersession?: Supersession },
): Uint8Array {
  const { level } = options;
  if (!Number.isInteger(level) || level < 1 || level > 22) {
    throw new RangeError(
      `index segment compression level ${level} is not an integer in 1..22: pass the ` +
        "repository's config compression.level (docs/format.md §3.5)",
    );
  }
  let body = encodeIndexBody(packs, options.supersession !== undefined);
  let version = INDEX_VERSION;
  if (options.supersession) {
    const ids = options.supersession.supersedes;
    if (ids.length === 0) throw new RangeError("a superseding segment must name segments");
    const head = new Uint8Array(4 + 32 * ids.length);
    head.set(u32le(ids.length));
    ids.forEach((id, i) => {
      if (!isHex64(id)) throw new TypeError(`segment id "${id}" is not 64 lowercase hex digits`);
      head.subarray(4 + 32 * i, 36 + 32 * i).setFromHex(id);
    });
    const tag = adminTag(options.supersession.adminTagKey, head, body);
    body = concatBytes([head, tag, body]);
    version = SUPERSEDING_INDEX_VERSION;
  }
  const sealed = aeadSeal(indexKey, compress(body, level), MAGIC, options.nonce);
  const out = new Uint8Array(5 + sealed.length);
  out.set(MAGIC);
  out[4] = version;
  out.set(sealed, 5);
  return out;
}

/** A decoded segment: its packs and, for version 2, what it supersedes. */
export interface IndexSegment {
  version: 1 | 2;
  packs: IndexedPack[];
  /** Ids of the segments it supersedes (empty for version 1). */
  supersedes: string[];
  /**
   * Whether the admin tag verifies under `adminTagKey` (always false for version 1, which
   * supersedes nothing). Readers MUST NOT honour `supersedes` when this is false and they
   * hold the private key (§7.1).
   */
  verify(adminTagKey: Uint8Array): boolean;
}

/**
 * Opens and decodes a segment's packs. `IntegrityError` when it does not authenticate under
 * `indexKey` (altered, or another repository's), `FormatError` for a bad magic, version or body.
 */
export function decodeIndexSegment(indexKey: Uint8Array, bytes: Uint8Array): IndexedPack[] {
  return openIndexSegment(indexKey, bytes).packs;
}

/** Opens and decodes a segment of either version (§7, §7.1); errors as `decodeIndexSegment`. */
export function openIndexSegment(indexKey: Uint8Array, bytes: Uint8Array): IndexSegment {
  if (bytes.length < 5) throw new FormatError(`index segment is only ${bytes.length} bytes`);
  for (let i = 0; i < 4; i++) {
    if (bytes[i] !== MAGIC[i]) throw new FormatError('index segment has no "PFIX" magic');
  }
  const version = bytes[4];
  if (version !== INDEX_VERSION && version !== SUPERSEDING_INDEX_VERSION) {
    throw new FormatError(`index segment version ${version} is not supported (expected 1 or 2)`);
  }
  const plain = decompress(aeadOpen(indexKey, bytes.subarray(5), MAGIC));
  if (version === INDEX_VERSION) {
    return { version, packs: decodeIndexBody(plain), supersedes: [], verify: () => false };
  }
  if (plain.length < 4) throw new FormatError("index segment body is shorter than its count");
  const count = viewOf(plain).getUint32(0, true);
  const headLength = 4 + 32 * count;
  if (count === 0 || plain.length < headLength + TAG_LENGTH + 4) {
    throw new FormatError(`index segment version 2 names ${count} superseded segments badly`);
  }
  const head = plain.subarray(0, headLength);
  const tag = plain.subarray(headLength, headLength + TAG_LENGTH);
  const body = plain.subarray(headLength + TAG_LENGTH);
  const supersedes: string[] = [];
  for (let i = 0; i < count; i++) supersedes.push(head.subarray(4 + 32 * i, 36 + 32 * i).toHex());
  return {
    version,
    packs: decodeIndexBody(body, true),
    supersedes,
    verify: (key) => timingSafeEqual(adminTag(key, head, body), tag),
  };
}

function adminTag(key: Uint8Array, head: Uint8Array, body: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac("sha256", key).update(head).update(body).digest());
}

/**
 * The plaintext body (before compression and sealing). Exported for the spec examples and pack
 * indexes. `attested` allows the attested flag (version 2 bodies only).
 */
export function encodeIndexBody(packs: readonly IndexedPack[], attested = false): Uint8Array {
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
    if (p.attested && !attested) {
      throw new TypeError(`pack "${p.pack}": only a superseding segment may attest a pack`);
    }
    out.subarray(at, at + 32).setFromHex(p.pack);
    view.setUint8(at + 32, (p.metadata ? 1 : 0) | (p.attested ? 2 : 0));
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

/**
 * Decodes a plaintext body; `FormatError` on any inconsistency, including trailing bytes.
 * `attested` allows the attested flag (version 2 bodies only).
 */
export function decodeIndexBody(body: Uint8Array, attested = false): IndexedPack[] {
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
    if ((flags & ~(attested ? 3 : 1)) !== 0) {
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
    packs.push({
      pack,
      metadata: (flags & 1) === 1,
      length,
      blobs,
      ...((flags & 2) === 2 ? { attested: true } : {}),
    });
  }
  if (at !== body.length) {
    throw new FormatError(`index segment body has ${body.length - at} trailing bytes`);
  }
  return packs;
}
