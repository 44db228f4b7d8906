/**
 * The SQLite store behind the `sqlite` storage plugin: a whole repository in one SQLite file
 * (`node:sqlite`, rollback journal). It runs inside the plugin worker, which may read and write
 * only that file and SQLite's `-journal`, `-wal` and `-shm` files beside it, and implements the
 * Storage contract of `host/storage/storage.ts` (create-only, atomic, durable; see there).
 *
 * At rest the file alone is the repository: every write commits into the database file itself
 * before it resolves (`journal_mode = DELETE`), so between writes no other file holds any part
 * of it, whether or not the connection was closed. While a write runs, SQLite keeps the pages
 * it changes in `<file>-journal`; a process killed in that moment leaves the journal behind
 * ("hot"), and the next connection to open the file rolls the unfinished write back and
 * deletes the journal before it reads anything.
 *
 * Layout, schema version 1 (`PRAGMA user_version`; `PRAGMA application_id` is 0x50465354,
 * "PFST"), 16 KiB pages:
 *
 * ```sql
 * CREATE TABLE objects (
 *   id       INTEGER PRIMARY KEY,  -- internal; a name created again gets a new row
 *   name     TEXT NOT NULL UNIQUE, -- the object name (host/repository/layout.ts)
 *   size     INTEGER NOT NULL,     -- bytes
 *   received TEXT NOT NULL         -- ISO 8601, when this store received it (`modified`)
 * );
 * CREATE TABLE chunks (
 *   object   INTEGER NOT NULL,     -- objects.id
 *   seq      INTEGER NOT NULL,     -- chunk k holds the object's bytes [k * 64 KiB, (k + 1) * 64 KiB)
 *   data     BLOB NOT NULL,        -- 64 KiB, the last chunk fewer; an empty object has none
 *   PRIMARY KEY (object, seq)
 * );
 * ```
 *
 * Why chunks: node:sqlite has no incremental blob I/O, and `substr()` on a blob loads the
 * whole blob first (a 1-byte read of a 64 MiB blob took 45-90 ms here); with 64 KiB chunks a
 * ranged read loads only the chunks it overlaps (a 1-byte read of a 64 MiB object: ~0.1 ms).
 * Chunking also keeps SQLite's 1 GB limit on one value (SQLITE_MAX_LENGTH) off object sizes;
 * the file itself may grow to max_page_count × 16 KiB (about 64 TiB).
 *
 * Contract, beyond the Storage contract:
 * - Every write is one `BEGIN IMMEDIATE` transaction: the existence check, the comparison with
 *   an existing object and the insert happen under the database's write lock, so no create can
 *   replace an object, whichever connection (handle, process) races it. A connection waits up
 *   to 60 s for that lock; past that the call rejects with `TransientError`.
 * - Reads run in one read transaction (a consistent snapshot). A write holds the database
 *   exclusively while it writes pages into the file (at its commit, or earlier when a large
 *   object outgrows the page cache); reads wait for it as writes do, up to the same timeout.
 * - Durability: `synchronous = EXTRA`. A commit fsyncs the journal, then the database file,
 *   then deletes the journal and fsyncs the folder; FULL would skip that last fsync, and a
 *   journal that came back after a power loss would roll an acknowledged create back.
 *   `create` must not resolve before the object is durable (the backup's write ordering,
 *   docs/format.md §10, waits on exactly that).
 * - Not WAL: in WAL mode committed writes stay in `<file>-wal` until a checkpoint, which a
 *   worker that is terminated, or a process that exits, without closing its connection never
 *   runs, so the file alone would lack them. A database in WAL mode (made by an earlier
 *   version) is switched to the rollback journal when a connection opens it, which first folds
 *   its `-wal` into the file.
 * - No archive tiers: storage classes are accepted and ignored, every object is `readable`.
 *   Labels (`CreateOptions.label`) are checked and dropped, as the Storage contract allows for
 *   objects that are always readable: `stat` gives none.
 * - The connection opens on first use. `init()` creates the file (mode 0600; SQLite gives its
 *   journal the same mode) and the schema; other calls reject with `NotFound` if the file is
 *   missing, and with `TypeError` if it is not a Permafrost repository database.
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { ObjectExists, ObjectNotFound, TransientError } from "../../sdk/storage.ts";
import { prefixEnd } from "./prefix_range.ts";
import {
  type ByteRange,
  labelPattern,
  type ObjectInfo,
  type ObjectStat,
} from "../../sdk/storage.ts";

/** Bytes per chunk row. Part of schema version 1. */
export const CHUNK_SIZE = 64 * 1024;
const PAGE_SIZE = 16 * 1024;
const SCHEMA_VERSION = 1;
const APPLICATION_ID = 0x50465354;
/** How long a connection waits for another's write (a 64 MiB create holds it ~0.1-0.3 s). */
const BUSY_TIMEOUT_MS = 60_000;

const SCHEMA = `
  CREATE TABLE objects (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    received TEXT NOT NULL
  );
  CREATE TABLE chunks (
    object INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (object, seq)
  );
  PRAGMA application_id = ${APPLICATION_ID};
  PRAGMA user_version = ${SCHEMA_VERSION};
`;

type Range = ByteRange;
type Listed = ObjectInfo & { modified: string };
type Stat = ObjectStat & Listed;

interface ObjectRow {
  id: number;
  size: number;
  received: string;
}

interface ChunkRow {
  seq: number;
  data: Uint8Array;
}

/** The store's prepared statements, one set per connection. */
class Statements {
  readonly find: StatementSync;
  readonly insert: StatementSync;
  readonly insertChunk: StatementSync;
  readonly chunks: StatementSync;
  readonly listFrom: StatementSync;
  readonly listRange: StatementSync;
  readonly deleteChunks: StatementSync;
  readonly deleteObject: StatementSync;

  constructor(db: DatabaseSync) {
    this.find = db.prepare("SELECT id, size, received FROM objects WHERE name = ?");
    this.insert = db.prepare(
      "INSERT INTO objects (name, size, received) VALUES (?, ?, ?) RETURNING id",
    );
    this.insertChunk = db.prepare("INSERT INTO chunks (object, seq, data) VALUES (?, ?, ?)");
    this.chunks = db.prepare(
      "SELECT seq, data FROM chunks WHERE object = ? AND seq BETWEEN ? AND ? ORDER BY seq",
    );
    this.listFrom = db.prepare(
      "SELECT name, size, received FROM objects WHERE name >= ?",
    );
    this.listRange = db.prepare(
      "SELECT name, size, received FROM objects WHERE name >= ? AND name < ?",
    );
    this.deleteChunks = db.prepare("DELETE FROM chunks WHERE object = ?");
    this.deleteObject = db.prepare("DELETE FROM objects WHERE id = ?");
  }
}

/** A repository in one SQLite file. See the module comment for the layout and contract. */
export class SqliteStore {
  readonly file: string;
  readonly #busyTimeoutMs: number;
  #db: DatabaseSync | undefined;
  #q: Statements | undefined;

  /**
   * `file`: the database, an absolute path. `busyTimeoutMs`: how long to wait for another
   * connection's write before `TransientError` (default 60 s; tests shorten it).
   */
  constructor(file: string, options: { busyTimeoutMs?: number } = {}) {
    if (typeof file !== "string" || !file.startsWith("/") && !/^[A-Za-z]:[\\/]/.test(file)) {
      throw new TypeError(`repository database "${file}" must be an absolute path`);
    }
    this.file = file;
    this.#busyTimeoutMs = options.busyTimeoutMs ?? BUSY_TIMEOUT_MS;
  }

  /** Creates the database file (0600) and its schema if missing. Idempotent. */
  async init(): Promise<void> {
    try {
      (await Deno.open(this.file, { write: true, createNew: true, mode: 0o600 })).close();
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
    const db = this.#db ?? this.#connect();
    this.#transaction("IMMEDIATE", "creating the schema", () => {
      const tables = db.prepare("SELECT count(*) AS n FROM sqlite_schema").get() as { n: number };
      if (tables.n === 0 && pragma(db, "application_id") === 0) db.exec(SCHEMA);
    });
    this.#statements();
  }

  // deno-lint-ignore require-await
  async create(name: string, data: Uint8Array, options?: { label?: unknown }): Promise<void> {
    checkName(name);
    if (!(data instanceof Uint8Array)) throw new TypeError(`data for "${name}" is no Uint8Array`);
    const label = options?.label;
    if (label !== undefined && (typeof label !== "string" || !labelPattern.test(label))) {
      throw new TypeError(`label "${label}" of object "${name}" is not valid`);
    }
    const q = this.#statements();
    this.#transaction("IMMEDIATE", `creating object "${name}"`, () => {
      const row = q.find.get(name) as ObjectRow | undefined;
      if (row !== undefined) {
        if (this.#holds(q, row, data)) return;
        throw new ObjectExists(`object "${name}" already exists with different bytes`);
      }
      const received = new Date().toISOString();
      const { id } = q.insert.get(name, data.byteLength, received) as { id: number };
      for (let seq = 0; seq * CHUNK_SIZE < data.byteLength; seq++) {
        q.insertChunk.run(id, seq, data.subarray(seq * CHUNK_SIZE, (seq + 1) * CHUNK_SIZE));
      }
    });
  }

  // deno-lint-ignore require-await
  async read(name: string, range?: Range | null): Promise<Uint8Array> {
    checkName(name);
    if (range !== undefined && range !== null) {
      const { offset, length } = range;
      if (!isCount(offset) || !isCount(length)) {
        throw new RangeError(`range ${offset}+${length} of object "${name}" is not valid`);
      }
    }
    const q = this.#statements();
    return this.#transaction("DEFERRED", `reading object "${name}"`, () => {
      const row = q.find.get(name) as ObjectRow | undefined;
      if (row === undefined) throw new ObjectNotFound(`object "${name}" not found`);
      const { offset, length } = range ?? { offset: 0, length: row.size };
      if (offset + length > row.size) {
        throw new RangeError(
          `range ${offset}+${length} is past the end of object "${name}" (${row.size} bytes)`,
        );
      }
      const out = new Uint8Array(length);
      if (length === 0) return out;
      const first = Math.floor(offset / CHUNK_SIZE);
      const last = Math.floor((offset + length - 1) / CHUNK_SIZE);
      let next = first;
      for (const c of q.chunks.iterate(row.id, first, last) as Iterable<ChunkRow>) {
        const start = c.seq * CHUNK_SIZE;
        if (c.seq !== next || c.data.length !== Math.min(CHUNK_SIZE, row.size - start)) break;
        const from = Math.max(offset, start);
        const to = Math.min(offset + length, start + c.data.length);
        out.set(c.data.subarray(from - start, to - start), from - offset);
        next++;
      }
      if (next !== last + 1) {
        throw new Error(`object "${name}" is damaged in "${this.file}": chunk ${next} is bad`);
      }
      return out;
    });
  }

  // deno-lint-ignore require-await
  async stat(name: string): Promise<Stat | null> {
    checkName(name);
    const row = this.#statements().find.get(name) as ObjectRow | undefined;
    if (row === undefined) return null;
    return { name, size: row.size, modified: row.received, availability: { state: "readable" } };
  }

  // deno-lint-ignore require-await
  async list(prefix: string): Promise<Listed[]> {
    if (typeof prefix !== "string") throw new TypeError(`list prefix "${prefix}" is not valid`);
    const q = this.#statements();
    const end = prefixEnd(prefix);
    const rows = (end === null ? q.listFrom.all(prefix) : q.listRange.all(prefix, end)) as {
      name: string;
      size: number;
      received: string;
    }[];
    return rows.map((r) => ({ name: r.name, size: r.size, modified: r.received }));
  }

  /** Nothing to restore: resolves for an existing object, `ObjectNotFound` otherwise. */
  async requestRestore(name: string): Promise<void> {
    if ((await this.stat(name)) === null) throw new ObjectNotFound(`object "${name}" not found`);
  }

  // deno-lint-ignore require-await
  async delete(name: string): Promise<void> {
    checkName(name);
    const q = this.#statements();
    this.#transaction("IMMEDIATE", `deleting object "${name}"`, () => {
      const row = q.find.get(name) as ObjectRow | undefined;
      if (row === undefined) return;
      q.deleteChunks.run(row.id);
      q.deleteObject.run(row.id);
    });
  }

  /** Closes the connection (a later call opens it again). */
  close(): void {
    this.#db?.close();
    this.#db = undefined;
    this.#q = undefined;
  }

  /** Whether object `row` holds exactly `data`. */
  #holds(q: Statements, row: ObjectRow, data: Uint8Array): boolean {
    if (row.size !== data.byteLength) return false;
    let next = 0;
    for (const c of q.chunks.iterate(row.id, 0, Number.MAX_SAFE_INTEGER) as Iterable<ChunkRow>) {
      const start = c.seq * CHUNK_SIZE;
      if (c.seq !== next++ || !bytesEqual(c.data, data.subarray(start, start + CHUNK_SIZE))) {
        return false;
      }
    }
    return next * CHUNK_SIZE >= data.byteLength;
  }

  /**
   * Runs `fn` in one transaction (`IMMEDIATE`: takes the write lock first) and commits, or
   * rolls back and rethrows. A busy database becomes `TransientError` naming `what`; another
   * SQLite error (a full disk, a read-only file) an `Error` naming `what`, the file and, where
   * the cause is known, what to do.
   */
  #transaction<T>(kind: "IMMEDIATE" | "DEFERRED", what: string, fn: () => T): T {
    const db = this.#db!;
    try {
      db.exec(`BEGIN ${kind}`);
      try {
        const out = fn();
        db.exec("COMMIT");
        return out;
      } catch (e) {
        if (db.isTransaction) db.exec("ROLLBACK");
        throw e;
      }
    } catch (e) {
      if (isBusy(e)) {
        throw new TransientError(`repository database "${this.file}" is busy ${what}`);
      }
      throw sqliteFailure(e, what, this.file) ?? e;
    }
  }

  /** The statements, opening and checking the connection on first use. */
  #statements(): Statements {
    if (this.#q) return this.#q;
    if (!this.#db) {
      let exists: boolean;
      try {
        exists = Deno.statSync(this.file).isFile;
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
        exists = false;
      }
      if (!exists) {
        throw new Deno.errors.NotFound(`repository database "${this.file}" does not exist`);
      }
      this.#connect();
    }
    const db = this.#db!;
    if (pragma(db, "application_id") !== APPLICATION_ID) {
      throw new TypeError(`"${this.file}" is not a Permafrost repository database`);
    }
    const version = pragma(db, "user_version");
    if (version !== SCHEMA_VERSION) {
      throw new TypeError(
        `repository database "${this.file}" has schema version ${version}, not ${SCHEMA_VERSION}`,
      );
    }
    this.#q = new Statements(db);
    return this.#q;
  }

  /**
   * Opens the connection in rollback-journal mode. Leaving WAL mode needs the file to itself
   * (SQLite does not wait for it): while another connection holds a WAL-mode file open, this
   * one closes and tries again until the busy timeout, then rejects with `TransientError`.
   */
  #connect(): DatabaseSync {
    const deadline = Date.now() + this.#busyTimeoutMs;
    for (;;) {
      const db = new DatabaseSync(this.file);
      try {
        db.exec(`PRAGMA busy_timeout = ${this.#busyTimeoutMs}`);
        db.exec(`PRAGMA page_size = ${PAGE_SIZE}`); // only a new, empty database takes it
        // Reading the mode reads the file: a hot journal is rolled back here, a -wal folded in.
        const mode = (db.prepare("PRAGMA journal_mode = DELETE").get() as { journal_mode: string })
          .journal_mode;
        if (mode !== "delete") throw new Error(`journal mode is "${mode}", not "delete"`);
        db.exec("PRAGMA synchronous = EXTRA");
        this.#removeIdleJournal(db);
        this.#db = db;
        return db;
      } catch (e) {
        db.close();
        if (!isBusy(e)) {
          throw new Error(`repository database "${this.file}" cannot be opened: ${errorText(e)}`);
        }
        if (Date.now() >= deadline) {
          throw new TransientError(
            `repository database "${this.file}" is busy: another process holds it (writing, or ` +
              `open in WAL mode: an earlier Permafrost version); run again when it has ended`,
          );
        }
        pause(10 + Math.random() * 40);
      }
    }
  }

  /**
   * Deletes a journal a killed process left before it wrote anything into it. SQLite rolls a
   * journal that holds pages back on the first read (done by now), but ignores an empty one
   * and leaves it beside the file until the next write. Under the write lock no other
   * connection is writing, so a journal still there is such a leftover.
   */
  #removeIdleJournal(db: DatabaseSync): void {
    const journal = `${this.file}-journal`;
    if (!present(journal)) return;
    db.exec("BEGIN IMMEDIATE");
    try {
      if (present(journal)) Deno.removeSync(journal);
    } finally {
      db.exec("COMMIT");
    }
  }
}

/** Checks an object name: non-empty well-formed text without NUL, at most 1024 characters. */
function checkName(name: unknown): asserts name is string {
  if (
    typeof name !== "string" || name === "" || name.length > 1024 || !name.isWellFormed() ||
    name.includes("\0")
  ) {
    throw new TypeError(`object name "${name}" is not valid`);
  }
}

function pragma(db: DatabaseSync, name: "application_id" | "user_version"): number {
  return (db.prepare(`PRAGMA ${name}`).get() as Record<string, number>)[name];
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function isCount(n: unknown): n is number {
  return Number.isSafeInteger(n) && (n as number) >= 0;
}

function present(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/**
 * The error to report for an SQLite error in `what` (`creating object "packs/…"`), naming the
 * database `file`; `undefined` for an error that is not SQLite's (`ObjectExists`, …).
 */
export function sqliteFailure(e: unknown, what: string, file: string): Error | undefined {
  if ((e as { code?: unknown } | null)?.code !== "ERR_SQLITE_ERROR") return undefined;
  const message = errorText(e);
  const failed = `${what} failed in the repository database "${file}"`;
  if (/database or disk is full/.test(message)) {
    return new Error(
      `${failed}: the disk is full; free space there (or use a repository on another disk) ` +
        "and run the command again",
    );
  }
  if (/readonly database/.test(message)) {
    return new Error(
      `${failed}: it cannot be written (the file, or the folder that holds it, where SQLite ` +
        "writes its journal, is read-only); this command needs to write it",
    );
  }
  return new Error(`${failed}: ${message}`);
}

function isBusy(e: unknown): boolean {
  return e instanceof Error && /database is (locked|busy)/.test(e.message);
}

/** Blocks this thread for `ms` (the store's calls are synchronous; there is nothing to yield to). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
