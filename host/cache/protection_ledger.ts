/**
 * The protection ledger (`node:sqlite`, docs/engines.md "The protection ledger"): for each
 * protected file of a source (every file of a `worm` source, the `never_change` files of any
 * other), the file's node as first stored and the snapshot that holds it. A backup compares what
 * it stores with it and reports each file that changed or vanished (`host/ops/protection.ts`).
 *
 * Contract: one database per repository, beside the file cache in the client's cache folder
 * (`protection.sqlite`); rows are keyed by engine (a file's content ids depend on how its engine
 * cut it), source path (absolute) and path relative to the source. Rows are written only after
 * the snapshot that holds them committed (`apply`), in one transaction. Unlike the file cache,
 * the ledger is not only a hint: deleted, it is rebuilt from the latest snapshot when the key can
 * read trees, and protection otherwise starts again from the next snapshot.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import type { TreeNode } from "../../plugins/sdk/tree_node.ts";

const SCHEMA_VERSION = 1;

/** One protected file: its node as first stored, and the snapshot that holds it. */
export interface LedgerEntry {
  /** Path relative to the source, `/`-separated ("" when the source is the file). */
  path: string;
  node: TreeNode;
  snapshot: string;
}

/** The ledger database of one repository (its folder is made when the ledger is written). */
export function ledgerFile(cacheDir: string, repoId: string): string {
  return join(cacheDir, repoId, "protection.sqlite");
}

export class ProtectionLedger {
  #db: DatabaseSync;
  /** Opened to read only: `apply` and `drop` refuse. */
  readonly readOnly: boolean;

  /**
   * Opens the ledger at `file`, creating it and its folder if needed. With `readOnly` (a dry
   * run, `worm status`) it writes nothing, not even a file: a missing ledger reads as an empty
   * one, and an existing one is opened immutable unless its write-ahead log holds some of it.
   */
  constructor(readonly file: string, options: { readOnly?: boolean } = {}) {
    this.readOnly = options.readOnly === true;
    this.#db = this.readOnly ? openToRead(file) : openToWrite(file);
    const version = (this.#db.prepare("PRAGMA user_version").get() as { user_version: number })
      .user_version;
    if (version === 0 && this.readOnly) {
      // A file with no schema yet (its first writer was stopped) reads as an empty ledger.
      this.#db.close();
      this.#db = new DatabaseSync(":memory:");
    }
    if (version !== 0 && version !== SCHEMA_VERSION) {
      this.#db.close();
      throw new RangeError(
        `protection ledger "${file}" has schema version ${version}, which this version of ` +
          `permafrost does not know (it knows ${SCHEMA_VERSION}); upgrade permafrost`,
      );
    }
    if (version === 0) {
      this.#db.exec(`
        CREATE TABLE IF NOT EXISTS ledger (
          engine TEXT NOT NULL, source TEXT NOT NULL, path TEXT NOT NULL,
          node TEXT NOT NULL, snapshot TEXT NOT NULL,
          PRIMARY KEY (engine, source, path)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS known (
          engine TEXT NOT NULL, source TEXT NOT NULL, PRIMARY KEY (engine, source)
        ) WITHOUT ROWID;
        PRAGMA user_version = ${SCHEMA_VERSION};`);
    }
  }

  /** Every entry of `source` (absolute path) under `engine`, by relative path. */
  entries(engine: string, source: string): Map<string, LedgerEntry> {
    const rows = this.#db.prepare(
      "SELECT path, node, snapshot FROM ledger WHERE engine = ? AND source = ?",
    ).all(engine, source) as { path: string; node: string; snapshot: string }[];
    return new Map(
      rows.map((r) => [r.path, { path: r.path, node: JSON.parse(r.node), snapshot: r.snapshot }]),
    );
  }

  /**
   * Whether this ledger has recorded a backup of `source` under `engine` (with or without
   * protected files): a source it does not know has lost its ledger, or never had one.
   */
  knows(engine: string, source: string): boolean {
    return this.#db.prepare("SELECT 1 FROM known WHERE engine = ? AND source = ?")
      .get(engine, source) !== undefined;
  }

  /** The sources that have entries under `engine`. */
  sources(engine?: string): { engine: string; source: string; files: number }[] {
    const rows = this.#db.prepare(
      "SELECT engine, source, count(*) AS files FROM ledger GROUP BY engine, source " +
        "ORDER BY source, engine",
    ).all() as { engine: string; source: string; files: number }[];
    return rows.filter((r) => engine === undefined || r.engine === engine)
      .map((r) => ({ engine: r.engine, source: r.source, files: Number(r.files) }));
  }

  /**
   * Writes `put` and removes `drop` (relative paths) for one source, in one transaction, and
   * records that the source is known (`knows`).
   */
  apply(engine: string, source: string, put: LedgerEntry[], drop: string[]): void {
    this.#refuseReadOnly();
    const insert = this.#db.prepare(
      "INSERT OR REPLACE INTO ledger (engine, source, path, node, snapshot) VALUES (?, ?, ?, ?, ?)",
    );
    const remove = this.#db.prepare(
      "DELETE FROM ledger WHERE engine = ? AND source = ? AND path = ?",
    );
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      this.#db.prepare("INSERT OR IGNORE INTO known (engine, source) VALUES (?, ?)")
        .run(engine, source);
      for (const e of put) {
        insert.run(engine, source, e.path, JSON.stringify(e.node), e.snapshot);
      }
      for (const path of drop) remove.run(engine, source, path);
      this.#db.exec("COMMIT");
    } catch (err) {
      this.#db.exec("ROLLBACK");
      throw err;
    }
  }

  /**
   * Removes the entries of `source` under `engine` at `paths` (relative), or every entry of the
   * source without `paths`, in one transaction (`worm forget`). The source stays known, so no
   * backup rebuilds the dropped entries from an older snapshot: its protection starts afresh.
   */
  drop(engine: string, source: string, paths?: string[]): void {
    this.#refuseReadOnly();
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      this.#db.prepare("INSERT OR IGNORE INTO known (engine, source) VALUES (?, ?)")
        .run(engine, source);
      if (paths === undefined) {
        this.#db.prepare("DELETE FROM ledger WHERE engine = ? AND source = ?").run(engine, source);
      } else {
        const remove = this.#db.prepare(
          "DELETE FROM ledger WHERE engine = ? AND source = ? AND path = ?",
        );
        for (const path of paths) remove.run(engine, source, path);
      }
      this.#db.exec("COMMIT");
    } catch (err) {
      this.#db.exec("ROLLBACK");
      throw err;
    }
  }

  close(): void {
    this.#db.close();
  }

  #refuseReadOnly(): void {
    if (this.readOnly) {
      throw new TypeError(`protection ledger "${this.file}" was opened to read only`);
    }
  }
}

/** The ledger at `file` opened to write, with its folder (the client's own, mode 0700). */
function openToWrite(file: string): DatabaseSync {
  Deno.mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const db = new DatabaseSync(file);
  db.exec("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000;");
  return db;
}

/**
 * The ledger at `file` opened to read, writing nothing. No file: an empty database in memory.
 * A write-ahead log beside it (a writer has it open, or was stopped): read-only through that
 * log, whose files exist already. Otherwise it is copied into memory through an immutable open,
 * which takes no lock and makes no `-wal` or `-shm` file; a writer that began meanwhile (the log
 * appeared, or the file changed) is caught after the copy, and the file is read through the log.
 */
function openToRead(file: string): DatabaseSync {
  const before = stamp(file);
  if (before === undefined) return new DatabaseSync(":memory:");
  if (stamp(`${file}-wal`) === undefined) {
    const copy = copyToMemory(file);
    if (stamp(`${file}-wal`) === undefined && stamp(file) === before) return copy;
    copy.close();
  }
  const db = new DatabaseSync(file, { readOnly: true });
  db.exec("PRAGMA busy_timeout = 10000;");
  return db;
}

/** The ledger at `file` (no writer in sight) copied into a database in memory. */
function copyToMemory(file: string): DatabaseSync {
  const db = new DatabaseSync(":memory:");
  const uri = `${pathToFileURL(file).href}?immutable=1&mode=ro`;
  db.prepare("ATTACH DATABASE ? AS disk").run(uri);
  const version = (db.prepare("PRAGMA disk.user_version").get() as { user_version: number })
    .user_version;
  const tables = db.prepare("SELECT name, sql FROM disk.sqlite_schema WHERE type = 'table'")
    .all() as { name: string; sql: string }[];
  for (const { name, sql } of tables) {
    db.exec(sql);
    db.exec(`INSERT INTO main."${name}" SELECT * FROM disk."${name}"`);
  }
  db.exec(`DETACH DATABASE disk; PRAGMA user_version = ${Number(version)};`);
  return db;
}

/** What changes when a file is written or replaced; undefined when there is none. */
function stamp(path: string): string | undefined {
  try {
    const st = Deno.statSync(path);
    return `${st.ino}:${st.size}:${st.mtime?.getTime()}:${st.ctime?.getTime()}`;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}
