/**
 * The plaintext header of a key object (docs/format.md §4.1): version, kind, repository and the
 * KDF's salt and costs, readable without the passphrase. Kept apart from `keyfile.ts`, which
 * unwraps, so that the key derivation can start from a local copy of a key object before
 * libsodium has loaded (docs/bench.md "Start-up (issue #16)").
 *
 * @module
 */

import { AEAD_OVERHEAD } from "../crypto/aead.ts";
import { sha256Hex } from "../crypto/hash.ts";
import { checkKdfParams, type KdfParams } from "../crypto/kdf.ts";
import { FormatError } from "./errors.ts";
import { Fields, parseJson } from "./_fields.ts";

/** The plaintext header of a key object: readable without the passphrase. */
export interface KeyFileInfo {
  version: 1 | 2;
  kind: "master" | "ingest";
  /**
   * The id of the repository (its config) the key object belongs to: version 2 only, where the
   * seal authenticates it. A version 1 object names no repository.
   */
  repository?: string;
  created: string;
  kdf: KdfParams;
}

/** Reads the plaintext header of a key object (no passphrase needed). `FormatError` if malformed. */
export function readKeyFileInfo(bytes: Uint8Array, name = sha256Hex(bytes)): KeyFileInfo {
  return parseKeyFile(bytes, name).info;
}

/** Parses a key object of version 1 or 2 (docs/format.md §4.1); `FormatError` if malformed. */
export function parseKeyFile(
  bytes: Uint8Array,
  name: string,
): { info: KeyFileInfo; data: Uint8Array } {
  const what = `key "${name}"`;
  const f = new Fields(parseJson(bytes, what), what);
  const version = f.literal("version", [1, 2] as const);
  const kind = f.literal("kind", ["master", "ingest"] as const);
  const repository = version === 2 ? f.hex64("repository") : undefined;
  const created = f.isoTime("created");
  const k = f.object("kdf");
  k.literal("name", ["argon2id13"]);
  const kdf: KdfParams = {
    salt: k.base64("salt", 16),
    opslimit: k.int("opslimit", 1),
    memlimit: k.int("memlimit", 1),
  };
  k.done();
  try {
    checkKdfParams(kdf);
  } catch (e) {
    throw new FormatError(`${what} has unacceptable KDF parameters: ${(e as Error).message}`);
  }
  const data = f.base64Any("data");
  if (data.length < AEAD_OVERHEAD) throw f.error("data", "is too short to be sealed key material");
  f.done();
  const info: KeyFileInfo = { version, kind, created, kdf };
  if (repository !== undefined) info.repository = repository;
  return { info, data };
}
