/**
 * Pack-index blobs (docs/format.md §6.5): a blob of type "pack-index", stored in a metadata
 * pack, whose plaintext is an index-segment body (§7, version 1 body) naming data packs the
 * same run stored, each with its full TOC. With them, a rebuild from the cold tier restores
 * only the metadata packs and still knows where every data blob of a completed run is.
 *
 * @module
 */

import { decodeIndexBody, encodeIndexBody, type IndexedPack } from "./index_segment.ts";
import { FormatError } from "./errors.ts";

/** The plaintext of a pack-index blob naming `packs` (data packs only). */
export function encodePackIndex(packs: readonly IndexedPack[]): Uint8Array {
  if (packs.length === 0) throw new RangeError("a pack-index blob names at least one pack");
  for (const p of packs) {
    if (p.metadata) throw new TypeError(`pack "${p.pack}" is a metadata pack, not a data pack`);
    if (p.blobs.some((b) => b.type !== "data")) {
      throw new TypeError(`pack "${p.pack}" holds blobs that are not data`);
    }
  }
  return encodeIndexBody(packs);
}

/**
 * Decodes a pack-index blob's plaintext; `FormatError` when it is not a §7 body or names a
 * metadata pack or a blob that is not data.
 */
export function decodePackIndex(plaintext: Uint8Array): IndexedPack[] {
  const packs = decodeIndexBody(plaintext);
  for (const p of packs) {
    if (p.metadata || p.blobs.some((b) => b.type !== "data")) {
      throw new FormatError(`pack-index blob names pack "${p.pack}", which is not a data pack`);
    }
  }
  return packs;
}

/**
 * A pack-index blob's plaintext built as a run stores its data packs: each pack's record (§7)
 * is encoded when the pack is added, so the run holds its packs' TOCs as bytes (51 per blob)
 * rather than as objects (about 200 bytes of heap per blob) until the blob is stored at its
 * end. `take()` gives what `encodePackIndex` gives for the packs added since the last `take()`.
 */
export class PackIndexBuilder {
  #records: Uint8Array[] = [];
  #length = 0;

  /** Packs added since the last `take()`. */
  get count(): number {
    return this.#records.length;
  }

  /** Adds a data pack (checked as `encodePackIndex` checks it). */
  add(pack: IndexedPack): void {
    // A body naming one pack: its count (u32, 1), then the pack's record.
    const record = encodePackIndex([pack]).subarray(4);
    this.#records.push(record);
    this.#length += record.length;
  }

  /** The plaintext naming every pack added since the last `take()`; then starts afresh. */
  take(): Uint8Array {
    if (this.#records.length === 0) {
      throw new RangeError("a pack-index blob names at least one pack");
    }
    const out = new Uint8Array(4 + this.#length);
    new DataView(out.buffer).setUint32(0, this.#records.length, true);
    let at = 4;
    for (const r of this.#records) {
      out.set(r, at);
      at += r.length;
    }
    this.#records = [];
    this.#length = 0;
    return out;
  }
}
