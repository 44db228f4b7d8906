/**
 * Engine `dedup`: content-defined chunking (FastCDC) of every file, with the host deduplicating
 * by keyed chunk id. Runs in a worker that may read only its source paths and reach nothing else
 * (plugin.json). Methods: `backup(sources) -> { nodes, stats, skipped }`.
 *
 * @module
 */

import { servePlugin } from "../../sdk/mod.ts";
import type { ChunkerParams } from "./fastcdc.ts";
import type { CacheRecord, EngineHost, SourceNode } from "./types.ts";
import { Walker } from "./walker.ts";

/** The engine's config, set by the host (host/ops/backup.ts). */
export interface DedupConfig {
  gear: number[];
  chunker: ChunkerParams;
  filter: boolean;
}

const RECORD_BATCH = 512;
const PROGRESS_EVERY_MS = 200;

servePlugin((ctx) => {
  const config = ctx.config as DedupConfig;
  const blobs = ctx.capability("blobs");
  const trees = ctx.capability("trees");
  const cache = ctx.capability("cache");
  const report = ctx.capability("report");
  const filter = config.filter ? ctx.capability("filter") : undefined;

  let records: CacheRecord[] = [];
  let files = 0, bytes = 0, last = 0;
  const flushRecords = () => {
    if (records.length === 0) return Promise.resolve();
    const batch = records;
    records = [];
    return cache.call("record", batch);
  };
  const flushProgress = () => {
    if (files === 0 && bytes === 0) return Promise.resolve();
    const p = report.call("progress", files, bytes);
    files = bytes = 0;
    last = Date.now();
    return p;
  };

  const host: EngineHost = {
    storeChunks: (chunks, marks) => blobs.call<string[]>("store", chunks, marks),
    storeTree: (nodes: SourceNode[], dir: string) => trees.call<string>("store", nodes, dir),
    cacheLookup: (queries) => cache.call<(string[] | null)[]>("lookup", queries),
    cacheRecord: (record) => {
      records.push(record);
      if (records.length >= RECORD_BATCH) flushRecords();
    },
    filterMatch: (paths, dirs) =>
      filter
        ? filter.call<boolean[]>("match", paths, dirs)
        : Promise.resolve(paths.map(() => false)),
    progress: (f, b) => {
      files += f;
      bytes += b;
      if (Date.now() - last >= PROGRESS_EVERY_MS) flushProgress();
    },
    warn: (path, reason) => void report.call("warn", path, reason),
  };

  return {
    /** Backs up `sources` (absolute paths); returns one node per source, in order. */
    async backup(sources: string[]) {
      const walker = new Walker(host, {
        gear: Uint32Array.from(config.gear),
        chunker: config.chunker,
        filter: config.filter,
      });
      const nodes: SourceNode[] = [];
      for (const source of sources) nodes.push(await walker.source(source));
      await flushRecords();
      await flushProgress();
      return { nodes, stats: walker.stats, skipped: walker.skipped };
    },
  };
});
