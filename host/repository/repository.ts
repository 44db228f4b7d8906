/**
 * A repository opened with a key: config, keys, index, snapshots, and reading blobs back.
 * `Repository.init` creates one; `Repository.open` unlocks one with a passphrase or a key file.
 *
 * @module
 */

import { KeyCannotRead, ObjectNotFound } from "../../plugins/sdk/errors.ts";
import type { ByteRange, Storage } from "../storage/storage.ts";
import { sha256Hex } from "../crypto/hash.ts";
import {
  type ConfigOverrides,
  decodeConfig,
  encodeConfig,
  newConfig,
  type RepoConfig,
} from "./config.ts";
import { WrongPassphrase } from "./errors.ts";
import { RepoIndex } from "./index.ts";
import { adminTagKey, type IndexedPack, openIndexSegment } from "./index_segment.ts";
import { decodeKeyExport, type KdfParams, unwrapKeyFile, wrapKeyFile } from "./keyfile.ts";
import { generateMasterKeys, type RepoKeys, requirePrivateKey } from "./keys.ts";
import { idOf, kindOf, layout } from "./layout.ts";
import { blobFromFrame, openDataKey, openFrameAsync, PACK_HEADER_LENGTH } from "./pack.ts";
import { decodeSnapshot, type SnapshotManifest } from "./snapshot.ts";
import { decodeTree, type Tree } from "./tree.ts";

/** Bytes of opened frames kept for `readBlob`. */
const FRAME_CACHE_BYTES = 16 << 20;

/** How a repository is unlocked: a passphrase, or the bytes of an exported key file. */
export interface Credentials {
  passphrase?: string;
  keyFile?: Uint8Array;
}

/** A snapshot manifest with its id. */
export interface SnapshotEntry {
  id: string;
  manifest: SnapshotManifest;
}

/** One index segment as loaded (docs/format.md §7, §7.1), without its blob entries. */
export interface SegmentInfo {
  /** The segment id (64 hex digits); its object is `index/<id>`. */
  id: string;
  /** Ids of the packs it names. */
  packs: string[];
  /** Ids of the segments it supersedes, when that supersession is honoured (else empty). */
  supersedes: string[];
  /**
   * Ids of the packs it attests (§7.1: written by the admin run that wrote it), when its admin
   * tag verifies under this key (else empty: an ingest key cannot verify).
   */
  attested: string[];
  /** The store's time of the object, where the store gives one. */
  modified?: string;
}

/** Thrown when the location holds no repository. */
export class NotARepository extends Error {
  override name = "NotARepository";
}

export class Repository {
  readonly index: RepoIndex = new RepoIndex();
  #indexLoaded = new Set<string>();
  /** Every decodable segment loaded, by id. */
  #segments = new Map<string, SegmentInfo>();
  /** Segments whose packs are in `index`. */
  #inIndex = new Set<string>();
  #dataKeys = new Map<string, Uint8Array>();
  #trees = new Map<string, Tree>();
  #frames = new Map<string, Uint8Array>();
  #frameBytes = 0;

  private constructor(
    readonly storage: Storage,
    readonly config: RepoConfig,
    readonly keys: RepoKeys,
    /** The key object that was opened, when opened by passphrase. */
    readonly keyObject?: string,
  ) {}

  /** Whether this key can read trees, packs and snapshot contents. */
  get canRead(): boolean {
    return this.keys.privateKey !== undefined;
  }

  /**
   * Creates a repository in an empty location: config first, then the passphrase-wrapped key.
   * Refuses a location that already has a config.
   */
  static async init(
    storage: Storage,
    passphrase: string,
    options: { config?: ConfigOverrides; kdf?: KdfParams } = {},
  ): Promise<Repository> {
    if (await storage.stat(layout.config()) !== null) {
      throw new Deno.errors.AlreadyExists("a repository already exists here");
    }
    const config = newConfig(options.config);
    const keys = await generateMasterKeys();
    const keyFile = await wrapKeyFile(keys, passphrase, options.kdf);
    const keyId = sha256Hex(keyFile);
    await storage.create(layout.key(keyId), keyFile);
    await storage.create(layout.config(), encodeConfig(config));
    return new Repository(storage, config, keys, layout.key(keyId));
  }

  /** Opens a repository with a passphrase (trying each key object) or an exported key file. */
  static async open(storage: Storage, credentials: Credentials): Promise<Repository> {
    let configBytes: Uint8Array;
    try {
      configBytes = await storage.read(layout.config());
    } catch (err) {
      if (err instanceof ObjectNotFound) {
        throw new NotARepository('there is no Permafrost repository here (no "config")');
      }
      throw err;
    }
    const config = decodeConfig(configBytes);
    if (credentials.keyFile) {
      const { repoId, keys } = decodeKeyExport(credentials.keyFile);
      if (repoId !== config.id) {
        throw new WrongPassphrase(
          `the key file belongs to repository "${repoId.slice(0, 8)}", not "${
            config.id.slice(0, 8)
          }"`,
        );
      }
      return new Repository(storage, config, keys);
    }
    if (credentials.passphrase === undefined) {
      throw new TypeError("no passphrase or key file given");
    }
    const keyObjects = (await storage.list(layout.prefixes.key)).filter((k) =>
      kindOf(k.name) === "key"
    );
    if (keyObjects.length === 0) throw new NotARepository("the repository has no key objects");
    const unreadable: string[] = [];
    for (const k of keyObjects) {
      try {
        const keys = await unwrapKeyFile(await storage.read(k.name), credentials.passphrase);
        const repo = new Repository(storage, config, keys, k.name);
        for (const name of unreadable) repo.#warn(name, "is not a valid key object; skipped");
        return repo;
      } catch (err) {
        // A damaged or planted key object must not lock the owner out: skip it, say so.
        if (err instanceof WrongPassphrase) continue;
        if (!isDamage(err)) throw err;
        unreadable.push(k.name);
      }
    }
    throw new WrongPassphrase(
      `the passphrase opens none of the repository's keys${
        unreadable.length > 0 ? ` (${unreadable.length} key objects are not valid)` : ""
      }`,
    );
  }

  /**
   * Loads index segments not loaded yet into `index`: the **effective** index, made of every
   * segment that no honoured version-2 segment supersedes (docs/format.md §7.1). A supersession
   * is honoured when its admin tag verifies under this key's private key; an ingest key, which
   * cannot verify, honours every one (a forged one can only make it store data again). When a
   * new segment supersedes one already in `index`, the index is rebuilt from the segments.
   */
  async loadIndex(): Promise<void> {
    const listed = await this.storage.list(layout.prefixes.index);
    const fresh = listed.filter((s) => !this.#indexLoaded.has(s.name));
    const tagKey = this.keys.privateKey ? adminTagKey(this.keys.privateKey) : undefined;
    const decoded = new Map<string, IndexedPack[]>();
    await inBatches(fresh, 16, async (s) => {
      this.#indexLoaded.add(s.name);
      if (kindOf(s.name) !== "index") return this.#warn(s.name, "is not an index segment; ignored");
      try {
        const segment = openIndexSegment(this.keys.indexKey, await this.storage.read(s.name));
        let supersedes = segment.supersedes;
        const verified = segment.version === 2 && tagKey !== undefined && segment.verify(tagKey);
        if (supersedes.length > 0 && tagKey && !verified) {
          this.#warn(
            s.name,
            "supersedes other segments without a valid admin tag; its supersession is ignored",
          );
          supersedes = [];
        }
        const id = idOf(s.name);
        this.#segments.set(id, {
          id,
          packs: segment.packs.map((p) => p.pack),
          supersedes,
          attested: verified ? segment.packs.filter((p) => p.attested).map((p) => p.pack) : [],
          ...(s.modified ? { modified: s.modified } : {}),
        });
        decoded.set(id, segment.packs);
      } catch (err) {
        if (!isDamage(err)) throw err;
        this.#warn(s.name, `cannot be decoded (${(err as Error).message}); ignored`);
        if (!this.undecodable.includes(s.name)) this.undecodable.push(s.name);
      }
    });
    const superseded = this.supersededSegments();
    if ([...this.#inIndex].some((id) => superseded.has(id))) {
      // An admin superseded segments while this process held them: start over.
      this.index.clear();
      const keep = [...this.#inIndex].filter((id) => !superseded.has(id) && !decoded.has(id));
      this.#inIndex.clear();
      await inBatches(keep, 16, async (id) => {
        decoded.set(
          id,
          openIndexSegment(this.keys.indexKey, await this.storage.read(layout.index(id))).packs,
        );
      });
    }
    // Newest segments first, so a blob stored twice (two clients at once, or a compaction
    // stopped before it superseded the old packs) is found in its newest, densest pack.
    const newestFirst = [...decoded.keys()].sort((a, b) => {
      const ta = this.#segments.get(a)?.modified ?? "";
      const tb = this.#segments.get(b)?.modified ?? "";
      return ta < tb ? 1 : ta > tb ? -1 : a < b ? -1 : 1;
    });
    for (const id of newestFirst) {
      if (superseded.has(id)) continue;
      this.index.add(decoded.get(id)!);
      this.#inIndex.add(id);
    }
  }

  /**
   * Counts a segment this process wrote as loaded, so `loadIndex` does not read it back: `packs`
   * must already be in `index` (the pack uploader's sink adds them). A version-1 segment that
   * supersedes and attests nothing.
   */
  adoptSegment(id: string, packs: IndexedPack[]): void {
    this.#indexLoaded.add(layout.index(id));
    this.#segments.set(id, { id, packs: packs.map((p) => p.pack), supersedes: [], attested: [] });
    this.#inIndex.add(id);
  }

  /** Forgets the loaded index and loads it again from the store. */
  async reloadIndex(): Promise<void> {
    this.index.clear();
    this.#indexLoaded.clear();
    this.#segments.clear();
    this.#inIndex.clear();
    await this.loadIndex();
  }

  /** Every decodable segment loaded so far (call `loadIndex` first). */
  segments(): SegmentInfo[] {
    return [...this.#segments.values()];
  }

  /**
   * Packs of the effective index that an admin-tagged segment attests (§7.1): the only copies of
   * a blob garbage collection trusts besides the one it is about to retire.
   */
  attestedPacks(): Set<string> {
    const superseded = this.supersededSegments();
    const out = new Set<string>();
    for (const s of this.#segments.values()) {
      if (!superseded.has(s.id)) { for (const p of s.attested) out.add(p); }
    }
    return out;
  }

  /** Ids of the loaded segments that an honoured segment supersedes (§7.1). */
  supersededSegments(): Set<string> {
    const out = new Set<string>();
    for (const s of this.#segments.values()) for (const id of s.supersedes) out.add(id);
    return out;
  }

  /**
   * Objects that were skipped because they are damaged or not Permafrost objects (e.g. a stray
   * file, or one planted by a compromised ingest client): `object name: what is wrong`. A
   * damaged object never makes the rest of the repository unusable; `check` reports these.
   */
  readonly warnings: string[] = [];
  #warned = new Set<string>();

  #warn(name: string, what: string): void {
    if (this.#warned.has(name)) return;
    this.#warned.add(name);
    this.warnings.push(`"${name}" ${what}`);
  }

  /**
   * The `index/<id>` and `snapshots/<id>` objects skipped because they cannot be decoded
   * (damaged, or written by a newer format version), by object name, in no order. Also in
   * `warnings`, with what is wrong; unlike those, never cleared, and names stay after the object
   * is repaired or deleted (open the repository again). A version-2 segment whose admin tag
   * does not verify is not here (it is read for its packs), nor is a stray name outside the
   * layout. Garbage collection refuses to run while this is not empty (host/ops/admin_gate.ts
   * `assertNothingUndecodable`): what such an object references would look dead.
   */
  readonly undecodable: string[] = [];

  /** Every snapshot, oldest first. */
  async snapshots(): Promise<SnapshotEntry[]> {
    const objects = await this.storage.list(layout.prefixes.snapshot);
    const out: SnapshotEntry[] = [];
    await inBatches(objects, 16, async (o) => {
      if (kindOf(o.name) !== "snapshot") return this.#warn(o.name, "is not a snapshot; ignored");
      try {
        out.push({
          id: idOf(o.name),
          manifest: decodeSnapshot(this.keys.indexKey, await this.storage.read(o.name)),
        });
      } catch (err) {
        if (!isDamage(err)) throw err;
        this.#warn(o.name, `cannot be decoded (${(err as Error).message}); ignored`);
        if (!this.undecodable.includes(o.name)) this.undecodable.push(o.name);
      }
    });
    return out.sort((a, b) =>
      a.manifest.time < b.manifest.time
        ? -1
        : a.manifest.time > b.manifest.time
        ? 1
        : a.id < b.id
        ? -1
        : 1
    );
  }

  /** Finds a snapshot by `latest`, a full id or a unique id prefix. */
  async snapshot(ref: string): Promise<SnapshotEntry> {
    const all = await this.snapshots();
    if (all.length === 0) throw new ObjectNotFound("the repository has no snapshots yet");
    if (ref === "latest") return all[all.length - 1];
    const hits = all.filter((s) => s.id.startsWith(ref.toLowerCase()));
    if (hits.length === 1) return hits[0];
    if (hits.length === 0) throw new ObjectNotFound(`no snapshot "${ref}"`);
    throw new TypeError(`snapshot prefix "${ref}" is ambiguous; give more digits`);
  }

  /** The data key of a pack (reads and unseals its header once). */
  async dataKey(pack: string, metadata: boolean): Promise<Uint8Array> {
    requirePrivateKey(this.keys, "pack data");
    let key = this.#dataKeys.get(pack);
    if (!key) {
      const header = await this.readPack(pack, metadata, { offset: 0, length: PACK_HEADER_LENGTH });
      key = openDataKey(header, this.keys);
      this.#dataKeys.set(pack, key);
    }
    return key;
  }

  /**
   * Reads (a range of) a pack. A metadata pack is read from its hot copy `meta/<id>`, falling
   * back to the cold `packs/<id>` when the hot copy is missing (docs/format.md §2: the cold tier
   * alone is a complete repository).
   */
  async readPack(pack: string, metadata: boolean, range?: ByteRange): Promise<Uint8Array> {
    if (!metadata) return await this.storage.read(layout.pack(pack), range);
    try {
      return await this.storage.read(layout.metaCopy(pack), range);
    } catch (err) {
      if (!(err instanceof ObjectNotFound)) throw err;
      return await this.storage.read(layout.pack(pack), range);
    }
  }

  /**
   * Reads and verifies one blob: a ranged read of its frame, opened once and kept in a small
   * cache, since a frame of a metadata pack holds many trees that are read one after another.
   * The result may share memory with that cache: callers must not modify it.
   */
  async readBlob(id: string): Promise<Uint8Array> {
    requirePrivateKey(this.keys, "blobs");
    const entry = this.index.get(id);
    if (!entry) throw new ObjectNotFound(`blob "${id}" is not in the index`);
    const cacheKey = `${entry.pack}:${entry.frameOffset}`;
    let plain = this.#frames.get(cacheKey);
    if (plain) {
      this.#frames.delete(cacheKey); // re-inserted below: most recently used last
      this.#frameBytes -= plain.length;
    } else {
      const key = await this.dataKey(entry.pack, entry.metadata);
      const frame = await this.readPack(entry.pack, entry.metadata, {
        offset: entry.frameOffset,
        length: entry.frameLength,
      });
      plain = await this.openFrame(key, frame, entry.frameOffset, entry.pack);
    }
    this.#frames.set(cacheKey, plain);
    this.#frameBytes += plain.length;
    while (this.#frameBytes > FRAME_CACHE_BYTES && this.#frames.size > 1) {
      const [oldest, bytes] = this.#frames.entries().next().value!;
      this.#frames.delete(oldest);
      this.#frameBytes -= bytes.length;
    }
    try {
      return blobFromFrame(plain, entry, this.keys.macKey);
    } catch (err) {
      throw withPack(err, entry.pack, id);
    }
  }

  /** Reads one tree (cached for the life of this object). */
  async tree(id: string): Promise<Tree> {
    let tree = this.#trees.get(id);
    if (!tree) {
      requirePrivateKey(this.keys, "trees");
      tree = decodeTree(await this.readBlob(id));
      this.#trees.set(id, tree);
    }
    return tree;
  }

  /** Opens a frame of a pack already read (restore reads runs of frames at once). */
  async openFrame(
    dataKey: Uint8Array,
    frame: Uint8Array,
    frameOffset: number,
    pack: string,
  ): Promise<Uint8Array> {
    try {
      return await openFrameAsync(dataKey, frame, frameOffset);
    } catch (err) {
      throw withPack(err, pack);
    }
  }
}

/** Whether an error says an object's bytes are bad (as opposed to the store failing). */
export function isDamage(err: unknown): boolean {
  return err instanceof Error &&
    (err.name === "FormatError" || err.name === "IntegrityError" || err instanceof RangeError);
}

/** Adds the pack (and blob) to an integrity error so the user knows what is damaged. */
export function withPack(err: unknown, pack: string, blob?: string): unknown {
  if (err instanceof Error && err.name === "IntegrityError") {
    err.message = `pack "${pack}"${blob ? ` (blob "${blob}")` : ""} is damaged: ${err.message}`;
  }
  return err;
}

/** Runs `fn` over `items` with at most `width` at once. */
export async function inBatches<T>(
  items: T[],
  width: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

export { KeyCannotRead };
