/**
 * The host's side of the `mirror` capability (docs/plugins.md §5.2): a `sync` backup's files,
 * each one plain object under `mirror/<source>/` (docs/format.md §2), written create-only.
 *
 * - **Versioned** (a store whose versioning is `enabled`, checked before any upload): a file is
 *   written to its path key as a new version (`putVersion`); the bucket keeps the old ones.
 * - **Create-only** (every other store): the path key is written once (`create`). When it holds
 *   other bytes already (a file that changed), the new content goes to
 *   `mirror/<source>/.versions/<sha256>`, content-addressed; a key that holds the same bytes
 *   (a rerun after a crash) is reused. Nothing is ever replaced or deleted.
 * - **Reserved names**: a file whose first path part under the source is `.versions` or
 *   `.permafrost` (the mirror's own names) goes to its content-addressed key in either mode,
 *   never to its path key.
 *
 * The engine names a file; the host opens it (under the sources only), reads it, hashes it,
 * uploads it, and checks it did not change while read (size and mtime, as the walk listed
 * them): a changed or unreadable file is skipped with the reason, which the engine reports.
 * A file of up to {@link MIRROR_WHOLE_BYTES} is read whole, then uploaded. A larger one, on a
 * store that takes objects in pieces (`StoreProperties.pieces`: S3), is read twice in pieces of
 * {@link MIRROR_PIECE_BYTES}: once to hash it, once to upload it (`startUpload`, as one
 * `PutObject` or a multipart upload by the store's upload rule) hashing again; when the second
 * read differs from the first, or the file's size or mtime changed, the upload is aborted before
 * it completes, so no object or version of a changed file is stored. Memory holds a piece and
 * the store's parts in flight. A store that takes objects only whole (a folder, SQLite) mirrors
 * files of up to {@link MIRROR_MAX_BYTES} and skips larger ones with a warning naming the limit.
 *
 * A listing of each source's mirror prefix at the start tells which objects (and versions) are
 * there: a file cache hit is trusted only when its object still is (a `sync prune` may have
 * deleted it since), and a tree may name only objects this run wrote or found.
 *
 * - **Sealed** (`encrypt = true`, docs/format.md §8.1): every file goes, in either mode, to
 *   `mirror/<source>/.sealed/<blob id>` (the keyed id of its bytes, §3.1: neither its name nor a
 *   plain hash shows), create-only, encrypted to the repository's public key
 *   (`mirror_seal.ts`); an object there already holds the same bytes and is reused. Uploaded
 *   the same ways: whole, or in pieces, sealed once while hashing (the store is told the sealed
 *   bytes' SHA-256 up front) and again while uploading, with the same data key and nonces.
 *
 * @module
 */

import { createHash, createHmac } from "node:crypto";
import fs from "node:fs";
import { sha256Hex } from "../crypto/hash.ts";
import { IntegrityError } from "../crypto/errors.ts";
import { layout, MIRROR_MANIFESTS, MIRROR_VERSIONS } from "../repository/layout.ts";
import type { MirrorRef } from "../repository/tree.ts";
import {
  type Storage,
  type StorageClass,
  storageClasses,
  type Versioning,
} from "../storage/storage.ts";
import { ObjectExists } from "../../plugins/sdk/errors.ts";
import { lstat } from "../../plugins/sdk/stat.ts";
import type { MirrorPut } from "../../plugins/sdk/engine_types.ts";
import type { ReplacedObject } from "../cost/sync_cost.ts";
import { latestManifest } from "./mirror_manifest.ts";
import { FramePlaintextChanged, MIRROR_SEALED, sealedSize, SealedWriter } from "./mirror_seal.ts";

/** The largest file mirrored to a store that takes objects only whole (read into memory). */
export const MIRROR_MAX_BYTES = 1 << 30;

/** Files up to this size are read whole; larger ones go in pieces where the store takes them. */
export const MIRROR_WHOLE_BYTES = 16 * 2 ** 20;

/** How much of a large file is read, and sent to the store, at a time. */
export const MIRROR_PIECE_BYTES = 4 * 2 ** 20;

const CHANGED = "changed while it was being read; not backed up (the next backup tries again)";

/** A mirrored object the snapshot names was deleted while the backup ran; nothing committed. */
export class MirrorObjectsGone extends Error {
  override name = "MirrorObjectsGone";
}

/** What a run mirrored: its snapshot's files, and which of them it uploaded. */
export interface MirrorStats {
  /** Mirrored files the snapshot names. */
  files: number;
  /** Of them, files whose object (version) this run wrote, and their bytes. */
  uploaded: number;
  uploadedBytes: number;
  /** Files whose object was in the store already (unchanged, or the same bytes). */
  reused: number;
  /** A dry run's: the objects (versions) its snapshot replaces (`replaced`). */
  replaced?: ReplacedObject[];
}

/** A source of the backup and the name its mirror prefix has. */
export interface MirrorSource {
  /** Absolute. */
  path: string;
  /** Its base name: `mirror/<name>/`. */
  name: string;
}

/** One file of a snapshot's mirror, for the readable manifest. */
export interface MirrorEntry {
  /** Relative to the source, `/`-separated. */
  path: string;
  size: number;
  ref: MirrorRef;
}

/** The sources' names: their base names ("root" for `/`), which must differ. */
export function mirrorSources(paths: string[]): MirrorSource[] {
  const sources = paths.map((path) => ({
    path,
    name: path === "/" ? "root" : path.replace(/\/+$/, "").split("/").pop()!,
  }));
  const seen = new Set<string>();
  for (const s of sources) {
    layout.mirrorManifests(s.name); // refuses a name that cannot be a prefix
    if (seen.has(s.name)) {
      throw new TypeError(
        `two sources are named "${s.name}": a sync backup mirrors each source to ` +
          `mirror/<name>/, so back them up separately`,
      );
    }
    seen.add(s.name);
  }
  return sources;
}

/** Writes a run's mirrored files; see the module doc. */
export class MirrorSink {
  #storage: Storage;
  readonly sources: MirrorSource[];
  /** Set by `open`. */
  #versioned: boolean | undefined;
  /** Objects (and versions: `key\0version`) in the store, found or written, with their sizes. */
  #present = new Map<string, number>();
  /** When each object (version) found at the start was written, and its class. */
  #listed = new Map<string, { modified?: string; storageClass?: StorageClass }>();
  /** Objects (versions, as `#present`) this run wrote, with their sizes. */
  #written = new Map<string, number>();
  /** Every mirrored file of the snapshot, by source name: filled from the trees the host stores. */
  readonly entries = new Map<string, MirrorEntry[]>();
  /** What sealing needs (`open` with `sealed`): the repository's public key and MAC key. */
  #keys: { publicKey: Uint8Array; macKey: Uint8Array } | undefined;
  #sealed = false;

  constructor(
    storage: Storage,
    paths: string[],
    keys?: { publicKey: Uint8Array; macKey: Uint8Array },
  ) {
    this.#storage = storage;
    this.#keys = keys;
    this.sources = mirrorSources(paths);
    for (const s of this.sources) this.entries.set(s.name, []);
  }

  /** Whether objects are written as versions (known once `open` resolved). */
  get versioned(): boolean {
    return this.#versioned === true;
  }

  /** Whether files are sealed (`encrypt = true`; known once `open` resolved). */
  get sealed(): boolean {
    return this.#sealed;
  }

  /**
   * Chooses the mode before any upload (`versioned`: the engine's option; `undefined`: as the
   * store is; `sealed`: encrypt every file) and lists what the mirror prefixes hold. Refuses
   * versioned mode on a store whose versioning is not enabled: a suspended bucket replaces the
   * object under a key.
   */
  async open(versioned: boolean | undefined, sealed = false): Promise<void> {
    if (this.#versioned !== undefined) throw new TypeError("the mirror was opened twice");
    if (sealed && this.#keys === undefined) {
      throw new TypeError("the mirror cannot seal files: it was given no repository keys");
    }
    this.#sealed = sealed;
    let state: Versioning = "off";
    if (versioned !== false) state = await this.#storage.versioning();
    if (versioned === true && state !== "enabled") {
      throw new TypeError(
        `engine "sync" has "versioned: true" but the repository's store keeps no versions ` +
          `(versioning ${state})${
            state === "suspended" ? ": a suspended bucket would replace mirrored objects" : ""
          }. Enable versioning on the bucket (aws s3api put-bucket-versioning --bucket NAME ` +
          `--versioning-configuration Status=Enabled), or drop "versioned" to mirror create-only`,
      );
    }
    this.#versioned = state === "enabled";
    for (const s of this.sources) {
      const prefix = layout.mirror(s.name, "");
      if (this.#versioned) {
        for (const v of await this.#storage.listVersions(prefix)) {
          this.#present.set(`${v.name}\0${v.version}`, v.size);
          this.#listed.set(`${v.name}\0${v.version}`, v);
          // A sealed object is written create-only, named without its version.
          if (isSealedKey(v.name)) this.#present.set(v.name, v.size);
        }
      } else {
        for (const o of await this.#storage.list(prefix)) {
          this.#present.set(o.name, o.size);
          this.#listed.set(o.name, o);
        }
      }
    }
  }

  /**
   * The objects (versions) this run's snapshot replaces, as `now`: for each file the source's
   * latest readable manifest names with other bytes (SHA-256) than the snapshot has, its object
   * while it is still in the store, with its age in whole days (what a later `sync prune` of
   * it would owe for, docs/cost-model.md §10.1a).
   */
  async replaced(now = Date.now()): Promise<ReplacedObject[]> {
    const out: ReplacedObject[] = [];
    for (const s of this.sources) {
      const previous = await latestManifest(this.#storage, s.name);
      if (previous === undefined) continue;
      const current = new Map(
        this.entries.get(s.name)!.map((e) => [e.path, e.ref.sha256]),
      );
      for (const f of previous.files) {
        const sha256 = current.get(f.path);
        if (sha256 === undefined || sha256 === f.sha256) continue;
        const listed = this.#listed.get(refKey(f));
        if (listed === undefined) continue;
        const modified = listed.modified ? Date.parse(listed.modified) : now;
        out.push({
          bytes: f.size,
          storageClass: listed.storageClass ?? (f.class as StorageClass),
          ageDays: Math.max(0, Math.floor((now - modified) / 86_400_000)),
        });
      }
    }
    return out;
  }

  /**
   * Whether `ref` names an object (version) the store holds at `size` bytes: one found at the
   * start of the run or written in it.
   */
  holds(ref: MirrorRef, size: number): boolean {
    // A cached object of the other mode is not this run's: encrypt was turned on or off.
    if ((ref.sealed === true) !== this.#sealed) return false;
    return this.#present.get(refKey(ref)) === objectSize(ref, size);
  }

  /**
   * Mirrors the file `path` (absolute, under a source; `rel` relative to it) as one object in
   * `storageClass`; see the module doc.
   */
  async put(
    path: string,
    rel: string,
    size: number,
    mtime: string,
    storageClass: StorageClass,
  ): Promise<MirrorPut> {
    if (this.#versioned === undefined) throw new TypeError("the mirror was not opened");
    const source = this.#sourceOf(path, rel);
    if (!storageClasses.includes(storageClass)) {
      throw new TypeError(`"${storageClass}" is not a storage class`);
    }
    // Only a file the walk can reach: no folder on the way may be a symlink (the engine could
    // otherwise have the host read, and upload, a file outside the sources).
    const parent = path.slice(0, path.lastIndexOf("/")) || "/";
    let real: string;
    try {
      real = fs.realpathSync(parent);
    } catch (err) {
      return { skipped: `cannot open: ${(err as Error).message}` };
    }
    if (real !== parent) {
      throw new TypeError(`mirror.put: "${path}" is reached through a symlink ("${real}")`);
    }
    if (this.#sealed) return await this.#putSealed(source, path, size, mtime, storageClass);
    if (size > MIRROR_WHOLE_BYTES && this.#storage.properties?.pieces) {
      return await this.#putInPieces(source, path, rel, size, mtime, storageClass);
    }
    const read = readWhole(path, size, mtime);
    if ("skipped" in read) return read;
    const bytes = read.bytes;
    const sha256 = sha256Hex(bytes);
    const key = layout.mirror(source.name, rel);
    // `create` and `putVersion` take the bytes: keep a copy when the key is there already.
    const spare = this.#present.has(key) ? bytes.slice() : undefined;
    let ref: MirrorRef | undefined;
    if (reserved(rel)) {
      ref = await this.#contentAddressed(source, bytes, sha256, storageClass);
      return this.#found(ref, size);
    }
    try {
      if (this.#versioned) {
        const version = await this.#storage.putVersion(key, bytes, { storageClass });
        ref = { key, version, sha256, class: storageClass };
      } else {
        await this.#storage.create(key, bytes, { storageClass });
        ref = { key, sha256, class: storageClass };
      }
    } catch (err) {
      // Other bytes under the key, or a name the store cannot hold there (a file where a
      // folder was, a name it refuses): the content-addressed key instead.
      if (!(err instanceof ObjectExists || err instanceof TypeError)) throw err;
    }
    if (ref === undefined) {
      const again = spare ? { bytes: spare } : readWhole(path, size, mtime);
      if ("skipped" in again) return again;
      if (sha256Hex(again.bytes) !== sha256) return { skipped: CHANGED };
      ref = await this.#contentAddressed(source, again.bytes, sha256, storageClass);
    }
    return this.#found(ref, size);
  }

  /**
   * A large file in pieces (see the module doc): hashed first, then uploaded to its path key
   * (versioned, or create-only when the key is free) or its content-addressed key.
   */
  async #putInPieces(
    source: MirrorSource,
    path: string,
    rel: string,
    size: number,
    mtime: string,
    storageClass: StorageClass,
  ): Promise<MirrorPut> {
    const hashed = await readInPieces(path, size, mtime, () => Promise.resolve());
    if ("skipped" in hashed) return hashed;
    const { sha256 } = hashed;
    const pathKey = layout.mirror(source.name, rel);
    const addressed = layout.mirrorVersion(source.name, sha256);
    // Create-only: a content-addressed key holds only its bytes, so one there at this size
    // (a rerun after a crash) is these bytes.
    if (!this.#versioned && this.#present.get(addressed) === size) {
      return this.#found({ key: addressed, sha256, class: storageClass }, size);
    }
    const keys = reserved(rel)
      ? [addressed]
      : this.#versioned || !this.#present.has(pathKey)
      ? [pathKey, addressed]
      : [addressed];
    for (const key of keys) {
      const sent = await this.#upload(key, path, size, mtime, sha256, storageClass);
      if (sent === "changed") return { skipped: CHANGED };
      if (sent === "taken") continue;
      if ("skipped" in sent) return sent;
      const ref: MirrorRef = sent.version === undefined
        ? { key, sha256, class: storageClass }
        : { key, version: sent.version, sha256, class: storageClass };
      return this.#found(ref, size);
    }
    throw new Error(`mirror.put: "${path}" could be stored under neither key`);
  }

  /**
   * A file sealed (docs/format.md §8.1) under `.sealed/<blob id>`: read whole and sealed in
   * memory, or, when large on a store that takes pieces, read once to name and hash it (sealed
   * bytes included) and once more to upload it, aborted when the second read differs.
   */
  async #putSealed(
    source: MirrorSource,
    path: string,
    size: number,
    mtime: string,
    storageClass: StorageClass,
  ): Promise<MirrorPut> {
    const { publicKey, macKey } = this.#keys!;
    const keyOf = (id: string) => layout.mirror(source.name, `${MIRROR_SEALED}${id}`);
    const stored = sealedSize(size);
    if (size <= MIRROR_WHOLE_BYTES || !this.#storage.properties?.pieces) {
      const read = readWhole(path, size, mtime);
      if ("skipped" in read) return read;
      const key = keyOf(createHmac("sha256", macKey).update(read.bytes).digest("hex"));
      const ref: MirrorRef = {
        key,
        sha256: sha256Hex(read.bytes),
        class: storageClass,
        sealed: true,
      };
      if (this.#present.get(key) === stored) return this.#found(ref, size);
      const bytes = await new SealedWriter(publicKey, size).whole(read.bytes);
      try {
        await this.#storage.create(key, bytes, { storageClass });
      } catch (err) {
        if (!(err instanceof ObjectExists)) throw err;
        await this.#sameSealed(key, path, stored);
      }
      return this.#found(ref, size);
    }
    const writer = new SealedWriter(publicKey, size);
    const id = createHmac("sha256", macKey);
    const sealedHash = createHash("sha256").update(writer.header);
    let index = 0;
    const hashed = await readInPieces(path, size, mtime, async (piece) => {
      id.update(piece);
      sealedHash.update(await writer.frame(index++, piece));
    });
    if ("skipped" in hashed) return hashed;
    const key = keyOf(id.digest("hex"));
    const ref: MirrorRef = { key, sha256: hashed.sha256, class: storageClass, sealed: true };
    if (this.#present.get(key) === stored) return this.#found(ref, size);
    const storage = this.#storage;
    const upload = await storage.startUpload!(key, {
      size: stored,
      sha256: sealedHash.digest("hex"),
      storageClass,
    });
    let finished = false;
    try {
      index = 0;
      const read = await readInPieces(path, size, mtime, async (piece) => {
        const frame = await writer.frame(index, piece);
        if (index++ > 0) return await storage.writeUpload!(upload, frame);
        const first = new Uint8Array(writer.header.length + frame.length);
        first.set(writer.header);
        first.set(frame, writer.header.length);
        await storage.writeUpload!(upload, first);
      });
      if ("skipped" in read) return read;
      if (read.sha256 !== hashed.sha256) return { skipped: CHANGED };
      finished = true;
      await storage.finishUpload!(upload);
    } catch (err) {
      if (!(err instanceof ObjectExists)) throw err;
      await this.#sameSealed(key, path, stored);
    } finally {
      if (!finished) await storage.abortUpload!(upload).catch(() => {});
    }
    return this.#found(ref, size);
  }

  /**
   * The sealed object `key` was there already: named by the keyed id of the file's bytes, it
   * holds them when it has their sealed size (its bytes only a private key can check).
   */
  async #sameSealed(key: string, path: string, size: number): Promise<void> {
    const there = (await this.#storage.stat(key))?.size;
    if (there !== size) {
      throw new IntegrityError(
        `mirror object "${key}" (file "${path}", sealed) holds ${there ?? "no"} bytes, not ` +
          `${size}: it was changed outside Permafrost; an admin can delete it ` +
          "(no snapshot may name it), then back up again",
      );
    }
  }

  /** Notes `ref`, stored at `size` bytes: written by this run unless it was there already. */
  #found(ref: MirrorRef, size: number): MirrorPut {
    const key = refKey(ref);
    if (!this.#present.has(key)) this.#written.set(key, objectSize(ref, size));
    this.#present.set(key, objectSize(ref, size));
    return { ref };
  }

  /** The run's counts (see {@link MirrorStats}), once the trees are stored. */
  stats(): MirrorStats {
    const all = [...this.entries.values()].flat();
    const uploaded = all.filter((e) => this.#written.has(refKey(e.ref)));
    return {
      files: all.length,
      uploaded: uploaded.length,
      uploadedBytes: uploaded.reduce((sum, e) => sum + e.size, 0),
      reused: all.length - uploaded.length,
    };
  }

  /**
   * One upload in pieces of the file to `key`: `"changed"` (aborted: the file is not the one
   * hashed), `"taken"` (create-only, other bytes there), or the stored version.
   */
  async #upload(
    key: string,
    path: string,
    size: number,
    mtime: string,
    sha256: string,
    storageClass: StorageClass,
  ): Promise<{ version?: string } | { skipped: string } | "changed" | "taken"> {
    const storage = this.#storage;
    const upload = await storage.startUpload!(key, {
      size,
      sha256,
      storageClass,
      version: this.#versioned,
    });
    let finished = false;
    try {
      const read = await readInPieces(
        path,
        size,
        mtime,
        (piece) => storage.writeUpload!(upload, piece),
      );
      if ("skipped" in read) return read;
      if (read.sha256 !== sha256) return "changed";
      finished = true;
      return await storage.finishUpload!(upload);
    } catch (err) {
      if (err instanceof ObjectExists && !this.#versioned) return "taken";
      throw err;
    } finally {
      if (!finished) await storage.abortUpload!(upload).catch(() => {});
    }
  }

  /**
   * Lists each source's mirror prefix once more (its versions where versioned) and throws
   * {@link MirrorObjectsGone} when an object (version) the snapshot names is not there at its
   * size. Call just before the snapshot is committed: the grace period of `sync prune` counts
   * from when an object was written, so one this run reused (a file cache hit, a same-bytes key,
   * `.versions/<sha256>`) may have been pruned while it ran.
   */
  async confirmPresent(): Promise<void> {
    for (const s of this.sources) {
      const entries = this.entries.get(s.name)!;
      if (entries.length === 0) continue;
      const prefix = layout.mirror(s.name, "");
      const there = new Map<string, number>();
      if (this.#versioned) {
        for (const v of await this.#storage.listVersions(prefix)) {
          there.set(`${v.name}\0${v.version}`, v.size);
          if (isSealedKey(v.name)) there.set(v.name, v.size);
        }
      } else {
        for (const o of await this.#storage.list(prefix)) there.set(o.name, o.size);
      }
      const gone = entries.filter((e) => there.get(refKey(e.ref)) !== objectSize(e.ref, e.size));
      if (gone.length === 0) continue;
      const { ref, path } = gone[0];
      const object = `"${ref.key}"${ref.version === undefined ? "" : ` version "${ref.version}"`}`;
      throw new MirrorObjectsGone(
        `${gone.length} mirrored object${gone.length === 1 ? "" : "s"} this backup names (e.g. ` +
          `${object}, file "${path}") ${gone.length === 1 ? "is" : "are"} no longer in the ` +
          "store: a `sync prune` deleted them while the backup ran; nothing was committed: " +
          "run the backup again, which uploads them again",
      );
    }
  }

  /** Notes the mirrored files among the nodes of the tree of `dir` (absolute), for the manifest. */
  see(dir: string, nodes: { name: string; size?: number; mirror?: MirrorRef }[]): void {
    for (const n of nodes) {
      if (!n.mirror) continue;
      const abs = dir === "/" ? `/${n.name}` : `${dir}/${n.name}`;
      const source = this.sources.find((s) => abs.startsWith(`${s.path}/`));
      if (!source) continue;
      this.entries.get(source.name)!.push({
        path: abs.slice(source.path.length + 1),
        size: n.size ?? 0,
        ref: n.mirror,
      });
    }
  }

  /**
   * The file's bytes under `mirror/<source>/.versions/<sha256>`: create-only (one there already
   * holds these bytes), or a version of that key on a versioned store.
   */
  async #contentAddressed(
    source: MirrorSource,
    bytes: Uint8Array,
    sha256: string,
    storageClass: StorageClass,
  ): Promise<MirrorRef> {
    const key = layout.mirrorVersion(source.name, sha256);
    if (this.#versioned) {
      const version = await this.#storage.putVersion(key, bytes, { storageClass });
      return { key, version, sha256, class: storageClass };
    }
    await this.#storage.create(key, bytes, { storageClass });
    return { key, sha256, class: storageClass };
  }

  /** The source `path` is under, checking `rel` is its path relative to it. */
  #sourceOf(path: string, rel: string): MirrorSource {
    for (const s of this.sources) {
      const root = s.path === "/" ? "/" : `${s.path}/`;
      if (typeof path === "string" && path.startsWith(root) && path.slice(root.length) === rel) {
        if (rel.split("/").every((p) => p !== "" && p !== "." && p !== "..")) return s;
      }
    }
    throw new TypeError(
      `mirror.put: "${path}" is not "${rel}" under a source of this backup`,
    );
  }
}

/**
 * Whether the file at `rel` has a first path part the mirror's own names use
 * (`mirror/<source>/.versions/`, `.permafrost/`): its path key could block a changed file's
 * content-addressed key or pass for a readable manifest, so it goes to its content-addressed
 * key only.
 */
export function reserved(rel: string): boolean {
  const first = `${rel.split("/", 1)[0]}/`;
  return first === MIRROR_VERSIONS || first === MIRROR_MANIFESTS || first === MIRROR_SEALED;
}

/** Whether `key` names a sealed object: `mirror/<source>/.sealed/<id>`. */
function isSealedKey(key: string): boolean {
  const parts = key.split("/");
  return parts.length === 4 && `${parts[2]}/` === MIRROR_SEALED;
}

/** The size of the object of `ref` for a file of `size` bytes: larger when sealed. */
export function objectSize(ref: MirrorRef, size: number): number {
  return ref.sealed === true ? sealedSize(size) : size;
}

/** `key`, or `key\0version`: how `#present` knows an object. */
function refKey(ref: { key: string; version?: string }): string {
  return ref.version === undefined ? ref.key : `${ref.key}\0${ref.version}`;
}

/**
 * Reads the file at `path` in pieces of {@link MIRROR_PIECE_BYTES}, handing each (a fresh
 * buffer: `each` may move it) to `each` and hashing it; resolves to the SHA-256 if the file is
 * still the regular file of `size` bytes and `mtime` the walk listed and did not change while
 * read, else why not.
 */
async function readInPieces(
  path: string,
  size: number,
  mtime: string,
  each: (piece: Uint8Array) => Promise<void>,
): Promise<{ sha256: string } | { skipped: string }> {
  let file: fs.promises.FileHandle;
  try {
    file = await fs.promises.open(
      path,
      fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW,
    );
  } catch (err) {
    return { skipped: `cannot open: ${(err as Error).message}` };
  }
  let inEach = false; // an error of `each` (the store, the sealer) is not a read error
  try {
    if (!(await file.stat()).isFile()) {
      return {
        skipped: "is no longer a regular file (replaced since it was listed); not backed up",
      };
    }
    const hash = createHash("sha256");
    let got = 0;
    for (;;) {
      const piece = new Uint8Array(Math.min(MIRROR_PIECE_BYTES, Math.max(size - got, 1)));
      let filled = 0;
      while (filled < piece.length) {
        const { bytesRead } = await file.read(piece, filled, piece.length - filled, null);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      if (filled === 0) break;
      got += filled;
      if (got > size) break; // it grew
      hash.update(piece.subarray(0, filled));
      inEach = true;
      await each(filled === piece.length ? piece : piece.slice(0, filled));
      inEach = false;
      if (filled < piece.length) break;
    }
    const after = lstat(path);
    if (got !== size || after.size !== size || after.mtimeNs !== mtime) {
      return { skipped: CHANGED };
    }
    return { sha256: hash.digest("hex") };
  } catch (err) {
    if (err instanceof FramePlaintextChanged) return { skipped: CHANGED };
    if (inEach) throw err;
    return { skipped: `cannot read: ${(err as Error).message}` };
  } finally {
    await file.close();
  }
}

/**
 * The bytes of the file at `path`, if it is still the regular file of `size` bytes and `mtime`
 * the walk listed, and did not change while read; else why not.
 */
function readWhole(
  path: string,
  size: number,
  mtime: string,
): { bytes: Uint8Array } | { skipped: string } {
  if (!Number.isSafeInteger(size) || size < 0) throw new TypeError(`size ${size} is not valid`);
  if (size > MIRROR_MAX_BYTES) {
    return {
      skipped: `is ${size} bytes; this store takes a mirrored file whole, in memory, up to ${
        MIRROR_MAX_BYTES / 2 ** 30
      } GiB (an S3 or local folder repository takes larger ones in pieces); not backed up`,
    };
  }
  let fd: number;
  try {
    fd = fs.openSync(
      path,
      fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW,
    );
  } catch (err) {
    return { skipped: `cannot open: ${(err as Error).message}` };
  }
  try {
    if (!fs.fstatSync(fd).isFile()) {
      return {
        skipped: "is no longer a regular file (replaced since it was listed); not backed up",
      };
    }
    const bytes = new Uint8Array(size);
    let got = 0;
    for (;;) {
      const n = fs.readSync(fd, bytes, got, bytes.length - got, null);
      if (n === 0) break;
      got += n;
      if (got === bytes.length) {
        // One more byte means the file grew.
        if (fs.readSync(fd, new Uint8Array(1), 0, 1, null) > 0) got++;
        break;
      }
    }
    const after = lstat(path);
    if (got !== size || after.size !== size || after.mtimeNs !== mtime) {
      return {
        skipped: "changed while it was being read; not backed up (the next backup tries again)",
      };
    }
    return { bytes };
  } catch (err) {
    return { skipped: `cannot read: ${(err as Error).message}` };
  } finally {
    fs.closeSync(fd);
  }
}
