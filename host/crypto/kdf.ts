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
 * `params`. Deterministic.
 *
 * Runs in a short-lived worker (`kdf_worker.ts`): libsodium's WASM heap grows to `memlimit` and
 * never shrinks, so deriving in the main thread kept 64 MiB (256 MiB at the old default)
 * resident for the rest of the run; a terminated worker gives it back.
 */
export async function deriveKey(passphrase: string, params: KdfParams): Promise<Uint8Array> {
  checkKdfParams(params);
  const worker = new Worker(new URL("./kdf_worker.ts", import.meta.url).href, {
    type: "module",
    name: "kdf",
    // Trusted host code. libsodium never finishes starting in a worker with narrowed
    // permissions (Deno 2.9.6: "none", or even read, env, sys and import granted), so this
    // worker inherits the host's.
  });
  try {
    return await new Promise<Uint8Array>((resolve, reject) => {
      // The worker says "ready" once its modules (libsodium) are loaded; a message sent before
      // that could arrive before its handler exists.
      worker.onmessage = (e: MessageEvent<{ ready?: true; key?: Uint8Array; error?: string }>) => {
        if (e.data.ready) worker.postMessage({ passphrase, params });
        else if (e.data.key) resolve(e.data.key);
        else reject(new Error(e.data.error ?? "KDF failed"));
      };
      worker.onerror = (e) => {
        e.preventDefault();
        reject(new Error(`KDF worker failed: ${e.message}`));
      };
    });
  } finally {
    worker.terminate();
  }
}

/** `deriveKey` in the calling thread (the worker's body; tests compare the two). */
export async function deriveKeyHere(passphrase: string, params: KdfParams): Promise<Uint8Array> {
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
