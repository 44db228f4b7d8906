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
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import type { CacheHit, CacheQuery, CacheRecord } from "../../plugins/sdk/engine_types.ts";
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

  /**
   * Opens (creating if needed) the cache database at `file`, for the rows of `engine` (a plugin
   * name, `[a-z][a-z0-9-]*`).
   */
  constructor(readonly file: string, engine = FIRST_ENGINE) {
    if (!/^[a-z][a-z0-9-]{0,63}$/.test(engine)) {
      throw new TypeError(`file cache: "${engine}" is not an engine's name`);
    }
    this.#table = engine === FIRST_ENGINE ? `"files"` : `"files-${engine}"`;
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
      ) WITHOUT ROWID;`);
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
   * The cached blob ids (or, for a mirrored file, its object) of each queried file if its size,
   * mtime, ctime and inode match.
   */
  lookup(queries: CacheQuery[]): (CacheHit | null)[] {
    if (queries.length === 0) return [];
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
    if (!this.#staged) return;
    // The racy rule runs in SQLite, on each staged row: no row becomes a JavaScript object.
    this.#db.function(
      "settled",
      { deterministic: true },
      (mtime, ctime) =>
        settledBefore(String(mtime), startedAt) && settledBefore(String(ctime), startedAt) ? 1 : 0,
    );
    this.#db.exec("BEGIN IMMEDIATE");
    try {
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
): FileCache | undefined {
  if (!cacheDir) return undefined;
  let file = cacheDir;
  try {
    file = cacheFile(cacheDir, repoId);
    return new FileCache(file, engine);
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
