/**
 * The 53-byte blob entry shared by a pack's table of contents and by index segments
 * (docs/format.md §6 "Blob entries"):
 *
 * ```
 * id (32 raw bytes) | type u8 | frameOffset u32le | frameLength u32le | offsetInFrame u32le | length u32le
 * ```
 *
 * @module
 */

import { AEAD_OVERHEAD } from "../crypto/aead.ts";
import { FormatError } from "./errors.ts";
import { isHex64 } from "./_fields.ts";

/**
 * What a blob holds: file data, a tree (one directory), a snapshot's details, or a pack index
 * (the index-segment body naming the data packs one run wrote, docs/format.md §6.5).
 */
export type BlobType = "data" | "tree" | "snapshot" | "pack-index";

/** Blob type codes, by their u8 value. */
export const BLOB_TYPES: readonly BlobType[] = ["data", "tree", "snapshot", "pack-index"];

/** Length of one encoded blob entry. */
export const BLOB_ENTRY_LENGTH = 53;

/** The smallest offset a frame can have: right after the 88-byte pack header. */
const FIRST_FRAME_OFFSET = 88;

/**
 * Where a blob sits in its pack: the sealed frame holding it (`frameOffset`, `frameLength` in
 * pack bytes) and its place in that frame's decompressed plaintext (`offsetInFrame`, `length`).
 */
export interface BlobLocation {
  id: string;
  type: BlobType;
  frameOffset: number;
  frameLength: number;
  offsetInFrame: number;
  length: number;
}

/** Writes `loc` at `at` in `out` (through `view`, a DataView over `out`). */
export function writeBlobEntry(
  out: Uint8Array,
  view: DataView,
  at: number,
  loc: BlobLocation,
): void {
  if (!isHex64(loc.id)) throw new TypeError(`blob id "${loc.id}" is not 64 lowercase hex digits`);
  const type = BLOB_TYPES.indexOf(loc.type);
  if (type < 0) throw new TypeError(`blob "${loc.id}" has unknown type "${loc.type}"`);
  out.subarray(at, at + 32).setFromHex(loc.id);
  view.setUint8(at + 32, type);
  view.setUint32(at + 33, loc.frameOffset, true);
  view.setUint32(at + 37, loc.frameLength, true);
  view.setUint32(at + 41, loc.offsetInFrame, true);
  view.setUint32(at + 45, loc.length, true);
  if (
    view.getUint32(at + 45, true) !== loc.length ||
    view.getUint32(at + 33, true) !== loc.frameOffset
  ) {
    throw new RangeError(`blob "${loc.id}" has an offset or length that does not fit 32 bits`);
  }
}

/**
 * Reads the entry at `at`. `FormatError` (naming `what`) for an unknown type or a location that
 * cannot be a frame of a pack of `packLength` bytes.
 */
export function readBlobEntry(
  bytes: Uint8Array,
  view: DataView,
  at: number,
  what: string,
  packLength: number,
): BlobLocation {
  const id = bytes.subarray(at, at + 32).toHex();
  const type = BLOB_TYPES[view.getUint8(at + 32)];
  if (type === undefined) {
    throw new FormatError(`${what}: blob "${id}" has unknown type code ${view.getUint8(at + 32)}`);
  }
  const loc: BlobLocation = {
    id,
    type,
    frameOffset: view.getUint32(at + 33, true),
    frameLength: view.getUint32(at + 37, true),
    offsetInFrame: view.getUint32(at + 41, true),
    length: view.getUint32(at + 45, true),
  };
  if (
    loc.frameOffset < FIRST_FRAME_OFFSET || loc.frameLength < AEAD_OVERHEAD ||
    loc.frameOffset + loc.frameLength > packLength
  ) {
    throw new FormatError(
      `${what}: blob "${id}" names frame ${loc.frameOffset}+${loc.frameLength}, ` +
        `outside the ${packLength}-byte pack`,
    );
  }
  return loc;
}
