/**
 * An engine's capability handles bound into an {@link EngineHost} (docs/plugins.md §5.3): cache
 * records are sent in batches, progress at most every 200 ms, warnings without waiting.
 *
 * @module
 */

import type {
  CacheHit,
  CacheRecord,
  DirHit,
  DirRecord,
  EngineConfig,
  EngineHost,
  MirrorPut,
  SourceNode,
} from "./engine_types.ts";
import type { PluginContext } from "./plugin.ts";

/** Cache records sent in one `cache.record` call. */
const RECORD_BATCH = 512;
/** Directory records sent in one `cache.recordDirs` call. */
const DIR_RECORD_BATCH = 128;
/** Progress is sent at most this often. */
const PROGRESS_EVERY_MS = 200;

/**
 * The host as an engine sees it, from the capabilities in `ctx`; `flush` sends what is batched
 * (call it before `backup` resolves) and rejects with the first failure of a call nobody awaited
 * (cache records, progress, warnings), so that it reaches the host as the engine's error rather
 * than as an uncaught rejection that crashes the worker. Without `config.filter`, `filterMatch`
 * keeps everything and asks nothing.
 */
export function connectEngineHost(
  ctx: PluginContext,
  config: EngineConfig,
): { host: EngineHost; flush(): Promise<void> } {
  const trees = ctx.capability("trees");
  const cache = ctx.capability("cache");
  const report = ctx.capability("report");
  const filter = config.filter ? ctx.capability("filter") : undefined;

  let records: CacheRecord[] = [];
  let files = 0, bytes = 0, last = 0;
  let current: string | undefined, sent: string | undefined;
  /** The calls sent and not awaited: observed here, their first failure thrown by `flush`. */
  let unawaited: Promise<void> = Promise.resolve();
  const track = (call: Promise<unknown>) => {
    unawaited = Promise.all([unawaited, call]).then(() => {});
    unawaited.catch(() => {});
  };
  const flushRecords = () => {
    if (records.length === 0) return;
    const batch = records;
    records = [];
    track(cache.call("record", batch));
  };
  let dirRecords: DirRecord[] = [];
  const flushDirRecords = () => {
    if (dirRecords.length === 0) return;
    const batch = dirRecords;
    dirRecords = [];
    track(cache.call("recordDirs", batch));
  };
  const flushProgress = () => {
    if (files === 0 && bytes === 0 && current === sent) return;
    track(report.call("progress", files, bytes, current));
    files = bytes = 0;
    sent = current;
    last = Date.now();
  };

  const host: EngineHost = {
    // Asked for only by an engine that stores blobs (a mirroring one has no `blobs`).
    storeChunks: (chunks, marks) => ctx.capability("blobs").call<string[]>("store", chunks, marks),
    storeTree: (nodes: SourceNode[], dir: string) => trees.call<string>("store", nodes, dir),
    cacheLookup: (queries) => cache.call<(CacheHit | null)[]>("lookup", queries),
    // Asked for only by an engine that mirrors (declares the `mirror` capability).
    mirrorPut: (path, rel, size, mtime, storageClass) =>
      ctx.capability("mirror").call<MirrorPut>("put", path, rel, size, mtime, storageClass),
    cacheRecord: (record) => {
      records.push(record);
      if (records.length >= RECORD_BATCH) flushRecords();
    },
    cacheDirs: (queries) => cache.call<(DirHit | null)[]>("dirs", queries),
    cacheRecordDir: (record) => {
      dirRecords.push(record);
      if (dirRecords.length >= DIR_RECORD_BATCH) flushDirRecords();
    },
    filterMatch: (paths, dirs, root) =>
      filter
        ? filter.call<boolean[]>("match", paths, dirs, root)
        : Promise.resolve(paths.map(() => false)),
    progress: (f, b, path) => {
      files += f;
      bytes += b;
      if (path !== undefined) current = path;
      if (Date.now() - last >= PROGRESS_EVERY_MS) flushProgress();
    },
    warn: (path, reason) => track(report.call("warn", path, reason)),
  };
  return {
    host,
    flush: async () => {
      flushRecords();
      flushDirRecords();
      flushProgress();
      await unawaited;
    },
  };
}
