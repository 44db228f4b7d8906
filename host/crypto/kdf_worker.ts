/**
 * The body of the KDF worker (see `deriveKey` in kdf.ts): one Argon2id derivation, then the host
 * terminates it, returning libsodium's grown WASM heap to the system. No permissions.
 *
 * @module
 */

import { deriveKeyHere, type KdfParams } from "./kdf.ts";

self.onmessage = async (e: MessageEvent<{ passphrase: string; params: KdfParams }>) => {
  try {
    const key = await deriveKeyHere(e.data.passphrase, e.data.params);
    self.postMessage({ key });
  } catch (err) {
    self.postMessage({ error: err instanceof Error ? err.message : String(err) });
  }
};

self.postMessage({ ready: true });
