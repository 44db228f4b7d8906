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
import { join } from "node:path";
import type { TreeNode } from "../../plugins/sdk/tree_node.ts";

const SCHEMA_VERSION = 1;

/** One protected file: its node as first stored, and the snapshot that holds it. */
export interface LedgerEntry {
  /** Path relative to the source, `/`-separated ("" when the source is the file). */
  path: string;
  node: TreeNode;
  snapshot: string;
}

/** The ledger database of one repository, creating its folder. */
export function ledgerFile(cacheDir: string, repoId: string): string {
  const dir = join(cacheDir, repoId);
  Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return join(dir, "protection.sqlite");
}

export class ProtectionLedger {
  #db: DatabaseSync;

  /** Opens (creating if needed) the ledger at `file`. */
  constructor(readonly file: string) {
    this.#db = new DatabaseSync(file);
    this.#db.exec("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000;");
    const version = (this.#db.prepare("PRAGMA user_version").get() as { user_version: number })
      .user_version;
    if (version !== 0 && version !== SCHEMA_VERSION) {
      throw new RangeError(
        `protection ledger "${file}" has schema version ${version}, which this version of ` +
          `permafrost does not know (it knows ${SCHEMA_VERSION}); upgrade permafrost`,
      );
    }
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

  close(): void {
    this.#db.close();
  }
}
