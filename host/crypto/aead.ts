/**
 * Authenticated encryption (docs/format.md §3 "Sealed data"): AES-256-GCM via node:crypto
 * (AES-NI), a random 96-bit nonce per message, 128-bit tag.
 *
 * Sealed layout: `nonce (12) || ciphertext (same length as the plaintext) || tag (16)`.
 *
 * @module
 */

import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { IntegrityError } from "./errors.ts";

export const AEAD_KEY_LENGTH = 32;
export const AEAD_NONCE_LENGTH = 12;
export const AEAD_TAG_LENGTH = 16;
/** Bytes a sealed message has beyond its plaintext. */
export const AEAD_OVERHEAD = AEAD_NONCE_LENGTH + AEAD_TAG_LENGTH;

const EMPTY = new Uint8Array(0);

/**
 * Seals `plaintext` under `key` with additional authenticated data `aad`.
 * `nonce` is for reproducible tests and spec examples only: production code MUST let it default
 * to a fresh random nonce (a reused nonce under one key breaks GCM).
 */
export function aeadSeal(
  key: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array = EMPTY,
  nonce?: Uint8Array,
): Uint8Array {
  checkKey(key);
  const iv = nonce ?? randomBytes(AEAD_NONCE_LENGTH);
  if (iv.length !== AEAD_NONCE_LENGTH) {
    throw new RangeError(`nonce is ${iv.length} bytes, expected ${AEAD_NONCE_LENGTH}`);
  }
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(aad);
  const out = new Uint8Array(AEAD_OVERHEAD + plaintext.length);
  out.set(iv, 0);
  const body = cipher.update(plaintext);
  out.set(body, AEAD_NONCE_LENGTH);
  const rest = cipher.final(); // empty for GCM, kept for correctness
  out.set(rest, AEAD_NONCE_LENGTH + body.length);
  out.set(cipher.getAuthTag(), AEAD_NONCE_LENGTH + plaintext.length);
  return out;
}

/**
 * Opens what `aeadSeal` produced with the same `key` and `aad`.
 * Throws `IntegrityError` when the input is shorter than the overhead or does not authenticate.
 */
export function aeadOpen(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
  checkKey(key);
  if (sealed.length < AEAD_OVERHEAD) {
    throw new IntegrityError(
      `sealed data is ${sealed.length} bytes, shorter than the ${AEAD_OVERHEAD}-byte minimum`,
    );
  }
  const tagAt = sealed.length - AEAD_TAG_LENGTH;
  const decipher = createDecipheriv("aes-256-gcm", key, sealed.subarray(0, AEAD_NONCE_LENGTH));
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(tagAt));
  const body = decipher.update(sealed.subarray(AEAD_NONCE_LENGTH, tagAt));
  try {
    const rest = decipher.final();
    if (rest.length === 0) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
    const out = new Uint8Array(body.length + rest.length);
    out.set(body);
    out.set(rest, body.length);
    return out;
  } catch {
    throw new IntegrityError(
      "sealed data does not authenticate: it was altered or the key is wrong",
    );
  }
}

function checkKey(key: Uint8Array): void {
  if (key.length !== AEAD_KEY_LENGTH) {
    throw new RangeError(`AEAD key is ${key.length} bytes, expected ${AEAD_KEY_LENGTH}`);
  }
}
