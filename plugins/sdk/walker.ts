/**
 * The walk every engine may use (docs/plugins.md §5.3): turns source trees on disk into tree
 * nodes, cutting each file's bytes with the engine's {@link Splitter} and sending the chunks to
 * the host, and each directory as a tree. It holds no keys: the host computes blob ids,
 * deduplicates, compresses, encrypts and packs.
 *
 * Walk order is depth first, files of a directory before its subdirectories, so packs fill in
 * walk order and a directory's files sit in few packs (docs/format.md §7.2). What a walk leaves
 * out: what the filters exclude (asked once per listed folder), and the walk rules of
 * `walk_rules.ts` (folders holding an `excludeIfPresent` name, files over `excludeLargerThan`);
 * never a source itself.
 *
 * Tuned (docs/bench.md): chunks are sent in batches, a few subdirectories are listed, stat'ed
 * and looked up in the cache ahead of their turn, and the chunk bytes waiting on the host are
 * bounded. A directory listed with the fingerprint it had at the last backup, whose
 * subdirectories' trees come out the same, gets its recorded tree back from the host's
 * directory cache (`cache.dirs`) without its files being looked up or its tree stored.
 *
 * @module
 */

import { createHash } from "node:crypto";
import fs from "node:fs";
import { lstat, type Stat } from "./stat.ts";
import type {
  CacheHit,
  DirHit,
  DirMark,
  DirQuery,
  EngineBackupResult,
  EngineHost,
  Skipped,
  SourceNode,
  WalkStats,
} from "./engine_types.ts";
import { compareNames } from "./names.ts";
import { READ_SIZE, type Splitter } from "./splitter.ts";
import { excludingTag, tooLarge } from "./walk_rules.ts";
import type { MirrorRef } from "./tree_node.ts";
import type { StorageClass } from "./storage_types.ts";
/** Outstanding chunk bytes the engine may have in flight before it waits for the host. */
const MAX_IN_FLIGHT = 16 << 20;
/** A batch of small blobs is sent in one call once it holds this many bytes or blobs. */
const BATCH_BYTES = 4 << 20;
const BATCH_COUNT = 256;
/** A batch is also sent once it holds this many directory marks (a walk of unchanged files). */
const BATCH_MARKS = 2048;
/**
 * Subdirectories listed, stat'ed and looked up in the cache ahead of the one being walked, a
 * block at a time: the block's `cache.dirs` questions go to the host in one message.
 */
const PREFETCH_DIRS = 8;

/** A directory entry that was kept (not filtered out) and stat'ed. */
interface Entry {
  name: string;
  abs: string;
  rel: string;
  st: Stat;
  /** A symlink's target, read when it was listed. */
  target?: string;
}

/**
 * A listed directory: its entries, its files, and the host's cache answer for those files; with
 * the directory cache, its fingerprint and the host's answer for the whole directory.
 */
interface Scan {
  kept: Entry[];
  files: Entry[];
  cached: Promise<(CacheHit | null)[]>;
  dir?: { fingerprint: string; newest: string[]; hit: Promise<DirHit | undefined> };
}

/** Changes whenever what a directory's fingerprint covers, or how it is written, changes. */
const FINGERPRINT_VERSION = 1;

/** A file's content as its node holds it: blob ids, or (`mirror`) `[]` and its object. */
interface FileContent {
  size: number;
  content: string[];
  mirror?: MirrorRef;
}

/** The content of an unchanged file of `size` bytes, from the cache's answer. */
function cachedContent(size: number, hit: CacheHit): FileContent {
  return Array.isArray(hit) ? { size, content: hit } : { size, content: [], mirror: hit.mirror };
}

/** How a walk cuts files and what it leaves out. */
export interface WalkOptions {
  /** A new splitter, for each file read. */
  splitter: () => Splitter;
  /** Whether a filter is attached; without one no `match` calls are made. */
  filter: boolean;
  /** File names whose presence leaves a folder out (`walk_rules.ts`). */
  excludeIfPresent?: readonly string[];
  /** Regular files larger than this many bytes are left out. */
  excludeLargerThan?: number;
  /**
   * Mirror each file as one object through the host (`EngineHost.mirrorPut`, the `sync`
   * engine) instead of cutting it with the splitter: the storage class of a file of `size`
   * bytes.
   */
  mirror?: (size: number) => StorageClass;
}

type Node = SourceNode;

/**
 * Walks `sources` (absolute paths) in order with a new {@link Walker}: the result of an
 * engine's `backup`.
 */
export async function walkSources(
  host: EngineHost,
  sources: string[],
  options: WalkOptions,
): Promise<EngineBackupResult> {
  const walker = new Walker(host, options);
  const nodes: SourceNode[] = [];
  for (const source of sources) nodes.push(await walker.source(source));
  return { nodes, stats: walker.stats, skipped: walker.skipped };
}

/**
 * Walks each source, storing contents and trees through `host`. Returns the source nodes in the
 * order given, the stats and what was skipped. A source that cannot be read at all is an error;
 * anything below it that cannot be read is a warning and a `Skipped` entry.
 */
export class Walker {
  readonly stats: WalkStats = { files: 0, dirs: 0, bytes: 0, readBytes: 0, cachedFiles: 0 };
  readonly skipped: Skipped[] = [];
  #batch: Batch = { chunks: [], bytes: 0, waiters: [], marks: [] };
  #inFlight = 0;
  #inFlightDone: Array<() => void> = [];
  #pending = new Set<Promise<unknown>>();
  #readBuffer = new Uint8Array(READ_SIZE);
  /** Cache hits of the directory being read, by absolute path. */
  #hits = new Map<string, CacheHit>();
  /** Directories scanned ahead of their turn (see `#directory`), by absolute path. */
  #scans = new Map<string, Promise<Scan | undefined>>();
  /** The source being walked: what the filter's paths are relative to. */
  #root = "/";
  /** Files that changed while they were read: their directory is not recorded. */
  #torn = new Set<string>();
  /** Whether directories are looked up as a whole (`cache.dirs`); not for a mirroring walk. */
  #dirCache: boolean;
  /** `cache.dirs` questions not sent yet (`#askDir`). */
  #dirAsks: { query: DirQuery; answer: (hit: Promise<DirHit | null>) => void }[] = [];
  /** Scans that will ask `cache.dirs` and have not asked yet (waiting on their filter answer). */
  #unasked = 0;
  /** A send of `#dirAsks` is queued (`#sendDirAsksSoon`). */
  #sendQueued = false;

  constructor(private host: EngineHost, private options: WalkOptions) {
    this.#dirCache = host.cacheDirs !== undefined && options.mirror === undefined;
  }

  /**
   * Backs up one source path (absolute) and returns its node, named by the path's base name.
   * Sources are walked one at a time: await one before the next.
   */
  async source(path: string): Promise<Node> {
    this.#root = path;
    const st = lstat(path);
    const name = path === "/" ? "root" : path.replace(/\/+$/, "").split("/").pop()!;
    const held = await this.#entry(path, name, "", st);
    if (held === undefined) {
      throw new TypeError(`source "${path}" is not a file, directory or symlink`);
    }
    // The node is observed (`#entry`): the drain throws first when the host failed to store.
    await this.#drain();
    const node = await held.node;
    if (node === undefined) throw new TypeError(`source "${path}" cannot be listed`);
    return node;
  }

  /**
   * Walks one entry. Resolves once it has been read (so the walk moves on without waiting for
   * the host) to a holder whose `node` resolves once the host has stored everything it
   * references; `undefined` when the entry is skipped.
   */
  async #entry(
    abs: string,
    name: string,
    rel: string,
    st: Stat,
    listedTarget?: string,
  ): Promise<Held | undefined> {
    const base = this.#base(name, st);
    if (st.isSymbolicLink()) {
      const target = listedTarget ?? readTarget(abs);
      if (typeof target !== "string") {
        this.#skip(abs, `cannot read symlink: ${message(target.error)}`);
        return undefined;
      }
      return { node: Promise.resolve({ ...base, type: "symlink", target }) };
    }
    if (st.isDirectory()) {
      const tree = await this.#directory(abs, rel, st);
      if (tree === undefined) return undefined;
      this.stats.dirs++;
      return {
        node: observed(tree.id.then((subtree): Node => ({ ...base, type: "dir", subtree }))),
      };
    }
    if (st.isFile()) {
      const hit = this.#hits.get(abs);
      const read = this.options.mirror && hit === undefined
        ? await this.#mirrorFile(abs, rel, st)
        : await this.#file(abs, st, hit);
      if (read === undefined) return undefined;
      return {
        node: observed(read.content.then((file) => file && this.#fileNode(name, st, file))),
      };
    }
    const what = st.isFIFO()
      ? "fifo"
      : st.isSocket()
      ? "socket"
      : st.isDevice()
      ? "device"
      : "special file";
    this.#skip(abs, `is a ${what}; not backed up`);
    return undefined;
  }

  /**
   * Reads a directory: its files first, then its subdirectories depth first. Its tree is
   * stored once every child node is known; the returned holder's `id` resolves to it.
   */
  async #directory(
    abs: string,
    rel: string,
    st: Stat,
  ): Promise<{ id: Promise<string> } | undefined> {
    const prefetched = this.#scans.get(abs);
    this.#scans.delete(abs);
    const scan = await (prefetched ?? this.#scan(abs, rel, st));
    if (scan === undefined) return undefined;
    this.#mark("enter");
    const { kept, files } = scan;
    const cached = await scan.cached;
    const reuse = await scan.dir?.hit;
    const nodes: Promise<Node | undefined>[] = [];
    if (reuse) {
      // Every file is unchanged: counted now, their nodes built only if the tree is not reused
      // (a subdirectory's tree came out different).
      let bytes = 0;
      for (const e of files) bytes += e.st.size;
      this.stats.files += files.length;
      this.stats.cachedFiles += files.length;
      this.stats.bytes += bytes;
      this.host.progress(files.length, bytes, files.at(-1)?.abs);
    } else {
      files.forEach((e, i) => {
        const c = cached[i];
        if (c) this.#hits.set(e.abs, c);
      });
    }
    for (const e of kept) {
      if (e.st.isDirectory() || (reuse && e.st.isFile())) continue;
      const hit = this.#hits.get(e.abs);
      if (hit && e.st.isFile()) {
        // Unchanged file: its node is known now (no read, no awaits: the common case of an
        // incremental backup, 40,000 times per run on the benchmark corpus).
        this.#hits.delete(e.abs);
        this.#counted(e.abs, e.st.size, true);
        nodes.push(Promise.resolve(this.#fileNode(e.name, e.st, cachedContent(e.st.size, hit))));
        continue;
      }
      const held = await this.#entry(e.abs, e.name, e.rel, e.st, e.target);
      this.#hits.delete(e.abs);
      if (held) nodes.push(held.node);
    }
    const subdirs = kept.filter((e) => e.st.isDirectory());
    for (let i = 0; i < subdirs.length; i++) {
      // Scan the next subdirectories ahead, a block at a time (their cache questions go in one
      // message, with the first one's): the host answers while this thread walks the current.
      if (i % PREFETCH_DIRS === 0) {
        for (const next of subdirs.slice(i + 1, i + 1 + PREFETCH_DIRS)) {
          if (!this.#scans.has(next.abs)) {
            this.#scans.set(next.abs, observed(this.#scan(next.abs, next.rel, next.st)));
          }
        }
      }
      const e = subdirs[i];
      const held = await this.#entry(e.abs, e.name, e.rel, e.st);
      if (held) nodes.push(held.node);
    }
    this.#mark("leave");
    const order = new Map(kept.map((e, i) => [e.name, i]));
    const id = Promise.all(nodes).then(async (all) => {
      const list = all.filter((n) => n !== undefined); // mirrored files the host skipped
      // Every entry gave a node (none skipped): only then is the tree a function of the stats.
      const whole = list.length + (reuse ? files.length : 0) === kept.length;
      const subtrees = list.filter((n) => n.type === "dir").map((n) => n.subtree!);
      if (reuse && whole && sameIds(subtrees, reuse.subtrees)) return reuse.tree;
      reuse?.files.forEach((content, i) => {
        const e = files[i];
        list.push(this.#fileNode(e.name, e.st, { size: e.st.size, content }));
      });
      list.sort((a, b) => order.get(a.name)! - order.get(b.name)!);
      const tree = await this.host.storeTree(list, abs);
      if (scan.dir && whole && !files.some((e) => this.#torn.has(e.abs))) {
        this.host.cacheRecordDir!({
          path: abs,
          fingerprint: scan.dir.fingerprint,
          newest: scan.dir.newest,
          tree,
          subtrees,
          files: list.filter((n) => n.type === "file").map((n) => n.content!),
        });
      }
      for (const e of files) this.#torn.delete(e.abs);
      return tree;
    });
    id.catch(() => {}); // observed by the parent (or source())
    this.#pending.add(id);
    id.finally(() => this.#pending.delete(id)).catch(() => {});
    return { id };
  }

  /**
   * Lists a directory (filtered), stats its entries and asks the host's cache about its files.
   * The listing and stats happen now; `cached` resolves when the host answers. `undefined`
   * when the directory cannot be listed (with a warning) or a walk rule leaves it out (`rel`
   * is "" for a source, which no rule leaves out).
   */
  async #scan(abs: string, rel: string, st: Stat): Promise<Scan | undefined> {
    if (!this.#dirCache) return await this.#list(abs, rel, st);
    // Counted until it asks (or ends without asking), so its siblings' questions wait for it.
    this.#unasked++;
    const state = { asking: true };
    try {
      return await this.#list(abs, rel, st, state);
    } finally {
      if (state.asking) {
        this.#unasked--;
        this.#sendDirAsksSoon();
      }
    }
  }

  /** `#scan`'s work; `state.asking` turns false as it asks `cache.dirs`. */
  async #list(
    abs: string,
    rel: string,
    st: Stat,
    state = { asking: false },
  ): Promise<Scan | undefined> {
    let listed: { name: string; dir: boolean }[];
    try {
      // Deno's own listing: `node:fs` sorts it and wraps each entry, and it is sorted below.
      listed = Array.from(Deno.readDirSync(abs), (d) => ({ name: d.name, dir: d.isDirectory }));
    } catch (err) {
      this.#skip(abs, `cannot list directory: ${message(err)}`);
      return undefined;
    }
    const tags = this.options.excludeIfPresent;
    if (rel !== "" && tags && tags.length > 0) {
      if (excludingTag(abs, listed.map((e) => e.name), tags) !== undefined) return undefined;
    }
    listed.sort((a, b) => compareNames(a.name, b.name));
    const named = listed.map((e) => ({ ...e, rel: rel === "" ? e.name : `${rel}/${e.name}` }));
    // Filter on the listing, before anything else touches an excluded entry.
    const wanted = this.options.filter ? await this.#filter(named) : named;
    const larger = this.options.excludeLargerThan;
    const kept: Entry[] = [];
    for (const { name, rel: childRel } of wanted) {
      const childAbs = abs === "/" ? `/${name}` : `${abs}/${name}`;
      try {
        const st = lstat(childAbs);
        if (st.isFile() && tooLarge(st.size, larger)) continue;
        const entry: Entry = { name, abs: childAbs, rel: childRel, st };
        if (st.isSymbolicLink() && this.#dirCache) {
          // Read now, for the fingerprint; one that cannot be read is skipped by `#entry`.
          const target = readTarget(childAbs);
          if (typeof target === "string") entry.target = target;
        }
        kept.push(entry);
      } catch (err) {
        const reason = name.includes("\uFFFD")
          ? "name is not valid UTF-8, which Deno cannot address"
          : `cannot stat: ${message(err)}`;
        this.#skip(childAbs, reason);
      }
    }

    const files = kept.filter((e) => e.st.isFile());
    const queries = files.map((e) => ({
      path: e.abs,
      size: Number(e.st.size),
      mtime: e.st.mtimeNs.toString(),
      ctime: e.st.ctimeNs.toString(),
      inode: e.st.ino.toString(),
    }));
    if (!this.#dirCache) {
      const cached = files.length === 0 ? Promise.resolve([]) : this.host.cacheLookup(queries);
      cached.catch(() => {}); // awaited by #directory
      return { kept, files, cached };
    }
    // The whole directory first: its files are asked about only when it changed.
    const fingerprint = fingerprintOf(kept);
    const subdirs = kept.filter((e) => e.st.isDirectory()).length;
    state.asking = false;
    this.#unasked--;
    const hit = this.#askDir({ path: abs, fingerprint, files: files.length, subdirs })
      .then((h) => h ?? undefined);
    const cached = hit.then((h) =>
      h ? h.files : files.length === 0 ? [] : this.host.cacheLookup(queries)
    );
    hit.catch(() => {}); // awaited by #directory
    cached.catch(() => {});
    return { kept, files, cached, dir: { fingerprint, newest: newestTimes(st, kept), hit } };
  }

  /**
   * Asks the host's directory cache about one directory. The questions of the scans under way
   * (a block of siblings) are sent in one `cache.dirs` call, once none of them is still waiting
   * on its filter answer: those answers arrive one message at a time. Never a deadlock: a scan
   * waits on nothing but its listing and the filter before it asks.
   */
  #askDir(query: DirQuery): Promise<DirHit | null> {
    return new Promise((answer) => {
      this.#dirAsks.push({ query, answer });
      this.#sendDirAsksSoon();
    });
  }

  /** Sends the questions at the end of this turn, unless a scan is still to ask its own. */
  #sendDirAsksSoon(): void {
    if (this.#sendQueued || this.#unasked > 0 || this.#dirAsks.length === 0) return;
    this.#sendQueued = true;
    queueMicrotask(() => {
      this.#sendQueued = false;
      // A scan started meanwhile (the next block) sends them once it has asked.
      if (this.#unasked === 0) this.#sendDirAsks();
    });
  }

  #sendDirAsks(): void {
    if (this.#dirAsks.length === 0) return;
    const asks = this.#dirAsks;
    this.#dirAsks = [];
    const hits = this.host.cacheDirs!(asks.map((a) => a.query));
    hits.catch(() => {}); // each ask's promise carries the failure
    asks.forEach((a, i) => a.answer(hits.then((all) => all[i] ?? null)));
  }

  async #filter<T extends { rel: string; dir: boolean }>(entries: T[]): Promise<T[]> {
    if (entries.length === 0) return entries;
    const excluded = await this.host.filterMatch(
      entries.map((e) => e.rel),
      entries.map((e) => e.dir),
      this.#root,
    );
    return entries.filter((_, i) => !excluded[i]);
  }

  #base(name: string, st: Stat) {
    return {
      name,
      mode: st.mode & 0o7777,
      mtime: st.mtimeNs.toString(),
      ctime: st.ctimeNs.toString(),
      uid: Number(st.uid),
      gid: Number(st.gid),
    };
  }

  /**
   * Counts one file done (read, or found unchanged in the cache). The bytes of a file read
   * were reported as they were read.
   */
  #counted(abs: string, size: number, cached: boolean): void {
    this.stats.files++;
    if (cached) this.stats.cachedFiles++;
    this.stats.bytes += size;
    this.host.progress(1, cached ? size : 0, abs);
  }

  #fileNode(name: string, st: Stat, file: FileContent): Node {
    const node: Node = { ...this.#base(name, st), type: "file", ...file };
    if (st.nlink > 1) {
      node.inode = st.ino.toString();
      node.dev = st.dev.toString();
      node.links = Number(st.nlink);
    }
    return node;
  }

  /**
   * Reads one file and queues its chunks. Resolves once the file is read (waiting for room when
   * too many bytes are in flight) to a holder whose `content` resolves once the host has taken
   * every chunk (a holder, since promises do not nest). `undefined` when the file cannot be
   * read (a warning, not an error).
   */
  async #file(
    abs: string,
    st: Stat,
    cached: CacheHit | undefined,
  ): Promise<{ content: Promise<FileContent> } | undefined> {
    if (cached) {
      this.#counted(abs, st.size, true);
      return { content: Promise.resolve(cachedContent(st.size, cached)) };
    }
    let fd: number;
    try {
      // Without blocking: a FIFO put in the file's place since it was listed is not waited on.
      fd = fs.openSync(abs, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    } catch (err) {
      this.#skip(abs, `cannot open: ${message(err)}`);
      return undefined;
    }
    if (!fs.fstatSync(fd).isFile()) {
      fs.closeSync(fd);
      this.#skip(abs, "is no longer a regular file (replaced since it was listed); not backed up");
      return undefined;
    }
    const parts: Promise<string>[] = [];
    let size = 0;
    let changed = false;
    try {
      const chunker = this.options.splitter();
      // One read buffer for the whole walk: the splitter copies what it keeps.
      const buf = this.#readBuffer;
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        size += n;
        this.host.progress(0, n, abs);
        const chunks = chunker.push(n === buf.length ? buf : buf.subarray(0, n));
        for (const c of chunks) parts.push((await this.#send(c)).id);
      }
      for (const c of chunker.finish()) parts.push((await this.#send(c)).id);
      // Compare with what was listed: a file written to while it was read may be torn.
      const after = lstat(abs);
      if (after.size !== st.size || after.mtimeNs !== st.mtimeNs || after.ctimeNs !== st.ctimeNs) {
        changed = true;
      }
      if (size !== st.size) changed = true; // its node would not match its listed size
      if (changed) this.#torn.add(abs);
    } catch (err) {
      this.#skip(abs, `cannot read: ${message(err)}`);
      return undefined;
    } finally {
      fs.closeSync(fd);
    }
    if (changed) {
      this.host.warn(
        abs,
        "changed while it was being read; the snapshot may hold a mix of old and new",
      );
    }
    this.stats.readBytes += size;
    this.#counted(abs, size, false);
    const mtime = st.mtimeNs.toString(), ctime = st.ctimeNs.toString(), inode = st.ino.toString();
    return {
      content: Promise.all(parts).then((content) => {
        // A file that changed while read is not cached, so the next backup reads it again.
        if (!changed) this.host.cacheRecord({ path: abs, size, mtime, ctime, inode, content });
        return { size, content };
      }),
    };
  }

  /**
   * Mirrors one file through the host (`WalkOptions.mirror`), first waiting while too many
   * bytes are in flight. Resolves once the upload is under way to a holder whose `content`
   * resolves once the host has stored the file, or to `undefined` when the host skipped it (it
   * changed while read, or cannot be read: a warning).
   */
  async #mirrorFile(
    abs: string,
    rel: string,
    st: Stat,
  ): Promise<{ content: Promise<FileContent | undefined> }> {
    const size = st.size;
    while (this.#inFlight > 0 && this.#inFlight + size > MAX_IN_FLIGHT) {
      await new Promise<void>((resolve) => this.#inFlightDone.push(resolve));
    }
    this.#inFlight += size;
    const mtime = st.mtimeNs.toString(), ctime = st.ctimeNs.toString(), inode = st.ino.toString();
    const storageClass = this.options.mirror!(size);
    const put = this.host.mirrorPut(abs, rel, size, mtime, storageClass).then(
      (done): FileContent | undefined => {
        if ("skipped" in done) {
          this.#skip(abs, done.skipped);
          return undefined;
        }
        this.stats.readBytes += size;
        this.#counted(abs, size, false);
        this.host.progress(0, size, abs);
        const record = { path: abs, size, mtime, ctime, inode, content: [], mirror: done.ref };
        this.host.cacheRecord(record);
        return { size, content: [], mirror: done.ref };
      },
    ).finally(() => {
      this.#inFlight -= size;
      this.#pending.delete(put);
      for (const wake of this.#inFlightDone.splice(0)) wake();
    });
    this.#pending.add(put);
    return { content: observed(put) };
  }

  /**
   * Queues one chunk, first waiting while too many bytes are in flight. Resolves (quickly) to a
   * holder of the promise of the chunk's blob id (a holder, since promises do not nest).
   */
  async #send(chunk: Uint8Array): Promise<{ id: Promise<string> }> {
    while (this.#inFlight > 0 && this.#inFlight + chunk.length > MAX_IN_FLIGHT) {
      const wait = new Promise<void>((resolve) => this.#inFlightDone.push(resolve));
      this.#flushBatch();
      await wait;
    }
    this.#inFlight += chunk.length;
    const b = this.#batch;
    const id = new Promise<string>((resolve, reject) =>
      b.waiters.push({ index: b.chunks.length, resolve, reject })
    );
    id.catch(() => {}); // observed by the file's Promise.all; avoid an unhandled rejection here
    b.chunks.push(chunk);
    b.bytes += chunk.length;
    if (b.bytes >= BATCH_BYTES || b.chunks.length >= BATCH_COUNT) this.#flushBatch();
    return { id };
  }

  /** Marks where a directory's walk begins or ends, among the chunks sent (see `DirMark`). */
  #mark(edge: DirMark["edge"]): void {
    if (this.options.mirror) return; // no packs to place
    const b = this.#batch;
    b.marks.push({ at: b.chunks.length, edge });
    if (b.marks.length >= BATCH_MARKS) this.#flushBatch();
  }

  #flushBatch(): Promise<void> {
    const b = this.#batch;
    if (b.chunks.length === 0 && b.marks.length === 0) return Promise.resolve();
    this.#batch = { chunks: [], bytes: 0, waiters: [], marks: [] };
    const bytes = b.bytes;
    const call = this.host.storeChunks(b.chunks, b.marks).then(
      (ids) => b.waiters.forEach((w) => w.resolve(ids[w.index])),
      (err) => b.waiters.forEach((w) => w.reject(err)),
    ).finally(() => {
      this.#inFlight -= bytes;
      this.#pending.delete(call);
      for (const wake of this.#inFlightDone.splice(0)) wake();
    });
    this.#pending.add(call);
    return call;
  }

  async #drain(): Promise<void> {
    await this.#flushBatch();
    await Promise.all([...this.#pending]);
  }

  #skip(path: string, reason: string): void {
    this.skipped.push({ path, reason });
    this.host.warn(path, reason);
  }
}

/**
 * `promise`, marked as observed. The walk goes on reading (awaiting the host) while an entry's
 * node waits for its parent's `Promise.all`; if the host fails to store meanwhile (a full disk)
 * that node rejects first, and unobserved, its rejection would crash the worker with a stack
 * trace instead of reaching the host as the walk's error.
 */
function observed<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

/** A walked entry whose node is complete once the host has stored what it references. */
interface Held {
  /** `undefined` when the host skipped a mirrored file. */
  node: Promise<Node | undefined>;
}

/** Chunks waiting to be sent in one `storeChunks` call, with the directory marks among them. */
interface Batch {
  chunks: Uint8Array[];
  bytes: number;
  waiters: Waiter[];
  marks: DirMark[];
}

interface Waiter {
  index: number;
  resolve: (id: string) => void;
  reject: (err: unknown) => void;
}

/** A symlink's target, or why it cannot be read. */
function readTarget(abs: string): string | { error: unknown } {
  try {
    return fs.readlinkSync(abs);
  } catch (error) {
    return { error };
  }
}

/** Whether two lists of ids are equal. */
function sameIds(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

/**
 * The fingerprint of a directory's kept entries (`DirQuery`): SHA-256 of everything their nodes
 * and the file cache's key depend on, in name order. Subdirectories' trees are compared apart.
 */
function fingerprintOf(kept: Entry[]): string {
  const rows = kept.map(({ name, st, target }) => [
    name,
    st.mode,
    st.size,
    st.mtimeNs,
    st.ctimeNs,
    st.ino,
    st.dev,
    st.uid,
    st.gid,
    st.nlink,
    target ?? null,
  ]);
  return createHash("sha256").update(JSON.stringify([FINGERPRINT_VERSION, rows])).digest("hex");
}

/**
 * The latest mtime and ctime (ns, decimal) of the directory `st` and its entries, and the
 * latest whole-second one (which gets the file cache's coarse margin), when there is one.
 */
function newestTimes(st: Stat, kept: Entry[]): string[] {
  let fine = st.mtimeNs, coarse: string | undefined;
  const see = (t: string) => {
    if (later(t, fine)) fine = t;
    if (t.endsWith("000000000") && (coarse === undefined || later(t, coarse))) coarse = t;
  };
  see(st.mtimeNs);
  see(st.ctimeNs);
  for (const e of kept) {
    see(e.st.mtimeNs);
    see(e.st.ctimeNs);
  }
  return coarse === undefined ? [fine] : [fine, coarse];
}

/** Whether decimal time `a` is later than `b` (integers, either may be negative). */
function later(a: string, b: string): boolean {
  const na = a.startsWith("-"), nb = b.startsWith("-");
  if (na !== nb) return nb;
  if (na) return later(b.slice(1), a.slice(1));
  return a.length !== b.length ? a.length > b.length : a > b;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
