/**
 * Public-key sealing (docs/format.md §3 "Sealed boxes"): libsodium's `crypto_box_seal`
 * (X25519 + XSalsa20-Poly1305 with an ephemeral sender key), so a holder of only the public key
 * can seal but never open. libsodium is initialised when this module loads (top-level await), so
 * the synchronous functions below are usable as soon as it is imported.
 *
 * @module
 */

import sodium from "libsodium-wrappers-sumo";
import { IntegrityError } from "./errors.ts";

await sodium.ready;

export const X25519_KEY_LENGTH = 32;
/** Bytes a sealed box has beyond its message: ephemeral public key (32) + MAC (16). */
export const SEALED_BOX_OVERHEAD = 48;

/** Resolves with the initialised libsodium module (already initialised once this module loaded). */
export async function sodiumReady(): Promise<typeof sodium> {
  await sodium.ready;
  return sodium;
}

/** A fresh random X25519 key pair. */
export function generateKeyPair(): { publicKey: Uint8Array; privateKey: Uint8Array } {
  const kp = sodium.crypto_box_keypair();
  return { publicKey: kp.publicKey, privateKey: kp.privateKey };
}

/** The X25519 public key belonging to `privateKey`. */
export function publicKeyOf(privateKey: Uint8Array): Uint8Array {
  checkLength(privateKey, "private key");
  return sodium.crypto_scalarmult_base(privateKey);
}

/**
 * Seals `message` to `publicKey`; the result is `message.length + 48` bytes.
 * `ephemeralPrivateKey` is for reproducible tests and spec examples only: it builds the same
 * construction as `crypto_box_seal` (nonce = BLAKE2b-192(epk || pk)) with a fixed sender key.
 * Production code MUST omit it.
 */
export function sealTo(
  publicKey: Uint8Array,
  message: Uint8Array,
  ephemeralPrivateKey?: Uint8Array,
): Uint8Array {
  checkLength(publicKey, "public key");
  if (ephemeralPrivateKey === undefined) return sodium.crypto_box_seal(message, publicKey);
  const epk = publicKeyOf(ephemeralPrivateKey);
  const nonceInput = new Uint8Array(64);
  nonceInput.set(epk);
  nonceInput.set(publicKey, 32);
  const nonce = sodium.crypto_generichash(sodium.crypto_box_NONCEBYTES, nonceInput, null);
  const boxed = sodium.crypto_box_easy(message, nonce, publicKey, ephemeralPrivateKey);
  const out = new Uint8Array(32 + boxed.length);
  out.set(epk);
  out.set(boxed, 32);
  return out;
}

/** Opens a sealed box with the recipient's key pair; `IntegrityError` if it does not open. */
export function openSealed(
  sealed: Uint8Array,
  publicKey: Uint8Array,
  privateKey: Uint8Array,
): Uint8Array {
  checkLength(publicKey, "public key");
  checkLength(privateKey, "private key");
  if (sealed.length < SEALED_BOX_OVERHEAD) {
    throw new IntegrityError(`sealed box is ${sealed.length} bytes, shorter than 48`);
  }
  try {
    return sodium.crypto_box_seal_open(sealed, publicKey, privateKey);
  } catch {
    throw new IntegrityError("sealed box does not open: it was altered or the key is wrong");
  }
}

function checkLength(key: Uint8Array, what: string): void {
  if (key.length !== X25519_KEY_LENGTH) {
    throw new RangeError(`X25519 ${what} is ${key.length} bytes, expected ${X25519_KEY_LENGTH}`);
  }
}
