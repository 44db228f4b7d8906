/**
 * What the host and an engine plugin exchange (docs/plugins.md §5.3 "Engine protocol"): the
 * config every engine is started with, the nodes and reports of a walk, the file cache's
 * queries and records, directory marks, and the result of `backup`. The host builds and checks
 * these; an engine builds them with the SDK's walker (`walker.ts`) or by itself.
 *
 * @module
 */

import type { MirrorRef, TreeNode } from "./tree_node.ts";
import type { StorageClass } from "./storage_types.ts";

/** A tree node as an engine builds it; the host validates it (docs/format.md §8). */
export type SourceNode = TreeNode;

/** What the file cache is asked: a file is unchanged when all of these match. */
export interface CacheQuery {
  /** Absolute. */
  path: string;
  size: number;
  /** Nanoseconds since the epoch, decimal, as trees store them. */
  mtime: string;
  ctime: string;
  inode: string;
}

/** A file the engine read, recorded by the host once the snapshot is committed. */
export interface CacheRecord extends CacheQuery {
  /** The blob ids of its content, in order (`[]` for a mirrored file). */
  content: string[];
  /** A mirrored file's object (the `mirror` capability); then `content` is `[]`. */
  mirror?: MirrorRef;
}

/**
 * The file cache's answer for an unchanged file: its blob ids, or, for a mirrored file, its
 * object.
 */
export type CacheHit = string[] | { mirror: MirrorRef };

/**
 * What the directory cache is asked about one listed directory (`cache.dirs`): its `fingerprint`
 * (a hash of what its tree depends on, below), and how many files and subdirectories were kept.
 *
 * The fingerprint covers each kept entry (after filters and walk rules) in name order: name,
 * type, size, mtime and ctime in ns, inode, device, mode, uid, gid, link count and link target.
 * Subdirectories are not in it: their trees are compared once they are walked.
 */
export interface DirQuery {
  /** Absolute. */
  path: string;
  fingerprint: string;
  files: number;
  subdirs: number;
}

/**
 * A directory found unchanged: the tree it had, the tree ids of its subdirectories that tree
 * was built with, and the blob ids of its files, both in name order. The tree may be reused
 * only when the subdirectories' trees come out the same.
 */
export interface DirHit {
  tree: string;
  subtrees: string[];
  files: string[][];
}

/**
 * A directory whose tree this run stored, recorded by the host once the snapshot is committed,
 * unless one of `newest` (the latest mtime and ctime of the directory and its entries, and the
 * latest whole-second one) is too close to the run's start (the racily-clean rule).
 */
export interface DirRecord extends DirHit {
  path: string;
  fingerprint: string;
  newest: string[];
}

/**
 * What the host's `mirror.put` resolves to: the object the file's bytes are now in, or why the
 * file is not backed up (it changed while read, or cannot be read): a warning, not an error.
 */
export type MirrorPut = { ref: MirrorRef } | { skipped: string };

/** An entry not backed up whole, and why (also a warning to the user). */
export interface Skipped {
  path: string;
  reason: string;
}

/** The counts of one walk of the sources. */
export interface WalkStats {
  files: number;
  dirs: number;
  /** Bytes of all files in the snapshot. */
  bytes: number;
  /** Bytes actually read (files not found unchanged in the cache). */
  readBytes: number;
  cachedFiles: number;
}

/**
 * Where a directory's walk begins (`enter`) or ends (`leave`, after its whole subtree) among
 * the chunks of one `blobs.store` call: before the chunk at index `at` (`chunks.length`: after
 * the last). Marks are in order. The host uses them to keep each directory's data in few packs
 * of its own (docs/format.md §7.2); they never change what a snapshot holds.
 */
export interface DirMark {
  at: number;
  edge: "enter" | "leave";
}

/** What an engine's `backup(sources)` resolves to. */
export interface EngineBackupResult {
  /** One node per source, in the order given, each named by the source's base name. */
  nodes: SourceNode[];
  stats: WalkStats;
  /** Entries not backed up whole. */
  skipped: Skipped[];
}

/**
 * The config the host starts every engine with (`ctx.config`; `parseEngineConfig` checks it).
 *
 * - `gear`, `chunker`: the repository's content-defined chunking parameters and its keyed gear
 *   table (256 unsigned 32-bit integers; docs/format.md §3.6, §5). An engine that chunks by
 *   content uses them, so equal files give equal chunks in every snapshot of the repository.
 * - `blobLimit`: the largest blob the format can store (a blob must fit in a pack, which is
 *   smaller than 4 GiB, docs/format.md §6); an engine must not send a longer chunk. Keeping
 *   blobs far smaller keeps memory down: every chunk in flight is held whole.
 * - `filter`: whether the `filter` capability is on; without it the engine asks nothing.
 * - `excludeIfPresent`: file names; a folder (not a source itself) holding one is left out
 *   (`CACHEDIR.TAG` only when it starts with the standard signature, `walk_rules.ts`).
 * - `excludeLargerThan`: regular files larger than this many bytes are left out; absent: none.
 * - `options`: the source's `engine_config` (docs/config.md), as the user wrote it: the engine
 *   checks it, and refuses at start-up a key it does not know.
 */
export interface EngineConfig {
  gear: number[];
  chunker: { min: number; avg: number; max: number };
  blobLimit: number;
  filter: boolean;
  excludeIfPresent: string[];
  excludeLargerThan?: number;
  options: Record<string, unknown>;
}

/**
 * The engine's view of its capability handles, already bound to RPC calls and batched
 * (`connectEngineHost`). The walker talks to the host only through this.
 */
export interface EngineHost {
  /**
   * Stores data chunks; resolves to their blob ids, in order. The chunks are transferred.
   * `marks` says where directories begin and end among them.
   */
  storeChunks(chunks: Uint8Array[], marks: DirMark[]): Promise<string[]>;
  /**
   * Stores one directory's nodes (sorted by `compareNames`) as a tree; resolves to its id.
   * `dir` is the directory's absolute path, where the host reads the entries' extended
   * attributes.
   */
  storeTree(nodes: SourceNode[], dir: string): Promise<string>;
  /** For each query, the content of an unchanged file from the cache, or null. */
  cacheLookup(queries: CacheQuery[]): Promise<(CacheHit | null)[]>;
  /**
   * Mirrors one file (absolute `path`, `rel` to its source, `/`-separated) as one object in
   * `storageClass` (the `mirror` capability, docs/plugins.md §5.2); `size` and `mtime` are what
   * the walk listed, which the host checks the file against after reading it.
   */
  mirrorPut(
    path: string,
    rel: string,
    size: number,
    mtime: string,
    storageClass: StorageClass,
  ): Promise<MirrorPut>;
  /** Remembers a file read in this run (fire and forget; batched). */
  cacheRecord(record: CacheRecord): void;
  /**
   * The directory cache (`cache.dirs`), when the host offers it: for each directory asked about,
   * in order, the previous tree, or null.
   */
  cacheDirs?(queries: DirQuery[]): Promise<(DirHit | null)[]>;
  /** Remembers a directory whose tree this run stored (fire and forget; batched). */
  cacheRecordDir?(record: DirRecord): void;
  /**
   * For each path (relative to `root`, the absolute source path it is under, `/`-separated),
   * whether a filter excludes it; `dirs[i]` says whether `paths[i]` is a folder.
   */
  filterMatch(paths: string[], dirs: boolean[], root: string): Promise<boolean[]>;
  /**
   * Progress: files and bytes done since the last report, and the file being read (absolute),
   * when it changed (fire and forget; throttled).
   */
  progress(files: number, bytes: number, current?: string): void;
  /** A warning about one path (fire and forget). */
  warn(path: string, reason: string): void;
}
