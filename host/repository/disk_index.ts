/**
 * The effective index (docs/format.md §7, §7.1) kept in a SQLite file of the local cache
 * (`node:sqlite`, as the file cache), so that a command looks up the blobs it needs instead of
 * holding every entry in memory (docs/format.md "Local cache": the index cache).
 *
 * Contract: the file is only a copy of what the repository's index segments say, each
 * decoded, authenticated and checked against its name by `Repository` before it is recorded
 * here. It remembers which segments it holds (`segments`), so a run decodes only segments it
 * has not seen. A sync stages what it decoded and `commit`s it in one transaction, so a run
 * killed mid-sync leaves the file as it was before that sync or after it. Lookups answer only
 * from the segments this connection recorded or saw recorded (`#known`), as a `MemoryIndex`
 * this process loaded would; packs it `add`s (a rebuild's, say) stay in its memory only. A
 * file that cannot be read, or that belongs to another repository or key, or was written by
 * another schema version, is discarded at `open` and built again (with a warning: nothing in
 * it is trusted over the repository). Deleting it is always safe.
 *
 * Rows name blobs by their 32 bytes and packs by a small number; a blob's copies are ordered
 * by the order their segments were recorded, newest first, then as their segment lists them
 * (`get` gives the first: the copy a `MemoryIndex` loaded from the same segments gives).
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { BLOB_TYPES } from "./blob_table.ts";
import { isHex64 } from "./_fields.ts";
import type { IndexedPack } from "./index_segment.ts";
import { type BlobEntry, MemoryIndex, type PackInfo, type RepoIndex } from "./repo_index.ts";
import type { SegmentInfo } from "./repository.ts";

/** The layout of the tables below; a file of another version is discarded. */
const SCHEMA_VERSION = 1;

/** Whose index a file holds: the repository's id and a fingerprint of the key's view of it. */
export interface IndexCacheOwner {
  repository: string;
  /** Differs between keys that read the effective index differently (admin and ingest). */
  fingerprint: string;
}

/** A segment as the cache recorded it. */
export interface CachedSegment {
  info: SegmentInfo;
  /** Whether its packs are in the index (false: a segment superseded when recorded, §7.1). */
  effective: boolean;
}

interface BlobRow {
  id: Uint8Array;
  /** The pack's id and the segment's record of it: read with the row, never from a map that
   * another process's sync may have outdated. */
  packId: string;
  metadata: number;
  type: number;
  fo: number;
  fl: number;
  oif: number;
  len: number;
}

export class DiskIndex implements RepoIndex {
  #db: DatabaseSync;
  #rows: StatementSync;
  #rowsMany: StatementSync;
  #exists: StatementSync;
  /** Packs of the effective segments as of this connection's last sync, newest record of each. */
  #packs = new Map<string, PackInfo>();
  /** What `add` added in this process only (never written to the file). */
  #overlay = new MemoryIndex();
  #blobCount: number | undefined;

  /**
   * The segments this connection has recorded or seen recorded (`stage`): only their rows
   * answer lookups (`temp.visible`), so a run deduplicates against, and restores from, the
   * segments it listed and checked itself, as with a `MemoryIndex`, never against one that
   * another process recorded in the file meanwhile (docs/security.md "Poison deduplication":
   * a backup's trust checks cover the segments it loaded).
   */
  #known: Set<string>;
  #stagedIds = new Set<string>();

  private constructor(readonly file: string, db: DatabaseSync) {
    this.#db = db;
    this.#known = new Set(
      (db.prepare("SELECT id FROM segments").all() as { id: string }[]).map((r) => r.id),
    );
    db.exec("CREATE TEMP TABLE IF NOT EXISTS visible (n INTEGER PRIMARY KEY)");
    this.#refreshView();
    this.#rows = db.prepare(
      `SELECT ${ROW} FROM ${ROWS} WHERE b.id = ? ORDER BY b.seg DESC, b.pos`,
    );
    this.#rowsMany = db.prepare(
      `SELECT hex(b.id) AS hex, ${ROW} FROM json_each(?) j JOIN ${ROWS} ` +
        "WHERE b.id = unhex(j.value) ORDER BY b.id, b.seg DESC, b.pos",
    );
    this.#exists = db.prepare(
      "SELECT 1 FROM blobs b JOIN temp.visible v ON v.n = b.seg WHERE b.id = ? LIMIT 1",
    );
    this.#loadPacks();
  }

  /**
   * Opens the index cache at `file` for `owner`, creating it when absent. A file that does not
   * open as this schema of this owner is deleted and created afresh; `warn` says why, unless
   * the file was merely absent or empty.
   */
  static open(file: string, owner: IndexCacheOwner, warn: (what: string) => void): DiskIndex {
    let db: DatabaseSync | undefined;
    try {
      db = openDatabase(file);
      const why = mismatch(db, owner);
      if (why === undefined) return new DiskIndex(file, db);
      if (why !== "") warn(`${why}; discarded, and built again from the index segments`);
    } catch (err) {
      warn(
        `cannot be read (${err instanceof Error ? err.message : err}); discarded, and built ` +
          "again from the index segments",
      );
    }
    db?.close();
    DiskIndex.remove(file);
    db = openDatabase(file);
    createTables(db, owner);
    return new DiskIndex(file, db);
  }

  /** Deletes the file at `file` with SQLite's `-wal` and `-shm` files beside it. */
  static remove(file: string): void {
    for (const path of [file, `${file}-wal`, `${file}-shm`]) {
      try {
        Deno.removeSync(path);
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }
    }
  }

  /** Every segment recorded, in the order recorded. */
  segments(): CachedSegment[] {
    const rows = this.#db.prepare("SELECT effective, info FROM segments ORDER BY n").all() as {
      effective: number;
      info: string;
    }[];
    return rows.map((r) => ({ info: JSON.parse(r.info), effective: r.effective === 1 }));
  }

  /**
   * Stages a segment seen for the first time, with its packs, for the next `commit`: its rows
   * go to a temporary table of this connection (on disk, not in the heap), which no other
   * process sees. A segment staged or recorded already is ignored.
   */
  stage(info: SegmentInfo, packs: readonly IndexedPack[]): void {
    this.#ensureStaging();
    this.#stagedIds.add(info.id);
    const staged = this.#db.prepare(
      "INSERT OR IGNORE INTO temp.staged_segments (id, modified, info) VALUES (?, ?, ?)",
    ).run(info.id, info.modified ?? "\uffff", JSON.stringify(info));
    if (staged.changes === 0) return;
    const i = Number(staged.lastInsertRowid);
    const packRow = this.#db.prepare(
      "INSERT INTO temp.staged_packs (i, pos, pack, metadata, length, blobs) " +
        "VALUES (?, ?, ?, ?, ?, ?)",
    );
    const blobRow = this.#db.prepare(
      "INSERT INTO temp.staged_blobs (i, pos, id, type, fo, fl, oif, len) " +
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    );
    for (const [pos, p] of packs.entries()) {
      packRow.run(i, pos, p.pack, p.metadata ? 1 : 0, p.length, p.blobs.length);
      for (const b of p.blobs) {
        blobRow.run(
          i,
          pos,
          Uint8Array.fromHex(b.id),
          BLOB_TYPES.indexOf(b.type),
          b.frameOffset,
          b.frameLength,
          b.offsetInFrame,
          b.length,
        );
      }
    }
  }

  #staging = false;

  #ensureStaging(): void {
    if (this.#staging) return;
    this.#db.exec(`
      CREATE TEMP TABLE IF NOT EXISTS staged_segments (
        i INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, modified TEXT NOT NULL, info TEXT NOT NULL
      );
      CREATE TEMP TABLE IF NOT EXISTS staged_packs (
        i INTEGER NOT NULL, pos INTEGER NOT NULL, pack TEXT NOT NULL, metadata INTEGER NOT NULL,
        length INTEGER NOT NULL, blobs INTEGER NOT NULL
      );
      CREATE TEMP TABLE IF NOT EXISTS staged_blobs (
        i INTEGER NOT NULL, pos INTEGER NOT NULL, id BLOB NOT NULL, type INTEGER NOT NULL,
        fo INTEGER NOT NULL, fl INTEGER NOT NULL, oif INTEGER NOT NULL, len INTEGER NOT NULL
      );`);
    this.#staging = true;
  }

  /**
   * In one transaction: forgets the recorded segments in `forget` (record and rows go; `"all"`:
   * every one, so the staging replaces the file's contents and another process never sees it
   * empty in between); records the staged segments, oldest first (their store time, then id
   * descending: the order in which a newest-first load would meet them last), with the rows of
   * those not superseded sorted by blob id (so they land in the file's order, not at random
   * places: a first sync of a million entries writes each page once); then retires every
   * recorded segment that a recorded segment supersedes (§7.1: their rows go, their record
   * stays). What is superseded is read from the file's records, not from the caller's view,
   * which may hold a superseding segment that another process found gone and forgot. A segment
   * another process recorded meanwhile is skipped. Returns the superseded segments. Throws,
   * changing nothing, when the file fails; the staging is emptied either way.
   */
  commit(change: { forget?: string[] | "all" } = {}): Set<string> {
    this.#ensureStaging();
    const forget = JSON.stringify(change.forget === "all" ? [] : change.forget ?? []);
    const inList = "(SELECT value FROM json_each(?))";
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      if (change.forget === "all") {
        this.#db.exec("DELETE FROM blobs; DELETE FROM segment_packs; DELETE FROM segments;");
      }
      const gone = `(SELECT n FROM segments WHERE id IN ${inList})`;
      this.#db.prepare(`DELETE FROM blobs WHERE seg IN ${gone}`).run(forget);
      this.#db.prepare(`DELETE FROM segment_packs WHERE seg IN ${gone}`).run(forget);
      this.#db.prepare(`DELETE FROM segments WHERE id IN ${inList}`).run(forget);
      this.#db.prepare(
        "DELETE FROM temp.staged_segments WHERE id IN (SELECT id FROM main.segments)",
      ).run();
      const ids = (this.#db.prepare(
        "SELECT DISTINCT j.value AS id FROM (SELECT info FROM main.segments UNION ALL " +
          "SELECT info FROM temp.staged_segments) s, json_each(s.info, '$.supersedes') j",
      ).all() as { id: string }[]).map((r) => r.id);
      const superseded = JSON.stringify(ids);
      this.#db.prepare(
        "INSERT INTO segments (id, effective, info) SELECT id, id NOT IN " + inList +
          ", info FROM temp.staged_segments ORDER BY modified, id DESC",
      ).run(superseded);
      const live =
        "SELECT ts.i, s.n FROM temp.staged_segments ts JOIN segments s ON s.id = ts.id " +
        "WHERE s.effective = 1";
      this.#db.exec(
        "INSERT INTO packs (id) SELECT DISTINCT pack FROM temp.staged_packs WHERE true " +
          "ON CONFLICT (id) DO NOTHING",
      );
      this.#db.exec(
        "INSERT OR IGNORE INTO segment_packs (pack, seg, metadata, length, blobs) " +
          `SELECT p.n, l.n, sp.metadata, sp.length, sp.blobs FROM temp.staged_packs sp ` +
          `JOIN (${live}) l ON l.i = sp.i JOIN packs p ON p.id = sp.pack`,
      );
      this.#db.exec(
        "INSERT OR IGNORE INTO blobs (id, seg, pos, pack, type, fo, fl, oif, len) " +
          "SELECT b.id, l.n, b.pos, p.n, b.type, b.fo, b.fl, b.oif, b.len " +
          `FROM temp.staged_blobs b JOIN (${live}) l ON l.i = b.i ` +
          "JOIN temp.staged_packs sp ON sp.i = b.i AND sp.pos = b.pos " +
          "JOIN packs p ON p.id = sp.pack ORDER BY b.id, l.n, b.pos",
      );
      const retired = `(SELECT n FROM segments WHERE effective = 1 AND id IN ${inList})`;
      this.#db.prepare(`DELETE FROM blobs WHERE seg IN ${retired}`).run(superseded);
      this.#db.prepare(`DELETE FROM segment_packs WHERE seg IN ${retired}`).run(superseded);
      this.#db.prepare(`UPDATE segments SET effective = 0 WHERE id IN ${inList}`).run(superseded);
      this.#db.exec("COMMIT");
      if (change.forget === "all") this.#known.clear();
      else for (const id of change.forget ?? []) this.#known.delete(id);
      for (const id of this.#stagedIds) this.#known.add(id);
      return new Set(ids);
    } catch (err) {
      this.#db.exec("ROLLBACK");
      throw err;
    } finally {
      this.#db.exec(
        "DELETE FROM temp.staged_segments; DELETE FROM temp.staged_packs; " +
          "DELETE FROM temp.staged_blobs;",
      );
      this.#stagedIds.clear();
      this.#refreshView();
      this.#loadPacks();
    }
  }

  /** Fills `temp.visible` with the effective segments among those this connection knows. */
  #refreshView(): void {
    this.#db.exec("DELETE FROM temp.visible");
    this.#db.prepare(
      "INSERT INTO temp.visible (n) SELECT n FROM segments WHERE effective = 1 AND id IN " +
        "(SELECT value FROM json_each(?))",
    ).run(JSON.stringify([...this.#known]));
  }

  /** Reads the (few) pack records of the effective segments into memory. */
  #loadPacks(): void {
    this.#blobCount = undefined;
    this.#packs.clear();
    const rows = this.#db.prepare(
      "SELECT p.n, p.id, sp.metadata, sp.length, sp.blobs FROM segment_packs sp " +
        "JOIN temp.visible v ON v.n = sp.seg JOIN packs p ON p.n = sp.pack ORDER BY sp.seg DESC",
    ).all() as { n: number; id: string; metadata: number; length: number; blobs: number }[];
    for (const r of rows) {
      if (this.#packs.has(r.id)) continue;
      this.#packs.set(r.id, {
        id: r.id,
        metadata: r.metadata === 1,
        length: r.length,
        blobs: r.blobs,
      });
    }
  }

  #entry(id: string, r: Omit<BlobRow, "id">): BlobEntry {
    return {
      id,
      type: BLOB_TYPES[r.type],
      frameOffset: r.fo,
      frameLength: r.fl,
      offsetInFrame: r.oif,
      length: r.len,
      pack: r.packId,
      metadata: r.metadata === 1,
    };
  }

  /** Adds packs for this process only (the file holds only what segments say). */
  add(packs: IndexedPack[]): void {
    this.#blobCount = undefined;
    this.#overlay.add(packs);
  }

  /** Forgets every segment recorded and what `add` added (the next sync reads them all). */
  clear(): void {
    this.#overlay.clear();
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      this.#db.exec("DELETE FROM blobs; DELETE FROM segment_packs; DELETE FROM segments;");
      this.#db.exec("COMMIT");
    } catch (err) {
      this.#db.exec("ROLLBACK");
      throw err;
    }
    this.#known.clear();
    this.#refreshView();
    this.#loadPacks();
  }

  // An id that is not 64 lowercase hex digits (an engine's mistake) is not indexed, as in a
  // MemoryIndex: never a SyntaxError from fromHex, nor an uppercase spelling of a stored id.
  has(id: string): boolean {
    if (!isHex64(id)) return false;
    return this.#exists.get(Uint8Array.fromHex(id)) !== undefined || this.#overlay.has(id);
  }

  get(id: string): BlobEntry | undefined {
    if (!isHex64(id)) return undefined;
    const row = this.#rows.get(Uint8Array.fromHex(id)) as Omit<BlobRow, "id"> | undefined;
    return row ? this.#entry(id, row) : this.#overlay.get(id);
  }

  copies(id: string): BlobEntry[] {
    if (!isHex64(id)) return [];
    const out: BlobEntry[] = [];
    const packs = new Set<string>();
    const rows = this.#rows.all(Uint8Array.fromHex(id)) as unknown as Omit<BlobRow, "id">[];
    for (const c of [...rows.map((r) => this.#entry(id, r)), ...this.#overlay.copies(id)]) {
      if (packs.has(c.pack)) continue;
      packs.add(c.pack);
      out.push(c);
    }
    return out;
  }

  /**
   * `copies` of each of `ids`, in order, asked a chunk of ids per statement (`json_each`), with
   * the same rows, order and overlay as `copies`.
   */
  copiesMany(ids: string[]): BlobEntry[][] {
    const found = new Map<string, Omit<BlobRow, "id">[]>();
    for (let i = 0; i < ids.length; i += MANY_CHUNK) {
      const chunk = JSON.stringify(ids.slice(i, i + MANY_CHUNK));
      for (const r of this.#rowsMany.all(chunk) as unknown as (BlobRow & { hex: string })[]) {
        const rows = found.get(r.hex.toLowerCase());
        if (rows) rows.push(r);
        else found.set(r.hex.toLowerCase(), [r]);
      }
    }
    return ids.map((id) => {
      const out: BlobEntry[] = [];
      const packs = new Set<string>();
      const rows = found.get(id) ?? [];
      for (const c of [...rows.map((r) => this.#entry(id, r)), ...this.#overlay.copies(id)]) {
        if (packs.has(c.pack)) continue;
        packs.add(c.pack);
        out.push(c);
      }
      return out;
    });
  }

  /** As recorded when this connection last synced, else as the file has it now (a pack that
   * another process's sync recorded since, which `get` may name), else as `add` added it. */
  pack(id: string): PackInfo | undefined {
    return this.#packs.get(id) ?? this.#packInFile(id) ?? this.#overlay.pack(id);
  }

  #packInFile(id: string): PackInfo | undefined {
    const r = this.#db.prepare(
      "SELECT sp.metadata, sp.length, sp.blobs FROM segment_packs sp JOIN temp.visible v " +
        "ON v.n = sp.seg JOIN packs p ON p.n = sp.pack WHERE p.id = ? " +
        "ORDER BY sp.seg DESC LIMIT 1",
    ).get(id) as { metadata: number; length: number; blobs: number } | undefined;
    return r && { id, metadata: r.metadata === 1, length: r.length, blobs: r.blobs };
  }

  *packs(): IterableIterator<PackInfo> {
    yield* this.#packs.values();
    for (const p of this.#overlay.packs()) if (!this.#packs.has(p.id)) yield p;
  }

  /** Each blob once, at `get`'s location: one pass over the file, in id order. */
  *blobs(): IterableIterator<BlobEntry> {
    for (const copies of this.#allCopies()) yield copies[0];
    for (const b of this.#overlay.blobs()) if (!this.#inFile(b.id)) yield b;
  }

  *locations(): IterableIterator<BlobEntry> {
    for (const copies of this.#allCopies()) yield* copies;
    for (const b of this.#overlay.locations()) {
      const rows = this.#rows.all(Uint8Array.fromHex(b.id)) as unknown as BlobRow[];
      if (!rows.some((r) => r.packId === b.pack)) yield b;
    }
  }

  /** The file's copies of each blob (each pack once, newest first), blob by blob. */
  *#allCopies(): IterableIterator<BlobEntry[]> {
    const all = this.#db.prepare(
      `SELECT b.id, ${ROW} FROM ${ROWS} ORDER BY b.id, b.seg DESC, b.pos`,
    );
    let current: BlobEntry[] = [];
    let currentId = "";
    for (const r of all.iterate() as IterableIterator<BlobRow>) {
      const id = r.id.toHex();
      if (id !== currentId) {
        if (current.length > 0) yield current;
        current = [];
        currentId = id;
      }
      const entry = this.#entry(id, r);
      if (!current.some((c) => c.pack === entry.pack)) current.push(entry);
    }
    if (current.length > 0) yield current;
  }

  #inFile(id: string): boolean {
    return this.#exists.get(Uint8Array.fromHex(id)) !== undefined;
  }

  get blobCount(): number {
    this.#blobCount ??= (this.#db.prepare(
      "SELECT COUNT(DISTINCT b.id) AS n FROM blobs b JOIN temp.visible v ON v.n = b.seg",
    ).get() as { n: number }).n;
    let extra = 0;
    for (const b of this.#overlay.blobs()) if (!this.#inFile(b.id)) extra++;
    return this.#blobCount + extra;
  }

  get packCount(): number {
    return [...this.packs()].length;
  }

  /** Closes the file (further calls fail). */
  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}

/** Ids per `copiesMany` statement. */
const MANY_CHUNK = 500;

/** A blob row with its pack's id and its segment's record of that pack (`BlobRow`). */
const ROW = "p.id AS packId, sp.metadata, b.type, b.fo, b.fl, b.oif, b.len";
const ROWS = "blobs b JOIN temp.visible v ON v.n = b.seg JOIN packs p ON p.n = b.pack " +
  "JOIN segment_packs sp ON sp.pack = b.pack AND sp.seg = b.seg";

function openDatabase(file: string): DatabaseSync {
  const db = new DatabaseSync(file);
  try {
    // WAL: readers never wait for a writer; NORMAL: a commit is atomic, and a power loss can
    // lose only the last commits (an older cache, which the next sync brings up to date).
    db.exec(
      "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000; " +
        // Temporary tables (the staging) on disk, not in the heap; set before any exists
        // (setting it drops them).
        "PRAGMA cache_size = -32768; PRAGMA temp_store = FILE;",
    );
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/**
 * Why `db` cannot serve as `owner`'s index cache: a sentence, "" when it is merely new (no
 * tables yet), undefined when it can.
 */
function mismatch(db: DatabaseSync, owner: IndexCacheOwner): string | undefined {
  const version = (db.prepare("PRAGMA user_version").get() as { user_version: number })
    .user_version;
  if (version === 0) return "";
  if (version !== SCHEMA_VERSION) return `was written by another version (schema ${version})`;
  const meta = new Map(
    (db.prepare("SELECT key, value FROM meta").all() as { key: string; value: string }[])
      .map((r) => [r.key, r.value]),
  );
  if (meta.get("repository") !== owner.repository) {
    return `belongs to another repository ("${meta.get("repository")?.slice(0, 8)}")`;
  }
  if (meta.get("fingerprint") !== owner.fingerprint) return "belongs to another key";
  // Reads every page of the small tables (a damaged file fails here, not halfway through a
  // command); the blob table is checked as it is read.
  db.prepare("SELECT COUNT(*) FROM segments").get();
  db.prepare("SELECT COUNT(*) FROM segment_packs").get();
  return undefined;
}

function createTables(db: DatabaseSync, owner: IndexCacheOwner): void {
  db.exec(`
    BEGIN IMMEDIATE;
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
    CREATE TABLE segments (
      n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, effective INTEGER NOT NULL,
      info TEXT NOT NULL
    );
    CREATE TABLE packs (n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);
    CREATE TABLE segment_packs (
      pack INTEGER NOT NULL, seg INTEGER NOT NULL, metadata INTEGER NOT NULL,
      length INTEGER NOT NULL, blobs INTEGER NOT NULL, PRIMARY KEY (pack, seg)
    ) WITHOUT ROWID;
    CREATE TABLE blobs (
      id BLOB NOT NULL, seg INTEGER NOT NULL, pos INTEGER NOT NULL, pack INTEGER NOT NULL,
      type INTEGER NOT NULL, fo INTEGER NOT NULL, fl INTEGER NOT NULL, oif INTEGER NOT NULL,
      len INTEGER NOT NULL, PRIMARY KEY (id, seg, pos)
    ) WITHOUT ROWID;
    PRAGMA user_version = ${SCHEMA_VERSION};
  `);
  const meta = db.prepare("INSERT INTO meta (key, value) VALUES (?, ?)");
  meta.run("repository", owner.repository);
  meta.run("fingerprint", owner.fingerprint);
  db.exec("COMMIT");
}
