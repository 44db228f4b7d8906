/**
 * The per-client file cache (`node:sqlite`): path -> (size, mtime, ctime, inode, blob ids), so a
 * backup does not re-read files that have not changed (docs/format.md "Local cache").
 *
 * Contract: the cache is only a hint. A hit is used only if every blob id it names is in the
 * repository index (the caller checks), and new entries are written only after the snapshot
 * that references them is committed (`commit`), so a killed backup can never leave the cache
 * pointing at data that was not stored. Deleting the cache file is always safe.
 *
 * Until then a run's entries wait in a temporary table of its own connection (on disk, not in
 * the heap: a first backup's entries grow with its files), which no other run sees and which
 * SQLite drops when the connection ends, killed or not.
 *
 * Racy entries are not written (git's "racily clean" rule): a file whose mtime or ctime is
 * within a margin before the run started, or later, could change again within the same
 * timestamp tick after it was read, and then match its row with other content. Such a file is
 * read again by the next run, whose row is then trusted.
 *
 * Each engine has its rows apart (a table of its own): a file's blob ids depend on how its
 * engine cut it, so a row another engine wrote is no answer (a whole-file engine must not get
 * a content-defined chunking's ids for the files the two share).
 *
 * The directory cache (`enableDirs`) keeps, per directory, the fingerprint of its entries' stats
 * (`DirQuery`), the tree stored for it, its subdirectories' trees and its files' blob ids: a
 * directory listed with the same fingerprint, whose subdirectories' trees come out the same, has
 * the same tree. Its rows follow the same rules (written at `commit`, never racy: neither the
 * directory nor an entry has a time too close to the run's start), and each carries an HMAC
 * over the row and the run's context (engine, its options, filters, tree encoding), keyed from
 * the repository's keys: a row altered on disk, or written under another context, is a miss.
 *
 * @module
 */

import { createHmac, timingSafeEqual } from "node:crypto";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type {
  CacheHit,
  CacheQuery,
  CacheRecord,
  DirHit,
  DirRecord,
} from "../../plugins/sdk/engine_types.ts";
import { cacheFile } from "./location.ts";

/** 2: rows are never racy (below); a version-1 cache may hold racy rows and is dropped. */
const SCHEMA_VERSION = 2;

/**
 * A time this close to the run's start, or later, is not trusted. Sub-second times: the
 * kernel's clock tick (to 10 ms) and millisecond rounding. A whole-second time is taken to come
 * from a file system that stores seconds (FAT: two): `COARSE_RACY_MARGIN_MS`.
 */
export const RACY_MARGIN_MS = 20;
export const COARSE_RACY_MARGIN_MS = 2_000;

/** A row of the `files` table. */
interface Row {
  path: string;
  size: number;
  mtime: string;
  ctime: string;
  inode: string;
  content: string;
}

/** The engine whose rows are in the table `files` (older caches hold only its rows). */
const FIRST_ENGINE = "dedup";

/** A row of the `dirs` table. */
interface DirRow {
  fingerprint: string;
  tree: string;
  subtrees: string;
  files: string;
  mac: string;
}

/** What the directory cache needs once enabled. */
interface Dirs {
  key: Uint8Array;
  context: string;
  get: StatementSync;
  stage: StatementSync;
  staged: boolean;
}

/** A blob id as the cache keeps it. */
const BLOB_ID = /^[0-9a-f]{64}$/;

export class FileCache {
  #db: DatabaseSync;
  #get;
  #stage;
  /** Whether `record` staged anything since the last `commit`. */
  #staged = false;
  /** Why staging failed, if it did: `commit` reports it instead of writing part of the run. */
  #stageFailure: Error | undefined;
  /** The table of this engine's rows, quoted. */
  #table: string;
  /** The table of this engine's directory rows, quoted. */
  #dirTable: string;
  #dirs: Dirs | undefined;
  /** This run's engine options, when this engine's rows were written under others. */
  #newOptions: string | undefined;
  #engine: string;

  /**
   * Opens (creating if needed) the cache database at `file`, for the rows of `engine` (a plugin
   * name, `[a-z][a-z0-9-]*`) cut with `options` (the engine's options, as JSON): the rows
   * written under other options are no answer, and `commit` replaces them.
   */
  constructor(readonly file: string, engine = FIRST_ENGINE, options = "{}") {
    if (!/^[a-z][a-z0-9-]{0,63}$/.test(engine)) {
      throw new TypeError(`file cache: "${engine}" is not an engine's name`);
    }
    this.#table = engine === FIRST_ENGINE ? `"files"` : `"files-${engine}"`;
    this.#dirTable = `"dirs-${engine}"`;
    this.#engine = engine;
    this.#db = new DatabaseSync(file);
    this.#db.exec("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000;");
    const version = (this.#db.prepare("PRAGMA user_version").get() as { user_version: number })
      .user_version;
    if (version !== SCHEMA_VERSION) {
      const tables = this.#db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .all() as { name: string }[];
      for (const { name } of tables) this.#db.exec(`DROP TABLE "${name.replaceAll('"', '""')}"`);
      this.#db.exec(`PRAGMA user_version = ${SCHEMA_VERSION};`);
    }
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS ${this.#table} (
        path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime TEXT NOT NULL, ctime TEXT NOT NULL,
        inode TEXT NOT NULL, content TEXT NOT NULL, seen TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS "engine-options" (
        engine TEXT PRIMARY KEY, options TEXT NOT NULL
      ) WITHOUT ROWID;`);
    // A file's blob ids depend on the options its engine cut it with (vm-delta's `block`).
    const was = this.#db.prepare(`SELECT options FROM "engine-options" WHERE engine = ?`)
      .get(engine) as { options: string } | undefined;
    if ((was?.options ?? "{}") !== options) this.#newOptions = options;
    // One statement per batch (a directory's files), not one per file: 40,000 single-row
    // lookups took ~250-340 ms here, the same rows in batches of ~35 ~170 ms.
    this.#get = this.#db.prepare(
      `SELECT path, size, mtime, ctime, inode, content FROM ${this.#table} ` +
        "WHERE path IN (SELECT value FROM json_each(?))",
    );
    // Staged entries are spilled to a temporary file, whatever SQLite's compiled default.
    this.#db.exec(`
      PRAGMA temp_store = FILE;
      CREATE TEMP TABLE staged (
        path TEXT NOT NULL, size INTEGER NOT NULL, mtime TEXT NOT NULL, ctime TEXT NOT NULL,
        inode TEXT NOT NULL, content TEXT NOT NULL
      );`);
    // A batch is one statement over its JSON (as `#get`), appended in call order without a
    // key (`commit` keeps each path's last row): 100,000 rows in 0.3 s, not 1 s with a key.
    this.#stage = this.#db.prepare(
      "INSERT INTO temp.staged (path, size, mtime, ctime, inode, content) " +
        "SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5 " +
        "FROM json_each(?)",
    );
  }

  /**
   * Turns the directory cache on for this run. `key` (32 bytes, derived from the repository's
   * keys) authenticates its rows; `context` is everything besides the entries' stats that a
   * tree depends on: a row written under another context is never an answer.
   */
  enableDirs(key: Uint8Array, context: string): void {
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS ${this.#dirTable} (
        path TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, tree TEXT NOT NULL,
        subtrees TEXT NOT NULL, files TEXT NOT NULL, mac TEXT NOT NULL, seen TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE TEMP TABLE IF NOT EXISTS staged_dirs (
        path TEXT NOT NULL, fingerprint TEXT NOT NULL, newest TEXT NOT NULL, tree TEXT NOT NULL,
        subtrees TEXT NOT NULL, files TEXT NOT NULL, mac TEXT NOT NULL
      );`);
    this.#dirs = {
      key,
      context,
      get: this.#db.prepare(
        `SELECT fingerprint, tree, subtrees, files, mac FROM ${this.#dirTable} WHERE path = ?`,
      ),
      stage: this.#db.prepare(
        "INSERT INTO temp.staged_dirs (path, fingerprint, newest, tree, subtrees, files, mac) " +
          "SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, " +
          "value ->> 6 FROM json_each(?)",
      ),
      staged: false,
    };
  }

  /**
   * The previous tree of directory `path` if it was recorded with `fingerprint` under this run's
   * context, its row is intact, and it has `files` files and `subdirs` subdirectories; else
   * `undefined`. The caller checks that every id it names is still stored.
   */
  lookupDir(path: string, fingerprint: string, files: number, subdirs: number): DirHit | undefined {
    const dirs = this.#dirs;
    if (dirs === undefined) return undefined;
    const row = dirs.get.get(path) as DirRow | undefined;
    if (row === undefined || row.fingerprint !== fingerprint) return undefined;
    const mac = Buffer.from(this.#mac(path, row.fingerprint, row.tree, row.subtrees, row.files));
    const stored = Buffer.from(String(row.mac));
    if (mac.length !== stored.length || !timingSafeEqual(mac, stored)) return undefined;
    let hit: DirHit;
    try {
      hit = { tree: row.tree, subtrees: JSON.parse(row.subtrees), files: JSON.parse(row.files) };
    } catch {
      return undefined;
    }
    // The MAC says this cache wrote the row, from a record it checked (`recordDirs`): only the
    // shape is checked against the directory as listed now.
    if (
      !Array.isArray(hit.subtrees) || hit.subtrees.length !== subdirs ||
      !Array.isArray(hit.files) || hit.files.length !== files
    ) return undefined;
    return hit;
  }

  /**
   * Remembers directories whose trees this run stored (see `commit`); records that are not
   * well formed are left out. Never throws, as `record`.
   */
  recordDirs(records: DirRecord[]): void {
    const dirs = this.#dirs;
    if (dirs === undefined || records.length === 0 || this.#stageFailure) return;
    const id = (x: unknown) => typeof x === "string" && BLOB_ID.test(x);
    const ids = (list: unknown) => Array.isArray(list) && list.every(id);
    try {
      const rows = records.filter((r) =>
        typeof r?.path === "string" && typeof r.fingerprint === "string" && id(r.tree) &&
        ids(r.subtrees) && Array.isArray(r.files) && r.files.every(ids) &&
        Array.isArray(r.newest) && r.newest.length > 0 &&
        r.newest.every((t) => typeof t === "string")
      ).map((r) => {
        const subtrees = JSON.stringify(r.subtrees), files = JSON.stringify(r.files);
        const mac = this.#mac(r.path, r.fingerprint, r.tree, subtrees, files);
        return [r.path, r.fingerprint, JSON.stringify(r.newest), r.tree, subtrees, files, mac];
      });
      if (rows.length === 0) return;
      dirs.stage.run(JSON.stringify(rows));
      dirs.staged = true;
    } catch (err) {
      this.#stageFailure = err as Error;
    }
  }

  #mac(path: string, fingerprint: string, tree: string, subtrees: string, files: string) {
    const dirs = this.#dirs!;
    return createHmac("sha256", dirs.key)
      .update(JSON.stringify([dirs.context, path, fingerprint, tree, subtrees, files]))
      .digest("hex");
  }

  /**
   * The cached blob ids (or, for a mirrored file, its object) of each queried file if its size,
   * mtime, ctime and inode match.
   */
  lookup(queries: CacheQuery[]): (CacheHit | null)[] {
    if (queries.length === 0) return [];
    if (this.#newOptions !== undefined) return queries.map(() => null);
    const rows = new Map<string, Row>();
    for (
      const row of this.#get.all(JSON.stringify(queries.map((q) => q.path))) as unknown as Row[]
    ) {
      rows.set(row.path, row);
    }
    return queries.map((q) => {
      const row = rows.get(q.path);
      if (
        row === undefined || row.size !== q.size || row.mtime !== q.mtime ||
        row.ctime !== q.ctime || row.inode !== q.inode
      ) return null;
      return JSON.parse(row.content) as CacheHit;
    });
  }

  /**
   * Remembers files read in this run (a later record of a path replaces it); see `commit`.
   * Never throws: a cache that cannot stage is reported by `commit`, as the backup goes on.
   */
  record(records: CacheRecord[]): void {
    if (records.length === 0 || this.#stageFailure) return;
    try {
      this.#stageAll(records);
    } catch (err) {
      this.#stageFailure = err as Error;
    }
  }

  #stageAll(records: CacheRecord[]): void {
    // A mirrored file's row holds its object instead of blob ids (docs/format.md §10a).
    const rows = records.map((r) => [
      r.path,
      r.size,
      r.mtime,
      r.ctime,
      r.inode,
      JSON.stringify(r.mirror ? { mirror: r.mirror } : r.content),
    ]);
    this.#stage.run(JSON.stringify(rows));
    this.#staged = true;
  }

  /**
   * Writes the recorded entries in one transaction, leaving out racy ones (module comment):
   * those with an mtime or ctime later than `startedAt` (ms since the epoch, when the run began
   * reading) less `RACY_MARGIN_MS` (`COARSE_RACY_MARGIN_MS` for a whole-second time). Call only
   * after the snapshot is committed.
   */
  commit(startedAt: number): void {
    if (this.#stageFailure) throw this.#stageFailure;
    const dirs = this.#dirs?.staged === true;
    if (!this.#staged && !dirs && this.#newOptions === undefined) return;
    // The racy rule runs in SQLite, on each staged row: no row becomes a JavaScript object.
    this.#db.function(
      "settled",
      { deterministic: true },
      (mtime, ctime) =>
        settledBefore(String(mtime), startedAt) && settledBefore(String(ctime), startedAt) ? 1 : 0,
    );
    // A directory's row: the latest times of the directory and its entries (`DirRecord`).
    this.#db.function("settled_all", { deterministic: true }, (newest) => {
      try {
        const times = JSON.parse(String(newest));
        return Array.isArray(times) && times.length > 0 &&
            times.every((t) => settledBefore(String(t), startedAt))
          ? 1
          : 0;
      } catch {
        return 0;
      }
    });
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      if (this.#newOptions !== undefined) {
        // Rows cut with other options go; this run's rows are written under its options.
        this.#db.exec(`DELETE FROM ${this.#table}`);
        if (this.#dirs) this.#db.exec(`DELETE FROM ${this.#dirTable}`);
        this.#db.prepare(`INSERT OR REPLACE INTO "engine-options" (engine, options) VALUES (?, ?)`)
          .run(this.#engine, this.#newOptions);
      }
      if (dirs) {
        this.#db.prepare(
          `INSERT OR REPLACE INTO ${this.#dirTable} ` +
            "(path, fingerprint, tree, subtrees, files, mac, seen) " +
            "SELECT path, fingerprint, tree, subtrees, files, mac, ? FROM temp.staged_dirs " +
            "WHERE rowid IN (SELECT max(rowid) FROM temp.staged_dirs GROUP BY path) " +
            "AND settled_all(newest)",
        ).run(new Date().toISOString());
        this.#db.exec("DELETE FROM temp.staged_dirs");
      }
      this.#db.prepare(
        `INSERT OR REPLACE INTO ${this.#table} (path, size, mtime, ctime, inode, content, seen) ` +
          "SELECT path, size, mtime, ctime, inode, content, ? FROM temp.staged " +
          "WHERE rowid IN (SELECT max(rowid) FROM temp.staged GROUP BY path) " +
          "AND settled(mtime, ctime)",
      ).run(new Date().toISOString());
      this.#db.exec("DELETE FROM temp.staged");
      this.#db.exec("COMMIT");
    } catch (err) {
      this.#db.exec("ROLLBACK");
      throw err;
    }
    this.#staged = false;
    this.#newOptions = undefined;
    if (this.#dirs) this.#dirs.staged = false;
  }

  close(): void {
    this.#db.close();
  }
}

/**
 * Whether a nanosecond decimal time is before `startedAt` (ms) less its margin; anything that is
 * not such a time is not.
 */
function settledBefore(ns: string, startedAt: number): boolean {
  if (!/^-?[0-9]{1,30}$/.test(ns)) return false; // before 1970 is negative
  const t = BigInt(ns);
  const margin = t % 1_000_000_000n === 0n ? COARSE_RACY_MARGIN_MS : RACY_MARGIN_MS;
  return t < BigInt(startedAt - margin) * 1_000_000n;
}

/**
 * Opens the file cache of `engine` for repository `repoId` under `cacheDir`, or gives none (with
 * a warning) when there is no cache folder or it cannot be opened: the cache is only a hint
 * (docs/format.md §10a), never a reason for a backup to fail.
 */
export function openFileCache(
  cacheDir: string | undefined,
  repoId: string,
  engine: string,
  onWarning?: (path: string, reason: string) => void,
  options = "{}",
): FileCache | undefined {
  if (!cacheDir) return undefined;
  let file = cacheDir;
  try {
    file = cacheFile(cacheDir, repoId);
    return new FileCache(file, engine, options);
  } catch (err) {
    onWarning?.(
      file,
      `file cache unusable (${
        (err as Error).message
      }); every file will be read. Delete it to start afresh`,
    );
    return undefined;
  }
}
