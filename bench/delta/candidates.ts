/**
 * The candidates of the delta-vs-dedup evaluation (docs/delta-vs-dedup.md), as models: each
 * takes the versions of a data set file by file and says what it would store, in which packs,
 * and what a restore of any version would need. No repository is written: blobs are grouped
 * into packs as the repository groups them (docs/format.md §6: a data pack is closed at the
 * target size, 64 MiB by default, and every backup run ends its last pack), without
 * compression (zstd would shrink every candidate's stored bytes alike) and without the
 * restore-locality rules of §7.2. `eval.ts` checks the model against real repositories.
 *
 * - {@link ChunkStore} with FastCDC (the real chunker, plugins/engine/dedup/fastcdc.ts, with
 *   the repository's default parameters) or fixed-size blocks: each piece keyed by its hash and
 *   stored once per repository; a version is a complete list of pieces (no chain). With zero
 *   detection, a piece of zeros is a hole: no blob.
 * - {@link RdiffStore}: an rdiff-style signature delta. Per file, the signature of the version
 *   last backed up (per block: a rolling checksum and a strong hash) is kept locally; the new
 *   version is scanned against it (rsync's rolling checksum, a match confirmed by the strong
 *   hash) and stored as copy instructions and literal bytes. Nothing old is read back, but a
 *   restore replays the chain of deltas from the last full version. A file with no basis (new,
 *   renamed) or whose chain reached `maxChain` is stored full (its zero 4 KiB blocks as holes).
 *
 * @module
 */

import { createHash } from "node:crypto";
import { Chunker, DEFAULT_CHUNKER_PARAMS } from "../../plugins/engine/dedup/fastcdc.ts";
import { keystream } from "../prng.ts";

/** The default data pack target (docs/format.md §6, `host/repository/config.ts`). */
export const PACK_TARGET = 64 << 20;
/** Bytes one delta instruction (copy, or the header of a literal run) is counted as. */
const INSTRUCTION_BYTES = 9;
const ZERO_4K = new Uint8Array(4096);

/** Packs in the order written; each run ends its last one. */
export class PackModel {
  readonly sizes: number[] = [];
  #open = 0;

  /** Adds a blob of `len` bytes; returns the index of the pack it lands in. */
  add(len: number): number {
    if (this.#open > 0 && this.#open + len > PACK_TARGET) this.#close();
    this.#open += len;
    const at = this.sizes.length;
    if (this.#open >= PACK_TARGET) this.#close();
    return at;
  }

  /** Ends the run: the open pack is stored. */
  endRun(): void {
    if (this.#open > 0) this.#close();
  }

  #close(): void {
    this.sizes.push(this.#open);
    this.#open = 0;
  }
}

/** What a version of one file needs to be restored. */
export interface FileVersion {
  /** Object keys (blobs or deltas) read to restore it, chain included. */
  needs: string[];
  /** Deltas replayed on top of a full version (0: none). */
  chain: number;
  size: number;
}

/** One file being backed up by a candidate. */
export interface FileWriter {
  push(bytes: Uint8Array): void;
  finish(): FileVersion;
}

/** What every candidate offers the evaluation. */
export interface Candidate {
  readonly name: string;
  readonly packs: PackModel;
  /** Object key -> pack index. */
  readonly where: Map<string, number>;
  storedBytes: number;
  /** Bytes a compact local state needs between runs (index, signatures). */
  stateBytes(): number;
  /** A writer for the new version of `path` (`previous`: its last version, if any). */
  file(path: string, previous?: FileVersion): FileWriter;
  /** A file's version not read again (unchanged): carried as it was. */
  unchanged(path: string, previous: FileVersion): FileVersion;
  /** A file gone from the data set. */
  forget(path: string): void;
}

/** Whether `b` is all zeros (native compare, 4 KiB at a time). */
export function isZero(b: Uint8Array): boolean {
  for (let off = 0; off < b.length; off += 4096) {
    const end = Math.min(b.length, off + 4096);
    if (Buffer.compare(b.subarray(off, end), ZERO_4K.subarray(0, end - off)) !== 0) return false;
  }
  return true;
}

function hashHex(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

/** Cuts a stream into fixed-size pieces. */
class FixedCutter {
  #pending: Uint8Array[] = [];
  #len = 0;
  constructor(readonly size: number) {}

  push(bytes: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let i = 0;
    while (i < bytes.length) {
      const take = Math.min(this.size - this.#len, bytes.length - i);
      this.#pending.push(bytes.subarray(i, i + take));
      this.#len += take;
      i += take;
      if (this.#len === this.size) out.push(this.#join());
    }
    return out;
  }

  finish(): Uint8Array[] {
    return this.#len === 0 ? [] : [this.#join()];
  }

  #join(): Uint8Array {
    const p = this.#pending;
    const out = p.length === 1 ? p[0] : Buffer.concat(p);
    this.#pending = [];
    this.#len = 0;
    return out;
  }
}

/** Content-addressed pieces (FastCDC or fixed blocks), stored once per repository. */
export class ChunkStore implements Candidate {
  readonly packs = new PackModel();
  readonly where = new Map<string, number>();
  storedBytes = 0;

  constructor(
    readonly name: string,
    private readonly cut: "fastcdc" | number,
    private readonly zeroHoles: boolean,
  ) {}

  stateBytes(): number {
    return this.where.size * 48; // a 32-byte id, pack number and offset per blob
  }

  file(_path: string): FileWriter {
    const gear = new Uint32Array(keystream("delta-eval-gear", 1024).buffer);
    const splitter = this.cut === "fastcdc"
      ? new Chunker(gear, DEFAULT_CHUNKER_PARAMS)
      : new FixedCutter(this.cut);
    const needs = new Set<string>();
    let size = 0;
    const take = (chunks: Uint8Array[]) => {
      for (const c of chunks) {
        size += c.length;
        if (this.zeroHoles && isZero(c)) continue;
        const id = hashHex(c);
        needs.add(id);
        if (!this.where.has(id)) {
          this.where.set(id, this.packs.add(c.length));
          this.storedBytes += c.length;
        }
      }
    };
    return {
      push: (bytes) => take(splitter.push(bytes)),
      finish: () => {
        take(splitter.finish());
        return { needs: [...needs], chain: 0, size };
      },
    };
  }

  unchanged(_path: string, previous: FileVersion): FileVersion {
    return previous;
  }

  forget(): void {}
}

/** A block signature: rolling checksum -> strong hashes present. */
type Signature = Map<number, Set<string>>;

/** rsync's rolling checksum of `b[i, i + n)`. */
function weakOf(b: Uint8Array, i: number, n: number): [number, number] {
  let a = 0, s = 0;
  for (let k = 0; k < n; k++) {
    a += b[i + k];
    s += (n - k) * b[i + k];
  }
  return [a & 0xffff, s & 0xffff];
}

function strongOf(b: Uint8Array): string {
  return createHash("md5").update(b).digest("base64");
}

/** An rdiff-style delta against the cached signature of each file's previous version. */
export class RdiffStore implements Candidate {
  readonly packs = new PackModel();
  readonly where = new Map<string, number>();
  storedBytes = 0;
  /** Per file: its last version's signature and block count. */
  #signatures = new Map<string, { sig: Signature; blocks: number }>();
  #versions = new Map<string, number>();

  /** Per file: what the last scan against a basis found (for a follower). */
  readonly scans = new Map<string, { literal: number; runs: number; copies: number }>();

  /**
   * `leader`: another RdiffStore of the same block size fed the same files first, whose scan
   * (against the same signature: both keep the last version's) this one reuses instead of
   * scanning again; it then differs only in when it stores a file whole.
   */
  constructor(
    readonly name: string,
    readonly block: number,
    readonly maxChain: number,
    private readonly leader?: RdiffStore,
  ) {}

  stateBytes(): number {
    if (this.leader) {
      return this.leader.stateBytes() - this.leader.where.size * 48 + this.where.size * 48;
    }
    let blocks = 0;
    for (const s of this.#signatures.values()) blocks += s.blocks;
    return blocks * 12 + this.where.size * 48; // 4-byte weak + 8-byte strong per block
  }

  /** A follower's writer: the leader's scan, or a whole copy. */
  #follow(path: string, key: string, previous?: FileVersion): FileWriter {
    const based = previous !== undefined && previous.chain < this.maxChain;
    let size = 0, literal = 0;
    return {
      push: (bytes) => {
        size += bytes.length;
        if (based) return;
        for (let off = 0; off < bytes.length; off += 4096) {
          const piece = bytes.subarray(off, Math.min(bytes.length, off + 4096));
          if (!(piece.length === 4096 && isZero(piece))) literal += piece.length;
        }
      },
      finish: () => {
        const scan = based ? this.leader!.scans.get(path) : undefined;
        if (based && scan === undefined) throw new Error(`the leader did not scan "${path}"`);
        if (scan && scan.literal === 0 && previous!.size === size) return previous!;
        const bytes = scan ? scan.literal + (scan.runs + scan.copies) * INSTRUCTION_BYTES : literal;
        this.where.set(key, this.packs.add(bytes));
        this.storedBytes += bytes;
        return scan
          ? { needs: [...previous!.needs, key], chain: previous!.chain + 1, size }
          : { needs: [key], chain: 0, size };
      },
    };
  }

  file(path: string, previous?: FileVersion): FileWriter {
    const B = this.block;
    if (this.leader) {
      const n = (this.#versions.get(path) ?? 0) + 1;
      this.#versions.set(path, n);
      return this.#follow(path, `${path}#${n}`, previous);
    }
    const basis = previous && previous.chain < this.maxChain
      ? this.#signatures.get(path)
      : undefined;
    const n = (this.#versions.get(path) ?? 0) + 1;
    this.#versions.set(path, n);
    const key = `${path}#${n}`;
    // The new version's own signature, block by block at aligned offsets.
    const sig: Signature = new Map();
    let blocks = 0;
    let alignedCarry = new Uint8Array(0);
    const sign = (bytes: Uint8Array) => {
      const data = alignedCarry.length ? Buffer.concat([alignedCarry, bytes]) : bytes;
      let i = 0;
      for (; i + B <= data.length; i += B) addSig(data.subarray(i, i + B));
      alignedCarry = data.slice(i);
    };
    const addSig = (blk: Uint8Array) => {
      const [a, s] = weakOf(blk, 0, blk.length);
      const w = (a | (s << 16)) >>> 0;
      let set = sig.get(w);
      if (!set) sig.set(w, set = new Set());
      set.add(strongOf(blk));
      blocks++;
    };
    let size = 0;
    let literal = 0, runs = 0, copies = 0, zeroBlocks = 0;
    let inLiteral = false;
    let carry = new Uint8Array(0);
    // Prefilter on the rolling checksum: most positions miss, and a bit test is cheaper than a
    // map lookup.
    const bloom = new Uint8Array(1 << 17);
    if (basis) { for (const w of basis.sig.keys()) bloom[(w ^ (w >>> 20)) & 0x1ffff] = 1; }
    const scan = (data: Uint8Array, final: boolean) => {
      let i = 0;
      let a = 0, s = 0, valid = false;
      while (i + B <= data.length) {
        if (!valid) [a, s] = weakOf(data, i, B), valid = true;
        const w = (a | (s << 16)) >>> 0;
        if (
          bloom[(w ^ (w >>> 20)) & 0x1ffff] &&
          basis!.sig.get(w)?.has(strongOf(data.subarray(i, i + B)))
        ) {
          copies++;
          inLiteral = false;
          i += B;
          valid = false;
          continue;
        }
        if (!inLiteral) runs++, inLiteral = true;
        literal++;
        const out = data[i];
        if (i + B < data.length) {
          const inb = data[i + B];
          a = (a - out + inb) & 0xffff;
          s = (s - B * out + a) & 0xffff;
        } else valid = false;
        i++;
      }
      if (final) {
        if (data.length - i > 0 && !inLiteral) runs++;
        literal += data.length - i;
        return new Uint8Array(0);
      }
      return data.slice(i);
    };
    const full = (bytes: Uint8Array) => {
      // No basis: the file is stored whole, its zero 4 KiB blocks as holes.
      for (let off = 0; off < bytes.length; off += 4096) {
        const piece = bytes.subarray(off, Math.min(bytes.length, off + 4096));
        if (piece.length === 4096 && isZero(piece)) zeroBlocks++;
        else literal += piece.length;
      }
    };
    return {
      push: (bytes) => {
        size += bytes.length;
        sign(bytes);
        if (!basis) return full(bytes);
        carry = scan(carry.length ? Buffer.concat([carry, bytes]) : bytes, false);
      },
      finish: () => {
        if (alignedCarry.length) addSig(alignedCarry);
        if (basis) scan(carry, true);
        this.#signatures.set(path, { sig, blocks });
        if (basis) this.scans.set(path, { literal, runs, copies });
        const unchanged = basis && literal === 0 && previous!.size === size &&
          copies === Math.ceil(size / B);
        if (unchanged) return previous!;
        const bytes = basis ? literal + (runs + copies) * INSTRUCTION_BYTES : literal;
        this.where.set(key, this.packs.add(bytes));
        this.storedBytes += bytes;
        void zeroBlocks;
        return basis
          ? { needs: [...previous!.needs, key], chain: previous!.chain + 1, size }
          : { needs: [key], chain: 0, size };
      },
    };
  }

  unchanged(_path: string, previous: FileVersion): FileVersion {
    return previous;
  }

  forget(path: string): void {
    this.#signatures.delete(path);
  }
}
