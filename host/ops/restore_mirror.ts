/**
 * The mirrored files of a restore (`sync` snapshots, docs/format.md §8 `mirror`): each is read
 * from its object (its version, where it has one) in ranges, hashed as it is written under the
 * file's temporary name, and kept only when the object has the node's size and its bytes the
 * node's SHA-256. Anything else stops the restore with an `IntegrityError` naming the file and
 * the object: a restore never exits 0 over wrong bytes. A sealed object (docs/format.md §8.1)
 * is opened with the repository's private key frame by frame, each frame checked at its place.
 *
 * @module
 */

import fs from "node:fs";
import { createHash } from "node:crypto";
import { IntegrityError } from "../crypto/errors.ts";
import { ObjectNotFound } from "../../plugins/sdk/errors.ts";
import type { MirrorRef, TreeNode } from "../repository/tree.ts";
import type { ByteRange, ObjectStat, Storage } from "../storage/storage.ts";
import { type RepoKeys, requirePrivateKey } from "../repository/keys.ts";
import { openSealedObject, sealedSize } from "./mirror_seal.ts";

/** Bytes read from a mirrored object per request. */
const READ_BYTES = 8 << 20;

/** What is needed of one file to restore it from its mirror object. */
export interface MirroredFile {
  /** Where its bytes go (the temporary name) and what the user is told (the snapshot path). */
  writePath: string;
  shownAs: string;
  node: TreeNode & { mirror: MirrorRef };
}

/** The object of `ref`, as `stat` (or `statVersion`) gives it; `null` when missing. */
export function statMirror(storage: Storage, ref: MirrorRef): Promise<ObjectStat | null> {
  return ref.version === undefined
    ? storage.stat(ref.key)
    : storage.statVersion(ref.key, ref.version);
}

/** Reads `range` of the object (version) `ref`. */
function readMirror(
  storage: Storage,
  ref: MirrorRef,
  range: ByteRange,
): Promise<Uint8Array> {
  return ref.version === undefined
    ? storage.read(ref.key, range)
    : storage.readVersion(ref.key, ref.version, range);
}

/**
 * The object of `ref` as messages name it, and its stat; an `ObjectNotFound` naming `file` when
 * it is missing.
 */
async function mirrorObject(
  storage: Storage,
  file: MirroredFile,
  ref: MirrorRef,
): Promise<{ object: string; stat: ObjectStat }> {
  const object = `object "${ref.key}"${ref.version ? ` version "${ref.version}"` : ""}`;
  const stat = await statMirror(storage, ref);
  if (stat === null) {
    throw new ObjectNotFound(
      `file "${file.shownAs}" cannot be restored: its mirror ${object} is missing; run ` +
        "`permafrost check` to list what else is",
    );
  }
  return { object, stat };
}

/** Writes all of `bytes` to `fd` at `position`. */
function writeAt(fd: number, bytes: Uint8Array, position: number): void {
  for (let at = 0; at < bytes.length;) {
    at += fs.writeSync(fd, bytes, at, bytes.length - at, position + at);
  }
}

/**
 * Writes the bytes of `file` from its object to an open `fd`, verifying them (module doc). A
 * node without a version (written create-only) on a store whose versioning was enabled since
 * names the key's `null` version: when the current version is not the node's bytes, that one is
 * read instead, and verified the same way. The caller stamps and renames the file.
 */
export async function writeMirrored(
  storage: Storage,
  file: MirroredFile,
  fd: number,
  keys: RepoKeys,
): Promise<number> {
  const ref = file.node.mirror;
  if (ref.sealed) return await writeSealed(storage, file, ref, fd, keys);
  try {
    return await writeVersion(storage, file, ref, fd);
  } catch (err) {
    if (
      ref.version !== undefined || !(err instanceof IntegrityError || err instanceof ObjectNotFound)
    ) {
      throw err;
    }
    if ((await storage.versioning()) === "off") throw err;
    const older = { ...ref, version: "null" };
    if ((await statMirror(storage, older))?.size !== (file.node.size ?? 0)) throw err;
    fs.ftruncateSync(fd, 0);
    return await writeVersion(storage, file, older, fd);
  }
}

/** `writeMirrored` of the sealed object `ref` (module doc). */
async function writeSealed(
  storage: Storage,
  file: MirroredFile,
  ref: MirrorRef,
  fd: number,
  keys: RepoKeys,
): Promise<number> {
  const privateKey = requirePrivateKey(keys, `the sealed mirror object of "${file.shownAs}"`);
  const { size = 0 } = file.node;
  const { object, stat } = await mirrorObject(storage, file, ref);
  const what = `file "${file.shownAs}" cannot be restored: its sealed mirror ${object}`;
  if (stat.size !== sealedSize(size)) {
    throw new IntegrityError(
      `${what} holds ${stat.size} bytes, the snapshot says ${sealedSize(size)} (sealed from ` +
        `${size}): it was changed or truncated outside Permafrost`,
    );
  }
  const hash = createHash("sha256");
  let written = 0;
  await openSealedObject(
    (offset, length) => readMirror(storage, ref, { offset, length }),
    stat.size,
    { publicKey: keys.publicKey, privateKey },
    what,
    (plaintext) => {
      if (written + plaintext.length > size) throw new IntegrityError(`${what} is too long`);
      hash.update(plaintext);
      writeAt(fd, plaintext, written);
      written += plaintext.length;
    },
  );
  const sha256 = hash.digest("hex");
  if (written !== size || sha256 !== ref.sha256) {
    throw new IntegrityError(
      `${what} opens to ${written} bytes with SHA-256 ${sha256}, the snapshot says ${size} ` +
        `bytes with ${ref.sha256}; nothing was written in its place`,
    );
  }
  return size;
}

/** `writeMirrored` of the object (version) `ref`. */
async function writeVersion(
  storage: Storage,
  file: MirroredFile,
  ref: MirrorRef,
  fd: number,
): Promise<number> {
  const { size = 0 } = file.node;
  const { object, stat } = await mirrorObject(storage, file, ref);
  if (stat.size !== size) {
    throw new IntegrityError(
      `file "${file.shownAs}" cannot be restored: its mirror ${object} holds ${stat.size} ` +
        `bytes, the snapshot says ${size} (the object was changed outside Permafrost)`,
    );
  }
  const hash = createHash("sha256");
  for (let offset = 0; offset < size; offset += READ_BYTES) {
    const range = { offset, length: Math.min(READ_BYTES, size - offset) };
    const bytes = await readMirror(storage, ref, range);
    if (bytes.length !== range.length) {
      throw new IntegrityError(`file "${file.shownAs}": its mirror ${object} ended early`);
    }
    hash.update(bytes);
    writeAt(fd, bytes, offset);
  }
  const sha256 = hash.digest("hex");
  if (sha256 !== ref.sha256) {
    throw new IntegrityError(
      `file "${file.shownAs}" cannot be restored: its mirror ${object} has SHA-256 ` +
        `${sha256}, the snapshot says ${ref.sha256} (the object was changed outside ` +
        "Permafrost); nothing was written in its place",
    );
  }
  return size;
}
