import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { ObjectExists, ObjectNotFound, TransientError } from "../../sdk/mod.ts";
import { CHUNK_SIZE, sqliteFailure, SqliteStore } from "./sqlite_store.ts";

async function withStore(
  fn: (s: SqliteStore, file: string, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "pf-sqlite-store-" });
  const file = join(dir, "repo.db");
  const s = new SqliteStore(file);
  await s.init();
  try {
    await fn(s, file, dir);
  } finally {
    s.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Whether two equally long arrays, each a whole buffer, hold the same bytes (fast). */
function sameWords(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  const words = a.length >> 2;
  const [x, y] = [new Uint32Array(a.buffer, 0, words), new Uint32Array(b.buffer, 0, words)];
  for (let i = 0; i < words; i++) if (x[i] !== y[i]) return false;
  for (let i = words << 2; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed * 7 + (i >> 13)) & 0xff;
  return out;
}

Deno.test("SqliteStore keeps the documented schema in one rollback-journal file, private to its owner", async () => {
  await withStore(async (s, file, dir) => {
    await s.create("config", new Uint8Array([1, 2, 3]));
    const db = new DatabaseSync(file);
    try {
      const one = (sql: string) => Object.values(db.prepare(sql).get()!)[0];
      assert.equal(one("PRAGMA journal_mode"), "delete");
      assert.equal(one("PRAGMA page_size"), 16384);
      assert.equal(one("PRAGMA user_version"), 1);
      assert.equal(one("PRAGMA application_id"), 0x50465354);
      const columns = (t: string) =>
        db.prepare(`SELECT name FROM pragma_table_info('${t}') ORDER BY cid`).all().map((r) =>
          r.name
        );
      assert.deepEqual(columns("objects"), ["id", "name", "size", "received"]);
      assert.deepEqual(columns("chunks"), ["object", "seq", "data"]);
    } finally {
      db.close();
    }
    if (Deno.build.os !== "windows") assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["repo.db"]);
  });
});

Deno.test("SqliteStore leaves nothing beside the file between writes, even if never closed", async () => {
  await withStore(async (s, file, dir) => {
    await s.create("config", new Uint8Array([1, 2, 3]));
    await s.create("packs/ab01", bytes(3 * CHUNK_SIZE));
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["repo.db"]);
    // A copy of the file alone, taken while the connection is still open, is the repository.
    const copy = join(dir, "copy.db");
    await Deno.copyFile(file, copy);
    const alone = new SqliteStore(copy);
    try {
      assert.deepEqual(await alone.read("config"), new Uint8Array([1, 2, 3]));
      assert.deepEqual(await alone.read("packs/ab01"), bytes(3 * CHUNK_SIZE));
    } finally {
      alone.close();
    }
  });
});

Deno.test("SqliteStore switches a WAL-mode database of an earlier version to the rollback journal, folding its -wal in", async () => {
  await withStore(async (s, file, dir) => {
    s.close();
    // As an earlier version left it: WAL mode, its last write only in the -wal (its process
    // ended without closing the connection, so nothing checkpointed it).
    const child = await new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `import { DatabaseSync } from "node:sqlite";
         const db = new DatabaseSync(${JSON.stringify(file)});
         db.exec("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0");
         db.exec("INSERT INTO objects (name, size, received) VALUES ('config', 0, 'then')");
         Deno.exit(0);`,
      ],
    }).output();
    assert.equal(child.code, 0, new TextDecoder().decode(child.stderr));
    const names = () => [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names(), ["repo.db", "repo.db-shm", "repo.db-wal"]);
    assert.equal((await s.stat("config"))?.modified, "then");
    assert.deepEqual(names(), ["repo.db"]);
  });
});

Deno.test("SqliteStore cannot leave WAL mode while a connection of an earlier version holds the file, and past its timeout rejects with TransientError", async () => {
  await withStore(async (s, file) => {
    s.close();
    const old = new DatabaseSync(file);
    try {
      old.exec("PRAGMA journal_mode = WAL");
      old.prepare("SELECT count(*) FROM objects").get(); // now it holds the -wal open
      const other = new SqliteStore(file, { busyTimeoutMs: 50 });
      await assert.rejects(
        other.stat("config"),
        (e: Error) => e instanceof TransientError && /"[^"]*repo\.db" is busy/.test(e.message),
      );
    } finally {
      old.close();
    }
    assert.equal(await s.stat("config"), null);
  });
});

Deno.test("a write cut off by the end of its process leaves a journal, and the next connection rolls it back", async () => {
  await withStore(async (s, file, dir) => {
    await s.create("config", new Uint8Array([1]));
    s.close();
    const storeUrl = new URL("./sqlite_store.ts", import.meta.url).href;
    // The child starts a 4 MiB create (its pages outgrow SQLite's cache, so some reach the file)
    // and exits from inside it, as a killed process would.
    const child = await new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `import { DatabaseSync } from "node:sqlite";
         const { SqliteStore } = await import(${JSON.stringify(storeUrl)});
         const s = new SqliteStore(${JSON.stringify(file)});
         const run = DatabaseSync.prototype.prepare;
         let rows = 0;
         const insertChunk = "INSERT INTO chunks (object, seq, data) VALUES (?, ?, ?)";
         DatabaseSync.prototype.prepare = function (sql) {
           const st = run.call(this, sql);
           if (sql !== insertChunk) return st;
           const insert = st.run.bind(st);
           st.run = (...a) => (++rows === 60 ? Deno.exit(9) : insert(...a));
           return st;
         };
         await s.create("packs/cut", new Uint8Array(64 * 65536));`,
      ],
    }).output();
    assert.equal(child.code, 9);
    assert.ok([...Deno.readDirSync(dir)].some((e) => e.name === "repo.db-journal"));
    const next = new SqliteStore(file);
    try {
      assert.equal(await next.stat("packs/cut"), null);
      assert.deepEqual(await next.read("config"), new Uint8Array([1]));
      assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["repo.db"]);
      const db = new DatabaseSync(file);
      try {
        assert.equal(db.prepare("PRAGMA integrity_check").get()?.integrity_check, "ok");
      } finally {
        db.close();
      }
    } finally {
      next.close();
    }
  });
});

Deno.test("SqliteStore deletes an empty journal a killed process left, which SQLite itself ignores", async () => {
  await withStore(async (s, file, dir) => {
    await s.create("config", new Uint8Array([1]));
    s.close();
    await Deno.writeFile(`${file}-journal`, new Uint8Array(0)); // killed before its first page
    const next = new SqliteStore(file);
    try {
      assert.deepEqual(await next.read("config"), new Uint8Array([1]));
      assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["repo.db"]);
    } finally {
      next.close();
    }
  });
});

Deno.test("SqliteStore stores an object in 64 KiB chunks and deletes them with it", async () => {
  await withStore(async (s, file) => {
    await s.create("packs/ab01", bytes(2 * CHUNK_SIZE + 5));
    await s.create("index/ab01", new Uint8Array(0));
    const db = new DatabaseSync(file);
    try {
      const sizes = () =>
        db.prepare("SELECT length(data) AS n FROM chunks ORDER BY object, seq").all().map((r) =>
          r.n
        );
      assert.deepEqual(sizes(), [CHUNK_SIZE, CHUNK_SIZE, 5]);
      await s.delete("packs/ab01");
      assert.deepEqual(sizes(), []);
    } finally {
      db.close();
    }
  });
});

Deno.test("SqliteStore reads a range from only the chunks it overlaps", async () => {
  await withStore(async (s, file) => {
    const data = bytes(5 * CHUNK_SIZE);
    await s.create("packs/cd01", data.slice());
    // Damage chunk 3: ranges that do not touch it still read, ranges that do are refused.
    const db = new DatabaseSync(file);
    db.exec("DELETE FROM chunks WHERE seq = 3");
    db.close();
    const range = (offset: number, length: number) => ({ offset, length });
    for (const r of [range(0, 1), range(CHUNK_SIZE - 1, 2), range(4 * CHUNK_SIZE, CHUNK_SIZE)]) {
      assert.deepEqual(await s.read("packs/cd01", r), data.subarray(r.offset, r.offset + r.length));
    }
    await assert.rejects(
      s.read("packs/cd01", range(3 * CHUNK_SIZE + 7, 1)),
      /object "packs\/cd01" is damaged/,
    );
    await assert.rejects(s.read("packs/cd01"), /object "packs\/cd01" is damaged/);
  });
});

Deno.test("SqliteStore holds a 64 MiB object and reads one byte of it", async () => {
  await withStore(async (s) => {
    const size = (64 << 20) + 1;
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
    await s.create("packs/ef01", data.slice());
    assert.equal((await s.stat("packs/ef01"))?.size, size);
    assert.deepEqual(
      await s.read("packs/ef01", { offset: size - 1, length: 1 }),
      data.subarray(-1),
    );
    const whole = await s.read("packs/ef01");
    assert.equal(whole.length, size);
    assert.ok(sameWords(whole, data), "the whole object reads back");
    await s.create("packs/ef01", data); // the same bytes again: compared, not stored twice
  });
});

Deno.test("SqliteStore.list() takes % and _ in names literally and lists by prefix", async () => {
  await withStore(async (s) => {
    const names = ["index/a%b", "index/a_b", "index/aXb", "index/a", "index/é", "snapshots/a"];
    for (const n of names) await s.create(n, new Uint8Array([1]));
    const list = async (p: string) => (await s.list(p)).map((o) => o.name).sort();
    assert.deepEqual(await list("index/a%"), ["index/a%b"]);
    assert.deepEqual(await list("index/a_"), ["index/a_b"]);
    assert.deepEqual(await list("index/a"), ["index/a", "index/a%b", "index/aXb", "index/a_b"]);
    assert.deepEqual(await list("index/é"), ["index/é"]);
    assert.deepEqual(await list(""), [...names].sort());
    assert.deepEqual(await list("index0"), []);
  });
});

Deno.test("SqliteStore waits for another connection's write, and past its timeout rejects with TransientError naming the object", async () => {
  await withStore(async (_, file) => {
    const other = new DatabaseSync(file);
    const s = new SqliteStore(file, { busyTimeoutMs: 50 });
    try {
      other.exec("BEGIN IMMEDIATE");
      await assert.rejects(
        s.create("config", new Uint8Array([1])),
        (e: Error) => e instanceof TransientError && e.message.includes(`object "config"`),
      );
      other.exec("COMMIT");
      await s.create("config", new Uint8Array([1]));
      assert.deepEqual(await s.read("config"), new Uint8Array([1]));
    } finally {
      other.close();
      s.close();
    }
  });
});

Deno.test("two processes create into one database at once: all land, and each contested name has one winner", async () => {
  await withStore(async (s, file) => {
    const N = 60;
    const storeUrl = new URL("./sqlite_store.ts", import.meta.url).href;
    // Runs in both processes (the child gets its source): own names, and contested ones, which
    // the two take in opposite orders, so they meet somewhere in the middle.
    const run = async (
      who: string,
      n: number,
      store: { create(n: string, d: Uint8Array): Promise<void> },
    ) => {
      const won: number[] = [];
      const start = Date.now();
      for (let k = 0; k < n; k++) {
        const i = who === "a" ? k : n - 1 - k;
        await store.create(`index/${who}-${i}`, new TextEncoder().encode(who));
        try {
          await store.create(`snapshots/shared-${i}`, new TextEncoder().encode(who));
          won.push(i);
        } catch (e) {
          if (!(e instanceof Error) || e.name !== "ObjectExists") throw e;
        }
      }
      return { won, start, end: Date.now() };
    };
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `const { SqliteStore } = await import(${JSON.stringify(storeUrl)});
         const s = new SqliteStore(${JSON.stringify(file)});
         await s.stat("config");
         console.log("ready");
         await Deno.stdin.readable.getReader().read(); // "go"
         const run = ${run.toString()};
         console.log(JSON.stringify(await run("b", ${N}, s)));`,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).values();
    let out = "";
    while (!out.includes("ready\n")) {
      const next = await lines.next();
      if (next.done) break;
      out += next.value;
    }
    const go = child.stdin.getWriter();
    await go.write(new TextEncoder().encode("go\n"));
    await go.close();
    const mine = await run("a", N, s);
    for (let next = await lines.next(); !next.done; next = await lines.next()) out += next.value;
    const status = await child.status;
    const stderr = await new Response(child.stderr).text();
    assert.equal(status.code, 0, stderr);
    const theirs: typeof mine = JSON.parse(out.slice(out.indexOf("ready\n") + 6));
    assert.ok(mine.start < theirs.end && theirs.start < mine.end, "the two ran at the same time");
    assert.deepEqual([...mine.won, ...theirs.won].sort((x, y) => x - y), [...Array(N).keys()]);
    for (const i of theirs.won) {
      assert.deepEqual(await s.read(`snapshots/shared-${i}`), new TextEncoder().encode("b"));
    }
    assert.equal((await s.list("index/")).length, 2 * N);
  });
});

Deno.test("SqliteStore refuses a file that is not a Permafrost repository database", async () => {
  await withStore(async (_, _file, dir) => {
    const foreign = join(dir, "other.db");
    const db = new DatabaseSync(foreign);
    db.exec("CREATE TABLE t (x)");
    db.close();
    const s = new SqliteStore(foreign);
    await assert.rejects(s.init(), /"[^"]*other\.db" is not a Permafrost repository database/);
    await assert.rejects(s.stat("config"), TypeError);
    s.close();
    const junk = join(dir, "junk.db");
    await Deno.writeTextFile(
      junk,
      "not a database at all, but long enough to look like one".repeat(9),
    );
    await assert.rejects(new SqliteStore(junk).stat("config"), /junk\.db" cannot be opened/);
  });
});

Deno.test("SqliteStore without init() rejects a missing database file with NotFound naming it", async () => {
  const s = new SqliteStore("/nonexistent/pf-repo.db");
  await assert.rejects(
    s.stat("config"),
    new Deno.errors.NotFound(`repository database "/nonexistent/pf-repo.db" does not exist`),
  );
  assert.throws(() => new SqliteStore("repo.db"), TypeError);
});

Deno.test("SqliteStore names the object in its errors", async () => {
  await withStore(async (s) => {
    await s.create("keys/k1", new Uint8Array([1]));
    await assert.rejects(s.create("keys/k1", new Uint8Array([2])), ObjectExists, `"keys/k1"`);
    await assert.rejects(s.read("keys/k2"), ObjectNotFound, `"keys/k2"`);
    await assert.rejects(s.requestRestore("keys/k2"), ObjectNotFound, `"keys/k2"`);
    await assert.rejects(s.read("keys/k1", { offset: 0, length: 2 }), RangeError, `"keys/k1"`);
    await assert.rejects(s.create("", new Uint8Array(1)), TypeError);
    await assert.rejects(s.create("a\0b", new Uint8Array(1)), TypeError);
  });
});

/** The error SQLite throws for `write` on a connection to a fresh database, set up by `setup`. */
function sqliteError(setup: (file: string) => DatabaseSync, write: string): unknown {
  const file = Deno.makeTempFileSync({ suffix: ".db" });
  new DatabaseSync(file).exec("CREATE TABLE t (x BLOB)");
  const db = setup(file);
  try {
    db.exec(write);
  } catch (e) {
    return e;
  } finally {
    db.close();
    Deno.removeSync(file);
  }
  throw new Error(`"${write}" did not fail`);
}

Deno.test("a full disk or a read-only database is one sentence naming the object, the file and what to do", () => {
  const full = sqliteError((file) => {
    const db = new DatabaseSync(file);
    db.exec("PRAGMA max_page_count = 2"); // SQLITE_FULL, as a full disk gives it
    return db;
  }, "INSERT INTO t VALUES (zeroblob(100000))");
  assert.equal(
    sqliteFailure(full, 'creating object "packs/ab"', "/r/repo.db")?.message,
    'creating object "packs/ab" failed in the repository database "/r/repo.db": the disk is ' +
      "full; free space there (or use a repository on another disk) and run the command again",
  );
  const readOnly = sqliteError(
    (file) => new DatabaseSync(file, { readOnly: true }),
    "INSERT INTO t VALUES (1)",
  );
  assert.match(
    sqliteFailure(readOnly, 'creating object "packs/ab"', "/r/repo.db")!.message,
    /^creating object "packs\/ab" failed in the repository database "\/r\/repo\.db": it cannot be written \(.*read-only\)/,
  );
  assert.equal(sqliteFailure(new ObjectExists("x"), "creating", "/r/repo.db"), undefined);
});
