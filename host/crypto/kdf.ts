/**
 * Passphrase key derivation (docs/format.md §4 "Key files"): Argon2id v1.3, parallelism 1,
 * 32-byte output, 16-byte random salt, cost parameters stored beside the salt.
 *
 * Default cost: opslimit 4, memlimit 64 MiB (RFC 9106's second recommended setting is t=3,
 * m=64 MiB; one pass more here).
 *
 * Two implementations of the one function, giving the same bytes (kdf_test.ts compares them):
 * - native, `@node-rs/argon2` (the RustCrypto `argon2` crate as a Node-API addon): 0.12-0.13 s
 *   at the default cost on the 2-core reference machine, run off the main thread;
 * - libsodium's `crypto_pwhash` (WASM) in a short-lived worker, where the native addon cannot
 *   load (no prebuilt binary for the platform, or no `--allow-ffi`): 0.53-0.63 s, plus about
 *   0.15 s to start the worker, at the same cost.
 * Every command that opens a repository with a passphrase pays this once, so the native one
 * takes about 0.6 s off each (docs/bench.md "Passphrase KDF").
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { randomBytes } from "node:crypto";

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

/**
 * The most memory a new key file may ask for: 1 GiB. Readers accept up to 2 GiB, but
 * libsodium's WASM build, the fallback, fails from about 2047 MiB (and at 2 GiB) where the
 * native addon succeeds; a key file written with more could not be opened wherever the addon
 * does not load.
 */
export const MAX_NEW_MEMLIMIT = 1024 * 1024 * 1024;

/** Fresh parameters with a random salt; costs default to the values above. */
export function newKdfParams(cost: { opslimit?: number; memlimit?: number } = {}): KdfParams {
  const params = {
    salt: new Uint8Array(randomBytes(KDF_SALT_LENGTH)),
    opslimit: cost.opslimit ?? DEFAULT_OPSLIMIT,
    memlimit: cost.memlimit ?? DEFAULT_MEMLIMIT,
  };
  checkKdfParams(params);
  if (params.memlimit > MAX_NEW_MEMLIMIT) {
    throw new RangeError(
      `KDF "memlimit" ${params.memlimit} is over ${MAX_NEW_MEMLIMIT} (1 GiB), the most a new key ` +
        `file may use so that every implementation can open it`,
    );
  }
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
 * `params`. Deterministic: the native and the WASM implementation give the same key.
 */
export async function deriveKey(passphrase: string, params: KdfParams): Promise<Uint8Array> {
  checkKdfParams(params);
  const native = await nativeArgon2();
  if (native) {
    try {
      return await deriveKeyNative(native, passphrase, params);
    } catch {
      // Same key either way: a native failure (e.g. it cannot allocate) falls back to WASM.
    }
  }
  return await deriveKeyInWorker(passphrase, params);
}

/** The `@node-rs/argon2` module, or `undefined` where it cannot load here (then WASM is used). */
type NativeArgon2 = typeof import("@node-rs/argon2");
let native: Promise<NativeArgon2 | undefined> | undefined;

/** Loads the native addon once; `undefined` when it cannot load (missing binary or permission). */
export function nativeArgon2(): Promise<NativeArgon2 | undefined> {
  return native ??= import("@node-rs/argon2").then((m) => m, () => undefined);
}

/** The addon's `Algorithm.Argon2id` and `Version.V0x13` (const enums its types do not export). */
const ARGON2ID = 2, V0X13 = 1;

/** `deriveKey` with the native addon (on a thread of its own; its memory is freed after). */
export async function deriveKeyNative(
  argon2: NativeArgon2,
  passphrase: string,
  params: KdfParams,
): Promise<Uint8Array> {
  checkKdfParams(params);
  const key = await argon2.hashRaw(
    Buffer.from(new TextEncoder().encode(passphrase.normalize("NFC"))),
    {
      algorithm: ARGON2ID,
      version: V0X13,
      timeCost: params.opslimit,
      memoryCost: params.memlimit / 1024, // KiB; checkKdfParams keeps memlimit a multiple of 1024
      parallelism: 1,
      outputLen: 32,
      salt: Buffer.from(params.salt),
    },
  );
  return new Uint8Array(key);
}

/**
 * `deriveKey` with libsodium in a short-lived worker (`kdf_worker.ts`): libsodium's WASM heap
 * grows to `memlimit` and never shrinks, so deriving in the main thread kept 64 MiB (256 MiB at
 * the old default) resident for the rest of the run; a terminated worker gives it back.
 */
export async function deriveKeyInWorker(
  passphrase: string,
  params: KdfParams,
): Promise<Uint8Array> {
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
      // The worker says "ready" once its handler exists; a message sent before that could
      // arrive before it.
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
  // Imported here: the native path never needs libsodium, whose load (0.03-0.04 s) would
  // otherwise delay the start of every derivation (docs/bench.md "Start-up (issue #16)").
  const { sodiumReady } = await import("./sealed_box.ts");
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
