/**
 * Key files (docs/format.md §4): the passphrase-wrapped key object `keys/<id>` stored in the
 * repository, and the unwrapped export used with `--key-file`.
 *
 * @module
 */

import { AEAD_OVERHEAD, aeadOpen, aeadSeal } from "../crypto/aead.ts";
import { utf8 } from "../crypto/bytes.ts";
import { IntegrityError } from "../crypto/errors.ts";
import { sha256Hex } from "../crypto/hash.ts";
import {
  checkKdfParams,
  deriveKey,
  type KdfParams as DerivationParams,
  newKdfParams,
} from "../crypto/kdf.ts";
import { FormatError, WrongPassphrase } from "./errors.ts";
import { Fields, isHex64, parseJson } from "./_fields.ts";
import { checkKeys, KEY_FIELDS, type RepoKeys } from "./keys.ts";

/** Additional authenticated data of the sealed key material. */
export const KEY_FILE_AAD = utf8("permafrost key v1");

/** Argon2id choices for `wrapKeyFile`; omitted fields get a random salt and the default costs. */
export interface KdfOptions {
  opslimit?: number;
  memlimit?: number;
  salt?: Uint8Array;
}

/** Alias of `KdfOptions` (the name callers first used). */
export type KdfParams = KdfOptions;

/** Fixed inputs for reproducible tests and spec examples only; production code omits them. */
export interface FixedInputs {
  created?: string;
  nonce?: Uint8Array;
}

/** The plaintext header of a key object: readable without the passphrase. */
export interface KeyFileInfo {
  kind: "master" | "ingest";
  created: string;
  kdf: DerivationParams;
}

/**
 * Wraps `keys` under `passphrase`: JSON
 * `{"version":1,"kind","created","kdf":{"name":"argon2id13","salt","opslimit","memlimit"},"data"}`
 * where `data` is base64 of aeadSeal(argon2id(passphrase), key material JSON, "permafrost key v1").
 * The object's name is `keys/<sha256 hex of the returned bytes>`.
 */
export async function wrapKeyFile(
  keys: RepoKeys,
  passphrase: string,
  kdf: KdfOptions = {},
  fixed: FixedInputs = {},
): Promise<Uint8Array> {
  checkKeys(keys, "key material");
  const params = newKdfParams(kdf);
  if (kdf.salt !== undefined) params.salt = kdf.salt;
  checkKdfParams(params);
  const wrappingKey = await deriveKey(passphrase, params);
  const sealed = aeadSeal(wrappingKey, utf8(keyMaterialJson(keys)), KEY_FILE_AAD, fixed.nonce);
  wrappingKey.fill(0);
  return utf8(JSON.stringify({
    version: 1,
    kind: keys.role,
    created: fixed.created ?? new Date().toISOString(),
    kdf: {
      name: "argon2id13",
      salt: params.salt.toBase64(),
      opslimit: params.opslimit,
      memlimit: params.memlimit,
    },
    data: sealed.toBase64(),
  }));
}

/** Reads the plaintext header of a key object (no passphrase needed). `FormatError` if malformed. */
export function readKeyFileInfo(bytes: Uint8Array, name = keyName(bytes)): KeyFileInfo {
  return parseKeyFile(bytes, name).info;
}

/**
 * Opens a key object with `passphrase`. Throws `WrongPassphrase`
 * (`the passphrase does not open key "<name>"`, name defaulting to the object id) when the
 * passphrase does not authenticate, and `FormatError` for malformed JSON or an unknown version.
 */
export async function unwrapKeyFile(
  bytes: Uint8Array,
  passphrase: string,
  name = keyName(bytes),
): Promise<RepoKeys> {
  const { info, data } = parseKeyFile(bytes, name);
  const wrappingKey = await deriveKey(passphrase, info.kdf);
  let plain: Uint8Array;
  try {
    plain = aeadOpen(wrappingKey, data, KEY_FILE_AAD);
  } catch (e) {
    if (e instanceof IntegrityError) {
      throw new WrongPassphrase(`the passphrase does not open key "${name}"`);
    }
    throw e;
  } finally {
    wrappingKey.fill(0);
  }
  const what = `key "${name}"`;
  const keys = readKeyMaterial(new Fields(parseJson(plain, what), what), info.kind);
  checkKeys(keys, what);
  return keys;
}

/**
 * An unwrapped key export for `--key-file`:
 * `{"version":1,"kind":"ingest"|"master","repository":repoId,"keys":{...base64}}`.
 * An ingest export has no `privateKey` field at all. Treat a master export like the passphrase.
 */
export function encodeKeyExport(keys: RepoKeys, repoId: string): Uint8Array {
  checkKeys(keys, "key material");
  if (!isHex64(repoId)) throw new TypeError(`repository id "${repoId}" is not 64 hex digits`);
  return utf8(
    `{"version":1,"kind":${JSON.stringify(keys.role)},"repository":${JSON.stringify(repoId)},` +
      `"keys":${keyMaterialJson(keys)}}`,
  );
}

/** Decodes a key export. `FormatError` when malformed, or when an ingest export has `privateKey`. */
export function decodeKeyExport(bytes: Uint8Array): { repoId: string; keys: RepoKeys } {
  const what = "key file";
  const f = new Fields(parseJson(bytes, what), what);
  f.literal("version", [1]);
  const kind = f.literal("kind", ["master", "ingest"] as const);
  const repoId = f.hex64("repository");
  const keys = readKeyMaterial(f.object("keys"), kind);
  f.done();
  checkKeys(keys, what);
  return { repoId, keys };
}

function keyName(bytes: Uint8Array): string {
  return sha256Hex(bytes);
}

function parseKeyFile(bytes: Uint8Array, name: string): { info: KeyFileInfo; data: Uint8Array } {
  const what = `key "${name}"`;
  const f = new Fields(parseJson(bytes, what), what);
  f.literal("version", [1]);
  const kind = f.literal("kind", ["master", "ingest"] as const);
  const created = f.isoTime("created");
  const k = f.object("kdf");
  k.literal("name", ["argon2id13"]);
  const kdf: DerivationParams = {
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
  return { info: { kind, created, kdf }, data };
}

function keyMaterialJson(keys: RepoKeys): string {
  const fields = KEY_FIELDS.filter((f) => keys[f] !== undefined)
    .map((f) => `${JSON.stringify(f)}:${JSON.stringify(keys[f]!.toBase64())}`);
  return `{${fields.join(",")}}`;
}

function readKeyMaterial(f: Fields, kind: "master" | "ingest"): RepoKeys {
  if (kind === "ingest" && f.has("privateKey")) {
    throw f.error("privateKey", "must not appear in an ingest key");
  }
  const keys: RepoKeys = {
    role: kind,
    publicKey: f.base64("publicKey", 32),
    macKey: f.base64("macKey", 32),
    indexKey: f.base64("indexKey", 32),
    chunkerKey: f.base64("chunkerKey", 32),
  };
  if (kind === "master") keys.privateKey = f.base64("privateKey", 32);
  f.done();
  return keys;
}
