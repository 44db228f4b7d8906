/**
 * What the dedup engine exchanges with the host (docs/plugins.md "engine capabilities").
 *
 * @module
 */

import type { TreeNode } from "../../sdk/mod.ts";

/** A tree node as built by the engine; the host validates it (host/repository/tree.ts). */
export type SourceNode = TreeNode;

/** What the file cache is asked: a file is unchanged when all of these match. */
export interface CacheQuery {
  path: string;
  size: number;
  mtime: string;
  ctime: string;
  inode: string;
}

/** A file the engine read, recorded by the host once the snapshot is committed. */
export interface CacheRecord extends CacheQuery {
  content: string[];
}

export interface Skipped {
  path: string;
  reason: string;
}

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
 * the chunks of one `storeChunks` call: before the chunk at index `at` (`chunks.length`: after
 * the last). Marks are in order. The host uses them to keep each directory's data in few packs
 * of its own (docs/format.md §7.2); they never change what a snapshot holds.
 */
export interface DirMark {
  at: number;
  edge: "enter" | "leave";
}

/** The engine's view of its capability handles, already bound to RPC calls. */
export interface EngineHost {
  /**
   * Stores data chunks; resolves to their blob ids, in order. The chunks are transferred.
   * `marks` says where directories begin and end among them.
   */
  storeChunks(chunks: Uint8Array[], marks: DirMark[]): Promise<string[]>;
  /**
   * Stores one directory's nodes (sorted by UTF-8 name) as a tree; resolves to its id. `dir` is
   * the directory's absolute path, where the host reads the entries' extended attributes.
   */
  storeTree(nodes: SourceNode[], dir: string): Promise<string>;
  /** For each query, the content of an unchanged file from the cache, or null. */
  cacheLookup(queries: CacheQuery[]): Promise<(string[] | null)[]>;
  /** Remembers a file read in this run (fire and forget). */
  cacheRecord(record: CacheRecord): void;
  /** For each path (relative to the source root), whether the filter excludes it. */
  filterMatch(paths: string[], dirs: boolean[]): Promise<boolean[]>;
  /** Progress: files and bytes done since the last report (fire and forget). */
  progress(files: number, bytes: number): void;
  /** A warning about one path (fire and forget). */
  warn(path: string, reason: string): void;
}
