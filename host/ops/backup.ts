/**
 * `backup`: runs an engine plugin over the source paths, stores what is new, and commits a
 * snapshot. Works with an ingest key: it only creates objects and never reads data back.
 *
 * The engine is any built-in engine plugin (`dedup` unless named), started with the config every
 * engine gets and offered the capabilities of docs/plugins.md §5.2-§5.3; the filter plugins the
 * user asked for run behind its one `filter` capability (`backup_filters.ts`). The host knows no
 * engine's modules: it validates and stores what the engine sends.
 *
 * Commit order (docs/format.md "Write ordering"): every pack, then the index segments naming
 * them, then the snapshot details blob (itself in a durable metadata pack), and only then the
 * snapshot manifest. A run killed at any point leaves no snapshot; a rerun reuses whatever was
 * indexed (the file cache is written last, after the snapshot). The run deduplicates only
 * against packs that a listing of `packs/` at its start shows stored, at their length, and whose
 * index records agree (`dedup_trust.ts`); anything else it stores again. Just before the
 * manifest, the index is loaded and `packs/` listed again: a garbage collection that retired or
 * deleted packs the run reused or wrote while it ran fails the backup before it commits
 * anything (`reuse_guard.ts`); a manifest written long after that check (the process was
 * paused) is followed by one more listing, and the backup fails if a pack it needs went.
 *
 * @module
 */

import { createHmac } from "node:crypto";
import { hostname, userInfo } from "node:os";
import { dirname, join } from "node:path";
import { sha256Hex } from "../crypto/hash.ts";
import { type FileCache, openFileCache } from "../cache/file_cache.ts";
import { layout } from "../repository/layout.ts";
import { IndexOverlay, PackUploader, type UploadStats } from "../repository/pack_uploader.ts";
import type { Repository, SnapshotEntry } from "../repository/repository.ts";
import { encodeDetails, encodeSnapshot, type SnapshotManifest } from "../repository/snapshot.ts";
import { compareNames, encodeTree, type TreeNode, treeOf } from "../repository/tree.ts";
import { DryRunStorage } from "../storage/dry_run.ts";
import type { ObjectInfo, Storage } from "../storage/storage.ts";
import { type CapabilityImpl, startPlugin } from "../plugin/sandbox.ts";
import { requirePlugin } from "../plugin/registry.ts";
import type {
  CacheHit,
  CacheQuery,
  CacheRecord,
  DirHit,
  DirQuery,
  DirRecord,
  EngineBackupResult,
  Skipped,
  SourceNode,
  WalkStats,
} from "../../plugins/sdk/engine_types.ts";
import { CompressorPool } from "../repository/compressor.ts";
import { trustedIndex } from "./dedup_trust.ts";
import { ReuseGuard } from "./reuse_guard.ts";
import { BackupXattrs } from "./backup_xattrs.ts";
import { checkSources, sameList } from "./backup_sources.ts";
import { dirMarks } from "./dir_marks.ts";
import { type OnProgress, ProgressCounter } from "./progress.ts";
import { sourceTotals } from "./source_totals.ts";
import { BackupFilters, type SourceFilters } from "./backup_filters.ts";
import { engineConfig } from "./engine_config.ts";
import { type Finding, Protection, protects } from "./protection.ts";
import { ledgerFile } from "../cache/protection_ledger.ts";
import { useIndexCache } from "../cache/index_cache.ts";
import { MirrorSink, type MirrorStats } from "./mirror_sink.ts";
import { writeMirrorManifests } from "./mirror_manifest.ts";
import type { StorageClass } from "../storage/storage.ts";

/** The engine a backup runs unless told otherwise. */
export const DEFAULT_ENGINE = "dedup";

/** What to back up and how; what to leave out is `SourceFilters`' (`backup_filters.ts`). */
export interface BackupOptions extends SourceFilters {
  paths: string[];
  tags?: string[];
  /** The engine plugin, a built-in's name (`DEFAULT_ENGINE` unless given). */
  engine?: string;
  /** The engine's own options (a source's `engine_config`), which the engine checks. */
  engineOptions?: Record<string, unknown>;
  /**
   * Never-change globs (gitignore-style, relative to each source): files to protect
   * (`protection.ts`); under the `worm` engine every file is protected.
   */
  neverChange?: string[];
  /** Record changed protected files as new originals, and forget vanished ones. */
  acceptChanges?: boolean;
  dryRun?: boolean;
  /** Recorded as the snapshot's host; defaults to this machine's host name. */
  host?: string;
  /** Folder for the per-client cache; `undefined` disables it. */
  cacheDir?: string;
  /** Bytes from which a directory gets data packs of its own (docs/format.md §7.2). */
  localityFloor?: number;
  /**
   * Progress (`progress.ts`): files and bytes as the engine reads them, the file being read,
   * entries not backed up whole so far; totals once a walk of the sources' sizes, started with
   * the engine, has ended (only run when this is given).
   */
  onProgress?: OnProgress;
  onWarning?: (path: string, reason: string) => void;
  /** The wall clock in ms (tests move it; default `Date.now`). */
  clock?: () => number;
}

export interface BackupResult {
  /** The new snapshot's id; `undefined` for a dry run. */
  id?: string;
  manifest: SnapshotManifest;
  skipped: Skipped[];
  upload: UploadStats;
  walk: WalkStats;
  dryRun: boolean;
  /** Protected files that changed or vanished (docs/engines.md), also in the details. */
  findings: Finding[];
  /**
   * A dry run's objects that would have been created, with their sizes (what `--estimate`
   * prices); the snapshot manifest is not among them, as a dry run does not encode it.
   */
  written?: ObjectInfo[];
  /** A `sync` run's mirrored files: uploaded, reused (`mirror_sink.ts`). */
  mirror?: MirrorStats;
}

/** Backs up `options.paths` into `repo` and commits a snapshot. */
export async function backup(repo: Repository, options: BackupOptions): Promise<BackupResult> {
  const run = await startRun(repo, options);
  try {
    const walk = await walkSources(run);
    const findings = run.protection?.findings() ?? [];
    for (const glob of run.protection?.unmatchedGlobs() ?? []) {
      options.onWarning?.(glob, "(a never-change glob) matched no file of this backup");
    }
    const manifest = await storeDetails(run, walk, findings);
    const id = run.dryRun ? undefined : await commitSnapshot(run, manifest);
    run.progress.finish(walk.stats.files, walk.stats.bytes);
    return {
      id,
      manifest,
      findings,
      skipped: walk.skipped,
      upload: run.uploader.stats,
      walk: walk.stats,
      dryRun: run.dryRun,
      ...(run.storage instanceof DryRunStorage ? { written: run.storage.created } : {}),
      ...(run.mirror
        ? {
          mirror: {
            ...run.mirror.stats(),
            ...(run.dryRun ? { replaced: await run.mirror.replaced() } : {}),
          },
        }
        : {}),
    };
  } finally {
    for (const p of run.plugins) await p.close();
    await run.uploader.close();
    run.compressors.close();
    run.cache?.close();
  }
}

/** Something a run started and closes when it ends (a plugin, the filters). */
interface Closable {
  close(): Promise<void>;
}

/** What one backup run works with, from its start to its commit. */
interface BackupRun {
  repo: Repository;
  options: BackupOptions;
  /** The absolute source paths (`checkSources`). */
  paths: string[];
  /** The engine's name, as the manifest records it. */
  engine: string;
  /** When the run began, before any file was read: the file cache's racy limit. */
  startedAt: number;
  dryRun: boolean;
  /** Where packs and the manifest go: the repository's store, or a dry run's. */
  storage: Storage;
  host: string;
  /** The latest snapshot of the same host and paths. */
  parent?: SnapshotEntry;
  /** Absent for a dry run, which commits nothing. */
  guard?: ReuseGuard;
  compressors: CompressorPool;
  uploader: PackUploader;
  cache?: FileCache;
  /** The protected files' checks, when the run protects any (`protection.ts`). */
  protection?: Protection;
  /** Plugins started, closed when the run ends. */
  plugins: Closable[];
  progress: ProgressCounter;
  /** The mirror, once an engine with the `mirror` capability opened it (`mirror_sink.ts`). */
  mirror?: MirrorSink;
}

/** What the walk of the sources gave: the root tree, and what was skipped or not kept. */
interface Walk {
  root: string;
  stats: WalkStats;
  /** What the engine skipped, and the extended attributes not kept. */
  skipped: Skipped[];
}

/**
 * Loads the index and the snapshots and sets up the run: its guard, uploader and file cache.
 * Owns nothing yet that needs closing when it throws.
 */
async function startRun(repo: Repository, options: BackupOptions): Promise<BackupRun> {
  const progress = new ProgressCounter(options.dryRun ? "dry-run" : "backup", options.onProgress);
  const engine = options.engine ?? DEFAULT_ENGINE;
  requirePlugin("engine", engine); // an engine that is not installed: refused before anything
  const paths = checkSources(options.paths);
  const startedAt = Date.now(); // before any file is read: the file cache's racy limit
  const dryRun = options.dryRun === true;
  const storage = dryRun ? new DryRunStorage(repo.storage) : repo.storage;
  // Dedup lookups go to the index cache: the run's memory does not grow with the repository.
  if (options.cacheDir) useIndexCache(repo, options.cacheDir);
  await repo.loadIndex();
  const snapshots = await repo.snapshots();
  const host = options.host ?? hostname();
  const parent = snapshots.filter((s) =>
    s.manifest.host === host && sameList(s.manifest.paths, paths)
  ).pop();

  // What the run reuses and writes, to check before the manifest that no garbage collection
  // retired or deleted it meanwhile. A dry run commits nothing, so it needs neither check (its
  // numbers may then count as reused a blob whose pack is gone).
  const guard = dryRun
    ? undefined
    : new ReuseGuard(repo, await trustedIndex(repo, options.onWarning), options.clock);
  const compressors = new CompressorPool();
  const uploader = new PackUploader(
    storage,
    repo.keys,
    repo.config,
    // A dry run must not teach the repository's index about blobs it never wrote.
    storage instanceof DryRunStorage ? new IndexOverlay(repo.index) : guard!.sink(),
    storage instanceof DryRunStorage
      ? (packs) => repo.writeSegment(packs, { dryRun: storage })
      : (packs) => repo.writeSegment(packs),
    compressors.compress,
    {
      localityFloor: options.localityFloor,
      // Data packs are built in the cache folder, not in memory (pack_buffer.ts `PackSpool`).
      ...(options.cacheDir ? { spoolDir: join(options.cacheDir, repo.config.id, "spool") } : {}),
    },
  );
  const cache = openFileCache(
    options.cacheDir,
    repo.config.id,
    engine,
    options.onWarning,
    JSON.stringify(options.engineOptions ?? {}),
  );
  const neverChange = options.neverChange ?? [];
  let protection: Protection | undefined;
  if (protects(engine, neverChange) && options.cacheDir) {
    const previous = snapshots.filter((s) =>
      s.manifest.host === host && sameList(s.manifest.paths, paths) && s.manifest.engine === engine
    ).pop();
    try {
      protection = await Protection.start(
        repo,
        paths,
        ledgerFile(options.cacheDir, repo.config.id),
        {
          engine,
          neverChange,
          acceptChanges: options.acceptChanges === true,
          dryRun,
          onWarning: options.onWarning,
        },
        previous,
      );
    } catch (err) {
      cache?.close();
      compressors.close();
      throw err;
    }
  }
  return {
    repo,
    options,
    paths,
    engine,
    startedAt,
    dryRun,
    storage,
    host,
    ...(parent ? { parent } : {}),
    ...(guard ? { guard } : {}),
    compressors,
    uploader,
    ...(cache ? { cache } : {}),
    ...(protection ? { protection } : {}),
    plugins: protection ? [protection] : [],
    progress,
  };
}

/**
 * Runs the filter and engine plugins over the sources, storing every blob and tree the engine
 * sends, then the root tree.
 */
async function walkSources(run: BackupRun): Promise<Walk> {
  const { paths, options } = run;
  const filters = await BackupFilters.start(paths, options);
  run.plugins.push(filters);
  // Extended attributes are read here, by the host: the engine has no FFI (docs/plugins.md).
  const xattrs = new BackupXattrs(paths, (p, reason) => warnEntry(run, p, reason));
  const engine = await startPlugin({
    kind: "engine",
    name: run.engine,
    vars: { $sources: paths },
    config: engineConfig(run.repo, {
      filter: filters.on,
      excludeIfPresent: options.excludeIfPresent,
      excludeLargerThan: options.excludeLargerThan,
      options: options.engineOptions,
    }),
    capabilities: engineCapabilities(run, xattrs, filters),
  });
  run.plugins.push(engine);
  const totals = countTotals(run, filters);
  const walked = await engine.call<EngineBackupResult>("backup", paths)
    .finally(() => totals.abort());
  if (!Array.isArray(walked?.nodes) || walked.nodes.length !== paths.length) {
    throw new TypeError(`engine "${run.engine}" did not return one node per source`);
  }
  walked.nodes.forEach((n, i) => xattrs.entry(paths[i], n));
  if (run.protection) {
    const has = (id: string) => run.uploader.has(id);
    for (let i = 0; i < paths.length; i++) {
      walked.nodes[i] = await run.protection.seeSource(paths[i], walked.nodes[i], has);
    }
  }
  const rootNodes = [...walked.nodes].sort((a, b) => compareNames(a.name, b.name));
  const root = await storeTree(run, rootNodes);
  run.guard?.note(root);
  return { root, stats: walked.stats, skipped: [...walked.skipped, ...xattrs.notKept] };
}

/**
 * Starts counting the sources' files and bytes beside the walk (`source_totals.ts`), leaving
 * out what the walk leaves out, for the progress's totals, when someone listens. Abort it once
 * the walk ends.
 */
function countTotals(run: BackupRun, filters: BackupFilters): AbortController {
  const stop = new AbortController();
  if (run.options.onProgress === undefined) return stop;
  sourceTotals(run.paths, {
    excluded: filters.on ? filters.match : undefined,
    excludeIfPresent: run.options.excludeIfPresent,
    excludeLargerThan: run.options.excludeLargerThan,
    signal: stop.signal,
  }).then((t) => {
    if (t && !stop.signal.aborted) run.progress.totals(t.files, t.bytes);
  });
  return stop;
}

/** A warning about an entry not backed up whole (skipped, or without some of its metadata). */
function warnEntry(run: BackupRun, path: string, reason: string): void {
  run.progress.error();
  run.options.onWarning?.(path, reason);
}

/** What the host offers the engine plugin (docs/plugins.md "engine capabilities"). */
function engineCapabilities(
  run: BackupRun,
  xattrs: BackupXattrs,
  filters: BackupFilters,
): Record<string, CapabilityImpl> {
  const { uploader, cache } = run;
  // A hit is used only when what it names is still stored: its blobs, or its mirror object.
  const lookup = (queries: CacheQuery[]): (CacheHit | null)[] =>
    cache
      ? cache.lookup(queries).map((hit, i) =>
        hit === null
          ? null
          : Array.isArray(hit)
          ? (hit.every((id) => uploader.has(id)) ? hit : null)
          : (run.mirror?.holds(hit.mirror, queries[i].size) ? hit : null)
      )
      : queries.map(() => null);
  const dirs = directoryCache(run, xattrs);
  return {
    blobs: {
      // Every add and mark is queued before anything is awaited, so they apply in the order
      // the engine sent them even when its calls overlap.
      store: (chunks: Uint8Array[], marks?: unknown) => {
        const edges = dirMarks(marks, chunks.length);
        const ids: Promise<string>[] = [];
        let m = 0;
        for (let i = 0; i <= chunks.length; i++) {
          while (m < edges.length && edges[m].at === i) uploader.mark(edges[m++].edge);
          if (i < chunks.length) ids.push(uploader.add("data", chunks[i]));
        }
        return Promise.all(ids);
      },
    },
    // A tree the engine sends: its entries get the extended attributes the host reads.
    trees: {
      store: async (nodes: SourceNode[], dir?: unknown) => {
        xattrs.directory(dir, nodes);
        const kept = run.protection && typeof dir === "string"
          ? await run.protection.see(dir, nodes, (id) => uploader.has(id))
          : nodes;
        const id = await storeTree(run, kept);
        if (typeof dir === "string") run.mirror?.see(dir, kept);
        return id;
      },
    },
    cache: {
      lookup,
      record: (records: CacheRecord[]) => cache?.record(records),
      dirs: (queries: DirQuery[]) => {
        if (!Array.isArray(queries)) {
          throw new TypeError(`engine "${run.engine}" sent cache.dirs something not a list`);
        }
        return queries.map((q) => dirs.lookup(q) ?? null);
      },
      recordDirs: (records: DirRecord[]) => dirs.record(records),
    },
    report: {
      progress: (files: number, bytes: number, current?: unknown) =>
        run.progress.add(files, bytes, typeof current === "string" ? current : undefined),
      warn: (path: string, reason: string) => warnEntry(run, path, reason),
    },
    ...(filters.on ? { filter: { match: filters.match } } : {}),
    mirror: {
      // Before any upload: the mode, checked against the store (`mirror_sink.ts`).
      open: async (versioned?: unknown, encrypt?: unknown) => {
        const sink = new MirrorSink(run.storage, run.paths, run.repo.keys);
        await sink.open(typeof versioned === "boolean" ? versioned : undefined, encrypt === true);
        run.mirror = sink;
      },
      put: (path: string, rel: string, size: number, mtime: string, storageClass: StorageClass) => {
        if (!run.mirror) throw new TypeError(`engine "${run.engine}" did not open the mirror`);
        return run.mirror.put(path, rel, size, mtime, storageClass);
      },
    },
  };
}

/** Changes whenever the trees a backup stores for the same entries may change. */
const TREE_ENCODING = 3;

/**
 * The directory cache of the run's file cache (`FileCache.enableDirs`): off without a cache,
 * when never-change protection inspects every tree, and for a mirroring engine. A hit is used
 * only when every id it names is still stored, as a file's hit; each is then noted with the
 * guard, as `storeTree` notes what a tree it stores references (the reused tree itself is
 * noted by its parent's tree, or the root's). A directory is not recorded when the host could
 * not keep some of its entries' extended attributes (its warnings are then not repeated).
 */
function directoryCache(run: BackupRun, xattrs: BackupXattrs) {
  const { cache, uploader, options } = run;
  const on = cache !== undefined && run.protection === undefined;
  if (on) {
    const key = createHmac("sha256", run.repo.keys.macKey).update("permafrost dir cache").digest();
    cache.enableDirs(
      key,
      JSON.stringify({
        treeEncoding: TREE_ENCODING,
        engine: run.engine,
        options: options.engineOptions ?? {},
        excludes: options.excludes ?? [],
        gitIgnore: options.gitIgnore === true,
        excludeIfPresent: options.excludeIfPresent ?? [],
        excludeLargerThan: options.excludeLargerThan ?? null,
        plugins: options.plugins ?? [],
      }),
    );
  }
  const noisy = new Set<string>();
  let seen = 0;
  return {
    lookup(q: DirQuery): DirHit | undefined {
      if (!on || run.mirror || typeof q?.path !== "string") return;
      const hit = cache.lookupDir(q.path, String(q.fingerprint), q.files, q.subdirs);
      if (hit === undefined) return;
      const ids = [hit.tree, ...hit.subtrees, ...hit.files.flat()];
      const { guard } = run;
      if (guard === undefined) return ids.every((id) => uploader.has(id)) ? hit : undefined;
      // One index lookup per id (a million for a million files): the trusted copy the guard
      // notes also says the id is stored; one the run stored itself is in the uploader.
      const copies = ids.map((id) => guard.reusable(id));
      if (!copies.every((at, i) => at !== undefined || uploader.has(ids[i]))) return;
      ids.forEach((id, i) => guard.noteCopy(id, copies[i]));
      return hit;
    },
    record(records: DirRecord[]): void {
      if (!on || run.mirror || !Array.isArray(records)) return;
      for (; seen < xattrs.notKept.length; seen++) noisy.add(dirname(xattrs.notKept[seen].path));
      cache.recordDirs(records.filter((r) => !noisy.has(r?.path)));
    },
  };
}

/**
 * Stores a tree. The engine is a plugin: a tree it sends may only reference blobs already
 * stored (or queued) in this run, so no snapshot can point at data that was never written.
 */
async function storeTree(run: BackupRun, nodes: SourceNode[]): Promise<string> {
  for (const n of nodes) {
    // A mirrored file's object: one this run wrote, or found in the store at its size.
    if (n.mirror !== undefined && !run.mirror?.holds(n.mirror, n.size ?? -1)) {
      throw new TypeError(
        `engine tree entry "${n.name}" references mirror object "${n.mirror.key}", which this ` +
          "run neither wrote nor found at that size",
      );
    }
    for (const id of [...(n.content ?? []), ...(n.subtree ? [n.subtree] : [])]) {
      if (!run.uploader.has(id)) {
        throw new TypeError(
          `engine tree entry "${n.name}" references blob "${id}", which was never stored`,
        );
      }
      run.guard?.note(id);
    }
  }
  return await run.uploader.add("tree", encodeTree(treeOf(nodes as TreeNode[])));
}

/**
 * Makes every tree and data pack durable (with the pack index naming the data packs), so the
 * counters are final; then stores the details, a copy of the manifest with those counters
 * (docs/format.md §9.2: a rebuild re-encodes the manifest from it, byte for byte), in a small
 * metadata pack of their own that the counters leave out; then checks with the guard that no
 * garbage collection took what the run needs. Returns the manifest to commit.
 */
async function storeDetails(
  run: BackupRun,
  walk: Walk,
  findings: Finding[],
): Promise<SnapshotManifest> {
  const { uploader, options } = run;
  const time = new Date().toISOString(); // when the walk ended
  await uploader.flush();
  const counted: Omit<SnapshotManifest, "details"> = {
    version: 1,
    time,
    host: run.host,
    user: safeUser(),
    paths: run.paths,
    tags: options.tags ?? [],
    engine: run.engine,
    root: walk.root,
    ...(run.parent ? { parent: run.parent.id } : {}),
    stats: {
      files: walk.stats.files,
      dirs: walk.stats.dirs,
      bytes: walk.stats.bytes,
      newBlobs: uploader.stats.newBlobs,
      newBytes: uploader.stats.newBytes,
      storedBytes: uploader.stats.storedBytes,
      skipped: walk.skipped.length,
    },
  };
  const details = await uploader.add(
    "snapshot",
    encodeDetails({
      version: 1,
      manifest: counted,
      skipped: walk.skipped,
      ...(findings.length > 0 ? { findings } : {}),
    }),
  );
  await uploader.flush();
  run.guard?.note(details);
  await run.guard?.verify();
  return { ...counted, details };
}

/**
 * Writes the manifest (the commit point), checks once more when it landed late, and commits
 * the file cache. Returns the snapshot id.
 */
async function commitSnapshot(run: BackupRun, manifest: SnapshotManifest): Promise<string> {
  const bytes = encodeSnapshot(run.repo.keys.indexKey, manifest);
  const id = sha256Hex(bytes);
  if (run.mirror) {
    // Every mirrored object is durable (each put resolved) and still there (a prune may have
    // deleted one this run reused): the readable manifests, then the snapshot.
    await run.mirror.confirmPresent();
    await writeMirrorManifests(run.storage, run.mirror, {
      id,
      time: manifest.time,
      host: run.host,
    });
  }
  await run.storage.create(layout.snapshot(id), bytes);
  await run.guard?.confirmCommitted(id); // a run paused since `verify` may have lost packs
  try {
    run.cache?.commit(run.startedAt);
  } catch (err) {
    // The snapshot is saved; a cache that cannot be written only costs a re-read next time.
    run.options.onWarning?.(run.cache!.file, `file cache not updated: ${(err as Error).message}`);
  }
  try {
    run.protection?.commit(id);
  } catch (err) {
    run.options.onWarning?.(
      run.protection!.ledger.file,
      `protection ledger not updated: ${(err as Error).message}; the next backup reports ` +
        "against the originals it held before",
    );
  }
  return id;
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return "";
  }
}
