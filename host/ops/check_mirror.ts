/**
 * `check` of the mirrored files of `sync` snapshots (docs/format.md §8 `mirror`): every object
 * (or object version) a snapshot names exists with the node's size; with `--read-data`, its
 * bytes have the node's SHA-256 (an archived object is named as not read). A sealed object
 * (docs/format.md §8.1) has the size sealing the node's gives, and with `--read-data` opens,
 * every frame at its place, to the node's bytes. Each object is checked once, however many
 * snapshots name it.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { MirrorRef } from "../repository/tree.ts";
import type { Storage, Versioning } from "../storage/storage.ts";
import { archiveClasses } from "../storage/storage.ts";
import { statMirror } from "./restore_mirror.ts";
import type { RepoKeys } from "../repository/keys.ts";
import { IntegrityError } from "../crypto/errors.ts";
import { openSealedObject, sealedSize } from "./mirror_seal.ts";

/** One mirrored file of a snapshot. */
export interface MirrorUse {
  ref: MirrorRef;
  size: number;
  snapshot: string;
  path: string;
}

/** Bytes read per request when `--read-data` hashes an object. */
const READ_BYTES = 8 << 20;

/**
 * The problems of the mirrored files `uses` (module doc), with the snapshot and path of the
 * first use of each object. A node without a version (written create-only) on a store whose
 * versioning was enabled since names the key's `null` version when the current one is not its
 * object: it is checked too before a problem is reported.
 */
export async function checkMirrors(
  storage: Storage,
  uses: MirrorUse[],
  readData: boolean,
  keys?: RepoKeys,
): Promise<{ snapshot: string; message: string }[]> {
  const problems: { snapshot: string; message: string }[] = [];
  const seen = new Set<string>();
  const listing: Listing = { storage, keys };
  for (const use of uses) {
    const { ref } = use;
    const id = `${ref.key}\0${ref.version ?? ""}`;
    if (seen.has(id)) continue;
    seen.add(id);
    let message = await checkOne(listing, use, ref, readData);
    if (message !== undefined && ref.version === undefined) {
      listing.versioning ??= await storage.versioning();
      if (
        listing.versioning !== "off" &&
        await checkOne(listing, use, { ...ref, version: "null" }, readData) === undefined
      ) {
        message = undefined;
      }
    }
    if (message !== undefined) problems.push({ snapshot: use.snapshot, message });
  }
  return problems;
}

/** The store, and what `checkMirrors` learnt of it once. */
interface Listing {
  storage: Storage;
  /** To open sealed objects with `--read-data`. */
  keys?: RepoKeys;
  /** Every object under `mirror/` with its size: one listing rather than a request per file. */
  sizes?: Map<string, number>;
  versioning?: Versioning;
}

/** The problem of the object (version) `ref` of `use`, if any. */
async function checkOne(
  listing: Listing,
  use: MirrorUse,
  ref: MirrorRef,
  readData: boolean,
): Promise<string | undefined> {
  const { storage } = listing;
  const object = `mirror object "${ref.key}"${ref.version ? ` version "${ref.version}"` : ""}`;
  const of = `(file "${use.path}")`;
  let size: number | undefined;
  if (ref.version === undefined) {
    listing.sizes ??= new Map((await storage.list("mirror/")).map((o) => [o.name, o.size]));
    size = listing.sizes.get(ref.key);
  } else {
    size = (await statMirror(storage, ref))?.size;
  }
  if (size === undefined) return `${object} ${of} is missing`;
  const expected = ref.sealed ? sealedSize(use.size) : use.size;
  if (size !== expected) return `${object} ${of} has ${size} bytes, the snapshot says ${expected}`;
  if (!readData) return undefined;
  if (archiveClasses.has(ref.class)) {
    const state = (await statMirror(storage, ref))?.availability.state;
    if (state === "archived" || state === "restoring") {
      return `${object} ${of} is archived in ${ref.class}: its bytes were not read`;
    }
  }
  const hash = createHash("sha256");
  if (ref.sealed) {
    const privateKey = listing.keys?.privateKey;
    if (privateKey === undefined) return `${object} ${of} is sealed: its bytes were not read`;
    let got = 0;
    try {
      await openSealedObject(
        (offset, length) =>
          ref.version === undefined
            ? storage.read(ref.key, { offset, length })
            : storage.readVersion(ref.key, ref.version, { offset, length }),
        size,
        { publicKey: listing.keys!.publicKey, privateKey },
        `${object} ${of}`,
        (plaintext) => {
          got += plaintext.length;
          hash.update(plaintext);
        },
      );
    } catch (err) {
      if (err instanceof IntegrityError) return err.message;
      throw err;
    }
    const sha256 = hash.digest("hex");
    if (got !== use.size || sha256 !== ref.sha256) {
      return `${object} ${of} opens to ${got} bytes with SHA-256 ${sha256}, the snapshot says ` +
        `${use.size} bytes with ${ref.sha256}`;
    }
    return undefined;
  }
  for (let offset = 0; offset < size; offset += READ_BYTES) {
    const range = { offset, length: Math.min(READ_BYTES, size - offset) };
    hash.update(
      ref.version === undefined
        ? await storage.read(ref.key, range)
        : await storage.readVersion(ref.key, ref.version, range),
    );
  }
  const sha256 = hash.digest("hex");
  if (sha256 !== ref.sha256) {
    return `${object} ${of} has SHA-256 ${sha256}, the snapshot says ${ref.sha256}`;
  }
  return undefined;
}
