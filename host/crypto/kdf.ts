/**
 * Passphrase key derivation (docs/format.md §4 "Key files"): Argon2id v1.3 via libsodium's
 * `crypto_pwhash`, 16-byte random salt, cost parameters stored beside the salt.
 *
 * Default cost: opslimit 4, memlimit 64 MiB (RFC 9106's second recommended setting is t=3,
 * m=64 MiB; one pass more here), about 0.45 s on the 2-core reference machine. 256 MiB took
 * 1.26 s and, since libsodium's WASM heap never shrinks, kept 256 MiB resident for the whole
 * backup, against the 400 MB peak-RSS budget.
 *
 * @module
 */

import { randomBytes } from "node:crypto";
import { sodiumReady } from "./sealed_box.ts";

export const KDF_SALT_LENGTH = 16;
export const DEFAULT_OPSLIMIT = 4;
export const DEFAULT_MEMLIMIT = 64 * 1024 * 1024;
/** Bounds a reader accepts, so a hostile key file cannot demand absurd work or memory. */
export const KDF_LIMITS = {
  minOpslimit: 1,
  maxOpslimit: 64,
  minMemlimit: 8 * 1024,
  maxMemlimit: 2 * 1024 * 1024 * 1024,
} as const;

/** Argon2id parameters: salt (16 bytes), passes (`opslimit`), memory in bytes (`memlimit`). */
export interface KdfParams {
  salt: Uint8Array;
  opslimit: number;
  memlimit: number;
}

/** Fresh parameters with a random salt; costs default to the values above. */
export function newKdfParams(cost: { opslimit?: number; memlimit?: number } = {}): KdfParams {
  const params = {
    salt: new Uint8Array(randomBytes(KDF_SALT_LENGTH)),
    opslimit: cost.opslimit ?? DEFAULT_OPSLIMIT,
    memlimit: cost.memlimit ?? DEFAULT_MEMLIMIT,
  };
  checkKdfParams(params);
  return params;
}

/** Throws `RangeError` naming the parameter when `params` is outside the accepted bounds. */
export function checkKdfParams(params: KdfParams): void {
  if (params.salt.length !== KDF_SALT_LENGTH) {
    throw new RangeError(`KDF salt is ${params.salt.length} bytes, expected ${KDF_SALT_LENGTH}`);
  }
  const { minOpslimit, maxOpslimit, minMemlimit, maxMemlimit } = KDF_LIMITS;
  if (
    !Number.isInteger(params.opslimit) || params.opslimit < minOpslimit ||
    params.opslimit > maxOpslimit
  ) {
    throw new RangeError(
      `KDF "opslimit" ${params.opslimit} is not in ${minOpslimit}..${maxOpslimit}`,
    );
  }
  if (
    !Number.isInteger(params.memlimit) || params.memlimit < minMemlimit ||
    params.memlimit > maxMemlimit || params.memlimit % 1024 !== 0
  ) {
    throw new RangeError(
      `KDF "memlimit" ${params.memlimit} is not a multiple of 1024 in ${minMemlimit}..${maxMemlimit}`,
    );
  }
}

/**
 * The 32-byte key Argon2id derives from `passphrase` (Unicode NFC-normalised, then UTF-8) and
 * `params`. Deterministic. Blocks the calling thread for the duration of the hash.
 */
export async function deriveKey(passphrase: string, params: KdfParams): Promise<Uint8Array> {
  checkKdfParams(params);
  const sodium = await sodiumReady();
  return sodium.crypto_pwhash(
    32,
    new TextEncoder().encode(passphrase.normalize("NFC")),
    params.salt,
    params.opslimit,
    params.memlimit,
    sodium.crypto_pwhash_ALG_ARGON2ID13,
  );
}
