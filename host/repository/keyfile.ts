/**
 * Key files (docs/format.md §4): the passphrase-wrapped key object `keys/<id>` stored in the
 * repository, and the unwrapped export used with `--key-file`. A version 2 key object belongs to
 * one repository (its config id, authenticated by the seal); version 1 objects, written before,
 * belong to none and are still read.
 *
 * @module
 */

import { aeadOpen, aeadSeal } from "../crypto/aead.ts";
import { concatBytes, utf8 } from "../crypto/bytes.ts";
import { IntegrityError } from "../crypto/errors.ts";
import { sha256Hex } from "../crypto/hash.ts";
import { checkKdfParams, deriveKey, newKdfParams } from "../crypto/kdf.ts";
import { ForeignKey, WrongPassphrase } from "./errors.ts";
import { Fields, isHex64, parseJson } from "./_fields.ts";
import { parseKeyFile } from "./key_header.ts";
import { checkKeys, KEY_FIELDS, type RepoKeys } from "./keys.ts";

/** Additional authenticated data of version 1 sealed key material (docs/format.md §3.2). */
export const KEY_FILE_AAD = utf8("permafrost key v1");
export { type KeyFileInfo, readKeyFileInfo } from "./key_header.ts";

/** Version 2's additional data: these 17 bytes, then the 32 raw bytes of the repository id. */
const KEY_FILE_AAD_V2 = utf8("permafrost key v2");

/** The key object version writers write (docs/format.md §4.1, §12). */
export const KEY_FILE_VERSION = 2;

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

/**
 * Wraps `keys` under `passphrase` for the repository whose config id is `repository`, as a
 * version 2 key object (docs/format.md §4.1):
 * `{"version":2,"kind","repository","created","kdf":{"name":"argon2id13","salt","opslimit",
 * "memlimit"},"data"}`, where `data` is base64 of aeadSeal(argon2id(passphrase), key material
 * JSON, "permafrost key v2" || the 32 bytes of `repository`). The object's name is
 * `keys/<sha256 hex of the returned bytes>`.
 */
export async function wrapKeyFile(
  keys: RepoKeys,
  passphrase: string,
  repository: string,
  kdf: KdfOptions = {},
  fixed: FixedInputs = {},
): Promise<Uint8Array> {
  if (!isHex64(repository)) {
    throw new TypeError(`repository id "${repository}" is not 64 hex digits`);
  }
  return await wrap(keys, passphrase, { version: 2, repository }, kdf, fixed);
}

/**
 * A version 1 key object, bound to no repository. Writers MUST write version 2 (§4.1): this is
 * for the spec's version 1 example and for tests that a version 1 repository still opens.
 */
export async function wrapKeyFileV1(
  keys: RepoKeys,
  passphrase: string,
  kdf: KdfOptions = {},
  fixed: FixedInputs = {},
): Promise<Uint8Array> {
  return await wrap(keys, passphrase, { version: 1 }, kdf, fixed);
}

async function wrap(
  keys: RepoKeys,
  passphrase: string,
  binding: { version: 1 } | { version: 2; repository: string },
  kdf: KdfOptions,
  fixed: FixedInputs,
): Promise<Uint8Array> {
  checkKeys(keys, "key material");
  const params = newKdfParams(kdf);
  if (kdf.salt !== undefined) params.salt = kdf.salt;
  checkKdfParams(params);
  const wrappingKey = await deriveKey(passphrase, params);
  const aad = sealAad(binding);
  const sealed = aeadSeal(wrappingKey, utf8(keyMaterialJson(keys)), aad, fixed.nonce);
  wrappingKey.fill(0);
  return utf8(JSON.stringify({
    version: binding.version,
    kind: keys.role,
    ...(binding.version === 2 ? { repository: binding.repository } : {}),
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

/** The additional data that binds sealed key material to its version and repository (§3.2). */
function sealAad(info: { version: 1 | 2; repository?: string }): Uint8Array {
  if (info.version === 1) return KEY_FILE_AAD;
  return concatBytes([KEY_FILE_AAD_V2, Uint8Array.fromHex(info.repository!)]);
}

/** How `unwrapKeyFile` names the object and which repository it must belong to. */
export interface UnwrapOptions {
  /** The name in messages: the object name (`keys/<id>`); default the object's id. */
  name?: string;
  /**
   * The config id of the repository being opened: a version 2 object bound to another one is
   * refused with `ForeignKey` before any key derivation. Version 1 objects name none.
   */
  repository?: string;
  /**
   * Argon2id of the passphrase under this object's KDF parameters, when its derivation is under
   * way already (started from the local copy of this very object, `host/cache/key_copy.ts`).
   * When it rejects, the key is derived here instead. Zeroed after use.
   */
  derivedKey?: Promise<Uint8Array>;
}

/**
 * Opens a key object with `passphrase`. Throws `WrongPassphrase`
 * (`the passphrase does not open key "<name>"`) when the seal does not authenticate (a wrong
 * passphrase, or sealed bytes or an authenticated header field changed: the two cannot be told
 * apart), `ForeignKey` for a version 2 object of another repository than `options.repository`,
 * and `FormatError` for malformed JSON or an unknown version.
 */
export async function unwrapKeyFile(
  bytes: Uint8Array,
  passphrase: string,
  options: UnwrapOptions = {},
): Promise<RepoKeys> {
  const name = options.name ?? keyName(bytes);
  const { info, data } = parseKeyFile(bytes, name);
  if (
    options.repository !== undefined && info.repository !== undefined &&
    info.repository !== options.repository
  ) {
    throw new ForeignKey(
      `key object "${name}" belongs to repository "${short(info.repository)}", not to this ` +
        `one ("${short(options.repository)}")`,
    );
  }
  const derive = () => deriveKey(passphrase, info.kdf);
  const wrappingKey = await (options.derivedKey?.catch(derive) ?? derive());
  let plain: Uint8Array;
  try {
    plain = aeadOpen(wrappingKey, data, sealAad(info));
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

/** The first 8 hex digits of a repository id, as messages show it. */
function short(id: string): string {
  return id.slice(0, 8);
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
