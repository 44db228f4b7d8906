/**
 * Blob ids (docs/format.md §3 "Blob ids"): a keyed MAC of the plaintext, so ids reveal nothing
 * about content to anyone without the MAC key, and equal content dedups across clients that
 * share the repository.
 *
 * @module
 */

import { createHmac } from "node:crypto";

/** Length in bytes of a MAC key. */
export const MAC_KEY_LENGTH = 32;

/** The blob id of `data`: lowercase hex of HMAC-SHA-256(macKey, data) (64 characters). */
export function blobId(macKey: Uint8Array, data: Uint8Array): string {
  if (macKey.length !== MAC_KEY_LENGTH) {
    throw new RangeError(`MAC key is ${macKey.length} bytes, expected ${MAC_KEY_LENGTH}`);
  }
  return createHmac("sha256", macKey).update(data).digest("hex");
}
