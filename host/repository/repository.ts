/**
 * A repository opened with a key: config, keys, index, snapshots, and reading blobs back.
 * `Repository.init` creates one; `Repository.open` unlocks one with a passphrase or a key file.
 *
 * @module
 */

import { KeyCannotRead, ObjectExists, ObjectNotFound } from "../../plugins/sdk/errors.ts";
import type { ByteRange, ObjectInfo, Storage } from "../storage/storage.ts";
import { DryRunStorage } from "../storage/dry_run.ts";
import { sha256Hex } from "../crypto/hash.ts";
import { bytesEqual, concatBytes, utf8 } from "../crypto/bytes.ts";
import {
  type ConfigOverrides,
  decodeConfig,
  encodeConfig,
  newConfig,
  type RepoConfig,
} from "./config.ts";
import { ConfigMissing, ForeignKey, FormatError, NoUsableKey, WrongPassphrase } from "./errors.ts";
import { MemoryIndex, type RepoIndex } from "./repo_index.ts";
import { DiskIndex } from "./disk_index.ts";
import {
  adminTagKey,
  encodeIndexSegment,
  type IndexedPack,
  openIndexSegment,
} from "./index_segment.ts";
import {
  decodeKeyExport,
  type KdfParams,
  type KeyFileInfo,
  readKeyFileInfo,
  unwrapKeyFile,
  wrapKeyFile,
} from "./keyfile.ts";
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
  /** How messages name the key file (its path), when `keyFile` is given. */
  keyFileName?: string;
  /**
   * With `passphrase`: a key object's bytes as a local copy holds them (host/cache/key_copy.ts)
   * and the passphrase's key derivation under its parameters, already started. Used only when
   * the store holds these very bytes under their name; that key object is tried first.
   */
  early?: { keyObject: Uint8Array; derivedKey: Promise<Uint8Array> };
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

/** How `Repository.writeSegment` writes a segment. */
export interface WriteSegmentOptions {
  /**
   * Ids of the segments it supersedes (docs/format.md §7.1): a version-2 segment with an admin
   * tag, written only with the private key. Closed by the writer (every segment an honoured
   * loaded segment supersedes is added).
   */
  supersedes?: Iterable<string>;
  /**
   * Encode and name it, store nothing, leave the index alone. A `DryRunStorage` counts the
   * segment among what the dry run would have created.
   */
  dryRun?: boolean | DryRunStorage;
}

/** Thrown when the location holds no repository. */
export class NotARepository extends Error {
  override name = "NotARepository";
}

export class Repository {
  #index: RepoIndex = new MemoryIndex();
  /** The index cache file, when `useIndexCache` chose one: then it is `#index`. */
  #disk: DiskIndex | undefined;
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
   * Creates a repository in a location without a config (docs/format.md §4.1 "Creating a
   * repository"): first the passphrase-wrapped key object, bound to the new config's id, then
   * the config, which is the commit point. When another `init` wrote its config first, this one
   * removes its own key object (which could open nothing: no config has its id) and throws
   * `AlreadyExists` saying so. The winner removes the key objects that interrupted or losing
   * inits left, while the location holds no data (`warnings` names each).
   */
  static async init(
    storage: Storage,
    passphrase: string,
    options: { config?: ConfigOverrides; kdf?: KdfParams } = {},
  ): Promise<Repository> {
    await Repository.assertCreatable(storage);
    const config = newConfig(options.config);
    const keys = await generateMasterKeys();
    const keyFile = await wrapKeyFile(keys, passphrase, config.id, options.kdf);
    const keyObject = layout.key(sha256Hex(keyFile));
    await storage.create(keyObject, keyFile);
    try {
      await storage.create(layout.config(), encodeConfig(config));
    } catch (err) {
      // Any other failure leaves the outcome unknown: the key object stays (it is bound to this
      // config's id, so it opens nothing unless this config was written after all).
      if (!(err instanceof ObjectExists)) throw err;
      throw await lostInit(storage, keyObject);
    }
    const repo = new Repository(storage, config, keys, keyObject);
    await repo.#removeLeftoverKeys();
    return repo;
  }

  /**
   * Throws unless `init` may create a repository in `storage`: `AlreadyExists` where a config
   * is, `ConfigMissing` where packs, index segments or snapshots are without one (§4.1).
   */
  static async assertCreatable(storage: Storage): Promise<void> {
    if (await storage.stat(layout.config()) !== null) {
      throw new Deno.errors.AlreadyExists("a repository already exists here");
    }
    await refuseDataWithoutConfig(storage);
  }

  /**
   * Right after `init` wrote the config: removes every other key object, when the location
   * holds no index segment, snapshot or pack. None of them can hold this repository's keys (only
   * this process has them), and with no data there is nothing they could open: an `init`
   * killed before its config, or one that lost to this one, left them (docs/format.md §4.1).
   * Where data is present (a location whose config was lost, say), nothing is removed.
   */
  async #removeLeftoverKeys(): Promise<void> {
    const others = (await this.storage.list(layout.prefixes.key))
      .map((k) => k.name)
      .filter((name) => name !== this.keyObject && kindOf(name) === "key");
    if (others.length === 0) return;
    const { index, snapshot, pack, meta } = layout.prefixes;
    for (const prefix of [index, snapshot, pack, meta]) {
      if ((await this.storage.list(prefix)).length > 0) return;
    }
    for (const name of others) {
      try {
        await this.storage.delete(name);
        this.#warn(name, "was left by an init that was interrupted or lost to this one; removed");
      } catch (err) {
        this.#warn(
          name,
          `was left by an init that was interrupted or lost to this one, and could not be ` +
            `removed (${errorText(err)}); it opens nothing here: delete it`,
        );
      }
    }
  }

  /**
   * Opens a repository with an exported key file (which must name this config's id, §4.2), or
   * with a passphrase, trying each key object of this repository (§4.1): a damaged one, or a
   * version 2 one of another repository, is skipped with a warning naming it. When none opens,
   * the error names every key object and what is wrong with it.
   */
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
        const file = credentials.keyFileName ? `key file "${credentials.keyFileName}"` : "key file";
        throw new ForeignKey(
          `the ${file} belongs to repository "${short(repoId)}", not to "${short(config.id)}", ` +
            `the repository at this location: use a key file exported from "${short(config.id)}" ` +
            "(`permafrost key ingest`), or its passphrase",
        );
      }
      return new Repository(storage, config, keys);
    }
    if (credentials.passphrase === undefined) {
      throw new TypeError("no passphrase or key file given");
    }
    const early = credentials.early;
    const earlyName = early && layout.key(sha256Hex(early.keyObject));
    const names = (await storage.list(layout.prefixes.key))
      .map((k) => k.name)
      .filter((name) => kindOf(name) === "key")
      .sort()
      .sort((a, b) => Number(b === earlyName) - Number(a === earlyName));
    const tried: string[] = [];
    const skipped: { name: string; why: string }[] = [];
    for (const name of names) {
      let bytes: Uint8Array;
      let info: KeyFileInfo;
      try {
        bytes = await readKeyObject(storage, name);
        info = readKeyFileInfo(bytes, name);
      } catch (err) {
        if (err instanceof ObjectNotFound) continue; // removed since listed (an init's leftover)
        if (!isDamage(err)) throw err;
        skipped.push({ name, why: invalidKeyText(err) });
        continue;
      }
      if (info.repository !== undefined && info.repository !== config.id) {
        skipped.push({ name, why: foreignKeyText(info.repository, config.id) });
        continue;
      }
      try {
        const keys = await unwrapKeyFile(bytes, credentials.passphrase, {
          name,
          repository: config.id,
          // never the copy's word over the store's: the bytes read here must be the copy's
          derivedKey: name === earlyName && bytesEqual(bytes, early!.keyObject)
            ? early!.derivedKey
            : undefined,
        });
        const repo = new Repository(storage, config, keys, name);
        for (const s of skipped) repo.#warn(s.name, `${s.why}; skipped`);
        return repo;
      } catch (err) {
        if (err instanceof WrongPassphrase) tried.push(name);
        else if (isDamage(err)) skipped.push({ name, why: invalidKeyText(err) });
        else throw err;
      }
    }
    throw noKeyOpens(tried, skipped);
  }

  /** The effective index as loaded so far (`loadIndex`): in memory, or in the index cache. */
  get index(): RepoIndex {
    return this.#index;
  }

  /**
   * Keeps the effective index in the SQLite file `file` of the local cache instead of memory
   * (disk_index.ts), brought up to date by each `loadIndex`: for commands that look up a few
   * blobs (ls, find, restore, backup). A file that cannot serve (damaged, another repository's
   * or key's) is built again, with a warning. Does nothing when `file` is in use already, or
   * when the index is loaded in memory already (it stays there).
   */
  useIndexCache(file: string): void {
    if (this.#disk?.file === file || (!this.#disk && this.#indexLoaded.size > 0)) return;
    this.closeIndexCache();
    this.#disk = DiskIndex.open(file, {
      repository: this.config.id,
      fingerprint: this.#indexFingerprint(),
    }, (what) => this.#warn(file, what));
    this.#index = this.#disk;
    for (const { info, effective } of this.#disk.segments()) {
      this.#indexLoaded.add(layout.index(info.id));
      this.#segments.set(info.id, info);
      if (effective) this.#inIndex.add(info.id);
    }
  }

  /** Closes the index cache, if one is open (the index is then empty until loaded again). */
  closeIndexCache(): void {
    if (!this.#disk) return;
    this.#disk.close();
    this.#disk = undefined;
    this.#index = new MemoryIndex();
    this.#indexLoaded.clear();
    this.#segments.clear();
    this.#inIndex.clear();
  }

  /**
   * Tells apart the views of the effective index (§7.1: an admin key honours only supersessions
   * whose admin tag verifies, an ingest key every one): a hash of the keys that decide it.
   */
  #indexFingerprint(): string {
    const tagKey = this.keys.privateKey ? adminTagKey(this.keys.privateKey) : new Uint8Array();
    return sha256Hex(concatBytes([utf8("permafrost index cache\n"), this.keys.indexKey, tagKey]));
  }

  /**
   * Loads index segments not loaded yet into `index`: the **effective** index, made of every
   * segment that no honoured version-2 segment supersedes (docs/format.md §7.1). A segment that
   * does not decode, or whose name is not the SHA-256 of its bytes (§2), is skipped
   * (`undecodable`). A supersession
   * is honoured when its admin tag verifies under this key's private key; an ingest key, which
   * cannot verify, honours every one (a forged one can only make it store data again). When a
   * new segment supersedes one already in `index`, the index is rebuilt from the segments.
   */
  async loadIndex(): Promise<void> {
    const listed = await this.storage.list(layout.prefixes.index);
    const tagKey = this.keys.privateKey ? adminTagKey(this.keys.privateKey) : undefined;
    if (this.#disk) return await this.#syncIndexCache(this.#disk, listed, tagKey);
    const fresh = listed.filter((s) => !this.#indexLoaded.has(s.name));
    const decoded = new Map<string, IndexedPack[]>();
    await inBatches(fresh, 16, async (s) => {
      const packs = await this.#loadSegment(s, tagKey);
      if (packs) decoded.set(idOf(s.name), packs);
    });
    await this.#applySegments(decoded);
  }

  /**
   * `loadIndex` into the index cache: forgets the recorded segments that are no longer listed,
   * then decodes the listed ones it has not recorded, a batch at a time, each batch one update
   * (the cache then holds whole segments only, whatever stops the run). When the file fails
   * (damaged while in use), it is built again from every listed segment, with a warning.
   */
  async #syncIndexCache(
    disk: DiskIndex,
    listed: ObjectInfo[],
    tagKey: Uint8Array | undefined,
  ): Promise<void> {
    try {
      await this.#syncBatches(disk, listed, tagKey);
    } catch (err) {
      // Only a damaged file is discarded (not one another process holds locked, say).
      if (!(err instanceof Error && /malformed|not a database|corrupt/i.test(err.message))) {
        throw err;
      }
      this.#warn(disk.file, `failed (${err.message}); discarded, and built again`);
      this.closeIndexCache();
      DiskIndex.remove(disk.file);
      this.useIndexCache(disk.file);
      await this.#syncBatches(this.#disk!, listed, tagKey);
    }
  }

  async #syncBatches(
    disk: DiskIndex,
    listed: ObjectInfo[],
    tagKey: Uint8Array | undefined,
  ): Promise<void> {
    const names = new Set(listed.map((s) => s.name));
    const gone = [...this.#segments.keys()].filter((id) => !names.has(layout.index(id)));
    const restart = gone.some((id) => this.#segments.get(id)!.supersedes.length > 0);
    if (restart) {
      // A superseding segment went away: what it superseded counts again. Start over (the file
      // keeps its rows until the sync's commit replaces them all).
      this.#indexLoaded.clear();
      this.#segments.clear();
      this.#inIndex.clear();
    } else if (gone.length > 0) {
      for (const id of gone) {
        this.#segments.delete(id);
        this.#inIndex.delete(id);
        this.#indexLoaded.delete(layout.index(id));
      }
    }
    const fresh = listed.filter((s) => !this.#indexLoaded.has(s.name));
    const staged: string[] = [];
    // Decoded a batch at a time and staged on disk: memory does not grow with the segments.
    await inBatches(fresh, 16, async (s) => {
      const packs = await this.#loadSegment(s, tagKey);
      if (!packs) return;
      disk.stage(this.#segments.get(idOf(s.name))!, packs);
      staged.push(idOf(s.name));
    });
    this.#commitToCache(disk, staged, restart ? "all" : gone);
  }

  /**
   * Records the staged segments `staged` (just added to `#segments`) in the index cache, retires
   * the recorded ones a recorded segment supersedes (§7.1: the file's records decide, not this
   * process's view) and forgets those `gone` (`"all"`: every one): one transaction.
   */
  #commitToCache(disk: DiskIndex, staged: string[], gone: string[] | "all" = []): void {
    const superseded = disk.commit({ forget: gone });
    for (const id of superseded) this.#inIndex.delete(id);
    for (const id of staged) if (!superseded.has(id)) this.#inIndex.add(id);
  }

  /**
   * Reads and records one listed segment (`#segments`); returns its packs, or undefined when it
   * is skipped (not a segment, undecodable, or not named after its bytes).
   */
  async #loadSegment(
    s: ObjectInfo,
    tagKey: Uint8Array | undefined,
  ): Promise<IndexedPack[] | undefined> {
    this.#indexLoaded.add(s.name);
    if (kindOf(s.name) !== "index") {
      this.#warn(s.name, "is not an index segment; ignored");
      return undefined;
    }
    try {
      const bytes = await this.storage.read(s.name);
      const segment = openIndexSegment(this.keys.indexKey, bytes);
      if (!this.#ownName(s.name, bytes)) return undefined;
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
      return segment.packs;
    } catch (err) {
      if (!isDamage(err)) throw err;
      this.#skip(s.name, `cannot be decoded (${(err as Error).message}); ignored`);
      return undefined;
    }
  }

  /**
   * Adds the packs of segments just recorded in `#segments` (`decoded`, by id) to `index`,
   * unless an honoured segment supersedes them. When one of them supersedes a segment already
   * in `index`, the index is rebuilt from the effective segments (read again). Returns without
   * awaiting anything when no rebuild is needed, so the index changes at once.
   */
  async #applySegments(decoded: Map<string, IndexedPack[]>): Promise<void> {
    const superseded = this.supersededSegments();
    if ([...this.#inIndex].some((id) => superseded.has(id))) {
      // An admin superseded segments while this process held them: start over.
      this.#index.clear();
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
    // stopped before it superseded the old packs) is found in its newest, densest pack. A
    // segment without a store time is one this process wrote (`writeSegment`): the newest.
    const newestFirst = [...decoded.keys()].sort((a, b) => {
      const ta = this.#segments.get(a)?.modified ?? "\uffff";
      const tb = this.#segments.get(b)?.modified ?? "\uffff";
      return ta < tb ? 1 : ta > tb ? -1 : a < b ? -1 : 1;
    });
    for (const id of newestFirst) {
      if (superseded.has(id)) continue;
      this.#index.add(decoded.get(id)!);
      this.#inIndex.add(id);
    }
  }

  /**
   * The one writer of index segments (docs/format.md §7, §7.1): encodes a segment naming
   * `packs` at the config's zstd level (§3.5), stores it create-only as `index/<id>`, and adopts
   * it into the loaded index as `loadIndex` would have loaded it (without reading it back).
   * Returns its id.
   *
   * Ordering is the caller's (§10.5, §7.1): call only once every pack named is durable, and,
   * for a superseding segment, every segment holding the new locations of the blobs it takes
   * away. The returned promise resolves once the segment is durable.
   *
   * - `supersedes` makes it a version-2 segment with an admin tag (needs the private key). The
   *   list is closed here as §7.1 requires: every segment an honoured loaded segment supersedes
   *   is named too. Packs may carry `attested` only then.
   * - `dryRun` encodes and names the segment but stores nothing and leaves the index as it is;
   *   given a dry-run store, the segment is counted there (what `--estimate` prices).
   */
  async writeSegment(
    packs: readonly IndexedPack[],
    options: WriteSegmentOptions = {},
  ): Promise<string> {
    const supersedes = options.supersedes === undefined
      ? undefined
      : [...new Set([...options.supersedes, ...this.supersededSegments()])].sort();
    const bytes = encodeIndexSegment(this.keys.indexKey, packs, {
      level: this.config.compression.level,
      ...(supersedes
        ? {
          supersession: {
            supersedes,
            adminTagKey: adminTagKey(
              requirePrivateKey(this.keys, "index segments to supersede them"),
            ),
          },
        }
        : {}),
    });
    const id = sha256Hex(bytes);
    if (options.dryRun instanceof DryRunStorage) {
      await options.dryRun.create(layout.index(id), bytes);
    }
    if (options.dryRun) return id;
    await this.storage.create(layout.index(id), bytes);
    this.#indexLoaded.add(layout.index(id));
    this.#segments.set(id, {
      id,
      packs: packs.map((p) => p.pack),
      supersedes: supersedes ?? [],
      attested: supersedes ? packs.filter((p) => p.attested).map((p) => p.pack) : [],
    });
    if (this.#disk) {
      this.#disk.stage(this.#segments.get(id)!, packs);
      this.#commitToCache(this.#disk, [id]);
    } else await this.#applySegments(new Map([[id, [...packs]]]));
    return id;
  }

  /** Forgets the loaded index and loads it again from the store. */
  async reloadIndex(): Promise<void> {
    if (this.#disk) return await this.loadIndex(); // the cache follows the listing
    this.#index.clear();
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

  /** Skips an object that gc must not do without: a warning, and its name in `undecodable`. */
  #skip(name: string, what: string): void {
    this.#warn(name, what);
    if (!this.undecodable.includes(name)) this.undecodable.push(name);
  }

  /** `snapshots/<id>` objects skipped by `#ownName`: their bytes' SHA-256, their claimed time. */
  #misnamed = new Map<string, { sha: string; time: string }>();

  /**
   * Whether the whole object `bytes`, read from `name`, is what its name says: `<id>` is the
   * SHA-256 of the stored bytes (docs/format.md §2). When not, it is skipped (`#skip`): another
   * object's bytes, swapped, copied or planted under this name, must never be read as the one
   * the name denotes (a swapped manifest would restore the other snapshot).
   */
  #ownName(name: string, bytes: Uint8Array): boolean {
    const sha = sha256Hex(bytes);
    if (sha === idOf(name)) return true;
    const own = name.slice(0, name.indexOf("/") + 1) + sha;
    this.#skip(
      name,
      `holds the bytes of "${own}", not its own (swapped, copied or planted under this name: ` +
        `its name is not the SHA-256 of its bytes); ignored. To repair it, store those bytes ` +
        `as "${own}" unless that object holds them already, then delete "${name}"`,
    );
    return false;
  }

  /**
   * The `index/<id>` and `snapshots/<id>` objects skipped because they cannot be decoded
   * (damaged, or written by a newer format version), by object name, in no order. Also in
   * `warnings`, with what is wrong; unlike those, never cleared, and names stay after the object
   * is repaired or deleted (open the repository again). An object whose name is not the
   * SHA-256 of its bytes (docs/format.md §2) is here too: it decodes, but as another object,
   * and what it references would look dead just the same. A version-2 segment whose admin tag
   * does not verify is not here (it is read for its packs), nor is a stray name outside the
   * layout. Garbage collection refuses to run while this is not empty (host/ops/admin_gate.ts
   * `assertNothingUndecodable`): what such an object references would look dead.
   */
  readonly undecodable: string[] = [];

  /**
   * Every snapshot, oldest first. A manifest that does not decode, or whose name is not the
   * SHA-256 of its bytes (docs/format.md §2), is skipped (`undecodable`).
   */
  async snapshots(): Promise<SnapshotEntry[]> {
    const objects = await this.storage.list(layout.prefixes.snapshot);
    const out: SnapshotEntry[] = [];
    await inBatches(objects, 16, async (o) => {
      if (kindOf(o.name) !== "snapshot") return this.#warn(o.name, "is not a snapshot; ignored");
      try {
        const bytes = await this.storage.read(o.name);
        const manifest = decodeSnapshot(this.keys.indexKey, bytes);
        if (this.#ownName(o.name, bytes)) out.push({ id: idOf(o.name), manifest });
        else this.#misnamed.set(o.name, { sha: sha256Hex(bytes), time: manifest.time });
      } catch (err) {
        if (!isDamage(err)) throw err;
        this.#skip(o.name, `cannot be decoded (${(err as Error).message}); ignored`);
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

  /**
   * Finds a snapshot by `latest`, a full id or a unique id prefix. A ref that only a skipped,
   * mis-named manifest matches (`snapshots`) is refused with what is wrong, never read; so is
   * `latest` when such a manifest claims a later time than every usable one (it would otherwise
   * quietly mean an older snapshot).
   */
  async snapshot(ref: string): Promise<SnapshotEntry> {
    const all = await this.snapshots();
    if (ref === "latest") return this.#latest(all);
    const hits = all.filter((s) => s.id.startsWith(ref.toLowerCase()));
    if (hits.length === 1) return hits[0];
    if (hits.length > 1) {
      throw new TypeError(`snapshot prefix "${ref}" is ambiguous; give more digits`);
    }
    const skipped = [...this.#misnamed].find(([name]) => idOf(name).startsWith(ref.toLowerCase()));
    if (skipped) {
      throw new ObjectNotFound(
        `snapshot "${ref}" cannot be used: ${misnamedText(skipped[0], skipped[1].sha)}; run ` +
          "`permafrost check` to list every such object and how to repair it",
      );
    }
    throw new ObjectNotFound(
      all.length === 0 ? "the repository has no snapshots yet" : `no snapshot "${ref}"`,
    );
  }

  /** `latest` among `all` (oldest first), unless a skipped, mis-named manifest is newer. */
  #latest(all: SnapshotEntry[]): SnapshotEntry {
    const newest = all.at(-1);
    const newer = [...this.#misnamed]
      .filter(([, m]) => !newest || m.time > newest.manifest.time)
      .sort(([, a], [, b]) => a.time < b.time ? 1 : a.time > b.time ? -1 : 0);
    if (newer.length === 0) {
      if (newest) return newest;
      throw new ObjectNotFound("the repository has no snapshots yet");
    }
    const [name, { sha }] = newer[0];
    throw new ObjectNotFound(
      `"latest" cannot be used: the newest snapshot manifest is skipped (${
        misnamedText(name, sha)
      }). Run \`permafrost check\` to list every such object and how to repair it${
        newest
          ? `, or give a snapshot id: the newest usable snapshot is "${newest.id.slice(0, 8)}"`
          : ""
      }`,
    );
  }

  /** The data key of a pack (reads and unseals its header once). */
  async dataKey(pack: string, metadata: boolean): Promise<Uint8Array> {
    requirePrivateKey(this.keys, "pack data");
    let key = this.#dataKeys.get(pack);
    if (!key) {
      const header = await this.readPack(pack, metadata, { offset: 0, length: PACK_HEADER_LENGTH });
      try {
        key = openDataKey(header, this.keys);
      } catch (err) {
        throw withPack(err, pack);
      }
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

/**
 * Reads key object `name`, checking that its name is the SHA-256 of its bytes (docs/format.md
 * §2): `FormatError` when not (changed, or another key object copied under this name).
 */
async function readKeyObject(storage: Storage, name: string): Promise<Uint8Array> {
  const bytes = await storage.read(name);
  const sha = sha256Hex(bytes);
  if (sha !== idOf(name)) {
    throw new FormatError(
      `its name is not the SHA-256 of its bytes (${sha.slice(0, 16)}…): it was changed, or ` +
        "copied under this name",
    );
  }
  return bytes;
}

/**
 * Refuses to create a repository where packs, index segments or snapshots already are but the
 * config is not: a repository whose config was lost. New keys could read none of it, and its
 * key objects would stay beside the new ones; the config must be put back instead
 * (docs/format.md §2: keep a copy of `config` and `keys/<id>` outside the repository).
 */
async function refuseDataWithoutConfig(storage: Storage): Promise<void> {
  const { snapshot, index, pack } = layout.prefixes;
  for (const prefix of [snapshot, index, pack]) {
    const found = (await storage.list(prefix)).find((o) => kindOf(o.name) !== undefined);
    if (!found) continue;
    if (await storage.stat(layout.config()) !== null) {
      // Another init (a first backup's) created it meanwhile and has started writing.
      throw new Deno.errors.AlreadyExists("a repository already exists here");
    }
    throw new ConfigMissing(
      `this location holds repository objects ("${found.name}", ...) but no "config": it is a ` +
        "repository whose config was lost, not an empty location. Put back the copy of " +
        '"config" kept outside the repository (a rebuild needs it too), or init elsewhere',
    );
  }
}

/**
 * `init` lost the race for the config to another `init`: removes this one's key object (best
 * effort) and says what happened, and what is left when the removal failed.
 */
async function lostInit(storage: Storage, keyObject: string): Promise<Error> {
  let winner = "";
  try {
    winner = ` ("${short(decodeConfig(await storage.read(layout.config())).id)}")`;
  } catch {
    // unreadable: the message names no id
  }
  let left: string;
  try {
    await storage.delete(keyObject);
    left = "its key object was removed, so nothing of it is left";
  } catch (err) {
    left = `its key object "${keyObject}" could not be removed (${errorText(err)}); it belongs ` +
      "to no config and opens nothing: delete it";
  }
  return new Deno.errors.AlreadyExists(
    `another init created a repository here${winner} at the same time, so this one did not: ` +
      `${left}. Open that repository with its passphrase, or init another location`,
  );
}

/** Why a key object is skipped: it does not parse (or its name is not its hash). */
function invalidKeyText(err: unknown): string {
  return `is not a valid key object (damaged, or written by a newer Permafrost): ${errorText(err)}`;
}

/** Why a version 2 key object of another repository is skipped (docs/format.md §4.1). */
function foreignKeyText(theirs: string, ours: string): string {
  return `belongs to another repository ("${short(theirs)}"), not this one ("${short(ours)}"): ` +
    "an init that lost a race or was interrupted left it, and it opens nothing here; delete it";
}

/**
 * The error when no key object opens with the passphrase: `WrongPassphrase` naming the key
 * objects tried, or, when none could be tried, `NoUsableKey` naming each and what is wrong.
 */
function noKeyOpens(tried: string[], skipped: { name: string; why: string }[]): Error {
  // In name order, as listed: a local copy's key object, tried first, changes nothing said.
  tried = tried.toSorted();
  skipped = skipped.toSorted((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  if (tried.length === 0 && skipped.length === 0) {
    return new NoUsableKey(
      'the repository has no key objects ("keys/<id>"), so no passphrase can open it: put back ' +
        "the copies you kept (docs/format.md §2)",
    );
  }
  const others = skipped.map((s) => `"${s.name}" ${s.why}`).join("; ");
  if (tried.length > 0) {
    return new WrongPassphrase(
      `the passphrase opens none of the repository's key objects (${
        tried.map((n) => `"${n}"`).join(", ")
      }): it is not this repository's passphrase, or ${
        tried.length === 1 ? "that key object is" : "they are"
      } damaged (compare with the copy you kept, docs/format.md §2)${
        others ? `; skipped: ${others}` : ""
      }`,
    );
  }
  return new NoUsableKey(
    `no key object of this repository can be opened, whatever the passphrase: ${others}. Put ` +
      "back the copy of the repository's key object you kept (docs/format.md §2)",
  );
}

/** What is wrong with the mis-named manifest `name` whose bytes hash to `sha` (§2). */
function misnamedText(name: string, sha: string): string {
  return `"${name}" holds the bytes of snapshot "${sha}", not its own (swapped, copied or ` +
    "planted under this name)";
}

/** The first 8 hex digits of a repository id, as messages show it. */
function short(id: string): string {
  return id.slice(0, 8);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Whether an error says an object's bytes are bad (as opposed to the store failing). */
export function isDamage(err: unknown): boolean {
  return err instanceof Error &&
    (err.name === "FormatError" || err.name === "IntegrityError" || err instanceof RangeError);
}

/**
 * Adds the pack (and blob) to a damage error (`isDamage`: a frame, header or sealed data key
 * that does not open, a malformed header) so the user knows what is damaged; once.
 */
export function withPack(err: unknown, pack: string, blob?: string): unknown {
  if (isDamage(err) && !(err as Error).message.startsWith(`pack "${pack}"`)) {
    const e = err as Error;
    e.message = `pack "${pack}"${blob ? ` (blob "${blob}")` : ""} is damaged: ${e.message}`;
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
