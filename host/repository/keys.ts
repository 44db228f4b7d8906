/**
 * Repository key material and the two roles that hold it (docs/security.md "Keys").
 *
 * A role is defined by what it lacks: an ingest key has no X25519 private key, so it can seal
 * pack data keys to the repository but never open a pack, tree or snapshot content.
 *
 * @module
 */

import { randomBytes } from "node:crypto";
import { KeyCannotRead } from "../../plugins/sdk/errors.ts";
import { bytesEqual } from "../crypto/bytes.ts";
import { generateKeyPair, publicKeyOf } from "../crypto/sealed_box.ts";
import { FormatError } from "./errors.ts";

/**
 * The keys of one repository. Every field is 32 bytes.
 * - `publicKey`: X25519; pack data keys are sealed to it.
 * - `privateKey`: X25519; present only for role `"master"` (opens pack data keys). An ingest key
 *   object has no `privateKey` property at all.
 * - `macKey`: HMAC-SHA-256 key for blob ids.
 * - `indexKey`: AES-256-GCM key for index segments and snapshot manifests (ingest holds it, so
 *   it can dedup against the index and list snapshots).
 * - `chunkerKey`: seeds the FastCDC gear table.
 */
export interface RepoKeys {
  role: "master" | "ingest";
  publicKey: Uint8Array;
  privateKey?: Uint8Array;
  macKey: Uint8Array;
  indexKey: Uint8Array;
  chunkerKey: Uint8Array;
}

/** The 32-byte fields of `RepoKeys`, in their canonical order in key files. */
export const KEY_FIELDS = ["publicKey", "privateKey", "macKey", "indexKey", "chunkerKey"] as const;

/** Fresh random master keys for a new repository. */
export function generateMasterKeys(): Promise<RepoKeys> {
  const { publicKey, privateKey } = generateKeyPair();
  return Promise.resolve({
    role: "master",
    publicKey,
    privateKey,
    macKey: random32(),
    indexKey: random32(),
    chunkerKey: random32(),
  });
}

/** The put-only subset of `k`: the same keys without `privateKey`, role `"ingest"`. */
export function toIngestKeys(k: RepoKeys): RepoKeys {
  return {
    role: "ingest",
    publicKey: k.publicKey,
    macKey: k.macKey,
    indexKey: k.indexKey,
    chunkerKey: k.chunkerKey,
  };
}

/**
 * The private key of `k`, or `KeyCannotRead` naming `what` when `k` is an ingest key.
 * Every reading path calls this before it touches sealed content.
 */
export function requirePrivateKey(k: RepoKeys, what: string): Uint8Array {
  if (k.privateKey === undefined) {
    throw new KeyCannotRead(
      `this key cannot read ${what}: it is an ingest (put-only) key; ` +
        "use the repository passphrase or a full key file",
    );
  }
  return k.privateKey;
}

/**
 * Checks that `k` is well formed: 32-byte fields, `privateKey` present exactly for `"master"`,
 * and `publicKey` belonging to `privateKey`. `FormatError` naming `what` otherwise.
 */
export function checkKeys(k: RepoKeys, what: string): void {
  if (k.role !== "master" && k.role !== "ingest") {
    throw new FormatError(`${what} has unknown role "${k.role}"`);
  }
  for (const f of KEY_FIELDS) {
    const v = k[f];
    if (v === undefined && f === "privateKey") continue;
    if (!(v instanceof Uint8Array) || v.length !== 32) {
      throw new FormatError(`${what} field "${f}" must be 32 bytes`);
    }
  }
  if (k.role === "ingest" && "privateKey" in k) {
    throw new FormatError(`${what} is an ingest key but carries "privateKey"`);
  }
  if (k.role === "master") {
    if (k.privateKey === undefined) {
      throw new FormatError(`${what} is a master key but has no "privateKey"`);
    }
    if (!bytesEqual(publicKeyOf(k.privateKey), k.publicKey)) {
      throw new FormatError(`${what} field "publicKey" does not belong to its "privateKey"`);
    }
  }
}

function random32(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}
