/**
 * Sealed mirror objects (docs/format.md §8.1): a `sync` file mirrored with `encrypt = true` is
 * `"PFMO" | version 1 | 3 reserved zero bytes | sealedDataKey (80) | frames`, each frame
 * `u32le sealedLength | aeadSeal(dataKey, plaintext, "PFMO" | u64le index | u8 final)` with
 * {@link SEALED_FRAME_BYTES} of plaintext (every frame full except the last; an empty file has
 * one empty final frame). The data key is sealed to the repository's public key, so an ingest
 * key writes these objects and only the private key opens them.
 *
 * @module
 */

import { createHash, randomBytes } from "node:crypto";
import { AEAD_NONCE_LENGTH, AEAD_OVERHEAD, aeadOpenAsync, aeadSealAsync } from "../crypto/aead.ts";
import { IntegrityError } from "../crypto/errors.ts";
import { openSealed, sealTo } from "../crypto/sealed_box.ts";

/** Plaintext bytes per frame. */
export const SEALED_FRAME_BYTES = 4 * 2 ** 20;

/** `"PFMO"`, version, reserved, sealed data key. */
export const SEALED_HEADER_BYTES = 88;

/** The folder under `mirror/<source>/` that sealed objects are named in. */
export const MIRROR_SEALED = ".sealed/";

const MAGIC = new Uint8Array([0x50, 0x46, 0x4d, 0x4f]); // "PFMO"
const VERSION = 1;

/** Frames of a file of `size` bytes: at least one. */
export function sealedFrames(size: number): number {
  return Math.max(1, Math.ceil(size / SEALED_FRAME_BYTES));
}

/** The object size of a file of `size` bytes, sealed. */
export function sealedSize(size: number): number {
  return SEALED_HEADER_BYTES + sealedFrames(size) * (4 + AEAD_OVERHEAD) + size;
}

/** The additional data of frame `index` (docs/format.md §8.1). */
function frameAad(index: number, final: boolean): Uint8Array {
  const aad = new Uint8Array(13);
  aad.set(MAGIC);
  new DataView(aad.buffer).setBigUint64(4, BigInt(index), true);
  aad[12] = final ? 1 : 0;
  return aad;
}

/**
 * A frame was sealed again with other plaintext than the first time (the file changed between
 * the two reads of an upload in pieces). Thrown before anything is sealed: a nonce is never used
 * for two different plaintexts under one key, which would undo AES-GCM's secrecy and integrity.
 */
export class FramePlaintextChanged extends Error {
  override name = "FramePlaintextChanged";
}

/**
 * The writer of one sealed object: a fresh data key sealed to `publicKey`, and one fresh random
 * nonce per frame, kept so that sealing the same plaintext again (the second read of a file
 * uploaded in pieces) gives the same bytes. It remembers each frame's SHA-256 and refuses
 * ({@link FramePlaintextChanged}) to seal a frame again with other bytes.
 */
export class SealedWriter {
  readonly header: Uint8Array;
  readonly frames: number;
  #dataKey: Uint8Array;
  #nonces: Uint8Array[] = [];
  #digests: string[] = [];

  constructor(publicKey: Uint8Array, size: number) {
    this.#dataKey = new Uint8Array(randomBytes(32));
    this.frames = sealedFrames(size);
    this.header = new Uint8Array(SEALED_HEADER_BYTES);
    this.header.set(MAGIC);
    this.header[4] = VERSION;
    this.header.set(sealTo(publicKey, this.#dataKey), 8);
  }

  /** Frame `index` (length prefix included) of `plaintext`. */
  async frame(index: number, plaintext: Uint8Array): Promise<Uint8Array> {
    if (index >= this.frames) throw new RangeError(`frame ${index} of ${this.frames}`);
    const final = index === this.frames - 1;
    if (!final && plaintext.length !== SEALED_FRAME_BYTES) {
      throw new RangeError(`frame ${index} is ${plaintext.length} bytes, not a full frame`);
    }
    const digest = createHash("sha256").update(plaintext).digest("hex");
    if (this.#digests[index] !== undefined && this.#digests[index] !== digest) {
      throw new FramePlaintextChanged(`frame ${index} is not the bytes first sealed there`);
    }
    this.#digests[index] = digest;
    this.#nonces[index] ??= new Uint8Array(randomBytes(AEAD_NONCE_LENGTH));
    const sealed = await aeadSealAsync(
      this.#dataKey,
      plaintext,
      frameAad(index, final),
      this.#nonces[index],
    );
    const out = new Uint8Array(4 + sealed.length);
    new DataView(out.buffer).setUint32(0, sealed.length, true);
    out.set(sealed, 4);
    return out;
  }

  /** The whole object of `plaintext` (a file read whole). */
  async whole(plaintext: Uint8Array): Promise<Uint8Array> {
    const out = new Uint8Array(sealedSize(plaintext.length));
    out.set(this.header);
    let at = SEALED_HEADER_BYTES;
    for (let i = 0; i < this.frames; i++) {
      const piece = plaintext.subarray(i * SEALED_FRAME_BYTES, (i + 1) * SEALED_FRAME_BYTES);
      const frame = await this.frame(i, piece);
      out.set(frame, at);
      at += frame.length;
    }
    return out;
  }
}

/**
 * Opens the sealed object of `objectSize` bytes that `read` reads ranges of, handing each
 * frame's plaintext to `each` in order; `what` names the file and object in errors. Refuses
 * (`IntegrityError`) a wrong magic or version, a data key that does not open, a frame that does
 * not authenticate at its place (altered, moved, or from another object), a missing final frame
 * and bytes after it. Memory holds one frame.
 */
export async function openSealedObject(
  read: (offset: number, length: number) => Promise<Uint8Array>,
  objectSize: number,
  keys: { publicKey: Uint8Array; privateKey: Uint8Array },
  what: string,
  each: (plaintext: Uint8Array) => void | Promise<void>,
): Promise<void> {
  const fail = (why: string) => new IntegrityError(`${what} ${why}`);
  if (objectSize < SEALED_HEADER_BYTES + 4 + AEAD_OVERHEAD) {
    throw fail(`is ${objectSize} bytes, too short for a sealed mirror object`);
  }
  const header = await exactly(read, 0, SEALED_HEADER_BYTES, fail);
  if (!MAGIC.every((b, i) => header[i] === b)) throw fail(`is not a sealed mirror object`);
  if (header[4] !== VERSION || header[5] !== 0 || header[6] !== 0 || header[7] !== 0) {
    throw fail(`has sealed object version ${header[4]}, which this version cannot read`);
  }
  let dataKey: Uint8Array;
  try {
    dataKey = openSealed(header.subarray(8), keys.publicKey, keys.privateKey);
  } catch {
    throw fail(`has a data key that does not open with this repository's key (altered?)`);
  }
  let at = SEALED_HEADER_BYTES;
  for (let index = 0;; index++) {
    if (at + 4 > objectSize) throw fail(`ends without its final frame (truncated)`);
    // One read per frame: a well-formed frame is full, or ends the object.
    const span = Math.min(4 + SEALED_FRAME_BYTES + AEAD_OVERHEAD, objectSize - at);
    const got = await exactly(read, at, span, fail);
    const length = new DataView(got.buffer).getUint32(0, true);
    if (length < AEAD_OVERHEAD || length > SEALED_FRAME_BYTES + AEAD_OVERHEAD) {
      throw fail(`frame ${index} has an impossible length ${length} (altered)`);
    }
    const end = at + 4 + length;
    if (end > objectSize) throw fail(`ends inside frame ${index} (truncated)`);
    const sealed = got.subarray(4, 4 + length);
    const final = end === objectSize;
    let plaintext: Uint8Array;
    try {
      plaintext = await aeadOpenAsync(dataKey, sealed, frameAad(index, final));
    } catch {
      throw fail(
        final
          ? `frame ${index} does not authenticate as the final frame (altered, reordered or ` +
            "truncated)"
          : `frame ${index} does not authenticate (altered or reordered)`,
      );
    }
    if (!final && plaintext.length !== SEALED_FRAME_BYTES) {
      throw fail(`frame ${index} is not full but not the last (altered)`);
    }
    await each(plaintext);
    if (final) return;
    at = end;
  }
}

async function exactly(
  read: (offset: number, length: number) => Promise<Uint8Array>,
  offset: number,
  length: number,
  fail: (why: string) => Error,
): Promise<Uint8Array> {
  const bytes = await read(offset, length);
  if (bytes.length !== length) throw fail(`ended early at byte ${offset + bytes.length}`);
  return bytes.byteOffset === 0 && bytes.buffer.byteLength === length ? bytes : bytes.slice();
}
