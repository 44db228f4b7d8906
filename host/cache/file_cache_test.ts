import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { COARSE_RACY_MARGIN_MS, FileCache, RACY_MARGIN_MS } from "./file_cache.ts";

const entry = (path: string, content: string[]) => ({
  path,
  size: 10,
  mtime: "1",
  ctime: "2",
  inode: "3",
  content,
});

Deno.test("the file cache answers a batch: hits, changed files and unknown paths, any name", async () => {
  const file = join(await Deno.makeTempDir(), "files.sqlite");
  const cache = new FileCache(file);
  const names = ["/a", '/quote"d', "/ünïcødé ☃", "/comma,and]bracket", "/b"];
  cache.record(names.map((n, i) => entry(n, [`id${i}`])));
  assert.deepEqual(cache.lookup(names.map((n) => entry(n, []))), names.map(() => null));
  cache.commit(Date.now()); // entries count only once committed
  cache.close();

  const again = new FileCache(file);
  const got = again.lookup([
    entry("/b", []),
    { ...entry("/a", []), size: 11 }, // changed size
    entry("/missing", []),
    entry('/quote"d', []),
    entry("/ünïcødé ☃", []),
    { ...entry("/comma,and]bracket", []), inode: "4" }, // other inode
    entry("/b", []), // asked twice
  ]);
  assert.deepEqual(got, [["id4"], null, null, ["id1"], ["id2"], null, ["id4"]]);
  assert.deepEqual(again.lookup([]), []);
  again.close();
});

Deno.test("entries whose mtime or ctime is close to the run's start, or after it, are not written", async () => {
  const file = join(await Deno.makeTempDir(), "files.sqlite");
  const startedAt = Date.parse("2026-11-26T22:00:00.500Z");
  const ns = (ms: number) => (BigInt(ms) * 1_000_000n).toString();
  const at = (path: string, mtimeMs: number, ctimeMs = mtimeMs) => ({
    ...entry(path, [path]),
    mtime: ns(mtimeMs),
    ctime: ns(ctimeMs),
  });
  const wholeSecond = Date.parse("2026-11-26T21:59:59.000Z"); // 1.5 s before the start
  const records = [
    at("/settled", startedAt - RACY_MARGIN_MS - 1),
    at("/within-the-tick", startedAt - RACY_MARGIN_MS + 1),
    at("/written-during-the-run", startedAt + 5_000),
    at("/ctime-racy", startedAt - 60_000, startedAt - 1),
    at("/whole-second-recent", wholeSecond), // may be a 2 s file system's stamp
    at("/whole-second-old", startedAt - COARSE_RACY_MARGIN_MS - 500),
    at("/before-1970", -86_400_000),
    { ...entry("/unreadable-time", ["x"]), mtime: "soon" },
  ];
  const cache = new FileCache(file);
  cache.record(records);
  cache.commit(startedAt);
  const got = cache.lookup(records);
  cache.close();
  assert.deepEqual(
    records.filter((_, i) => got[i] !== null).map((r) => r.path),
    ["/settled", "/whole-second-old", "/before-1970"],
  );
});

Deno.test("a cache written before racy rows were left out (schema 1) is dropped, not trusted", async () => {
  const file = join(await Deno.makeTempDir(), "files.sqlite");
  const old = new DatabaseSync(file);
  old.exec(`
    CREATE TABLE files (
      path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime TEXT NOT NULL, ctime TEXT NOT NULL,
      inode TEXT NOT NULL, content TEXT NOT NULL, seen TEXT NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO files VALUES ('/a', 10, '1', '2', '3', '["id"]', 'then');
    PRAGMA user_version = 1;`);
  old.close();
  const cache = new FileCache(file);
  assert.deepEqual(cache.lookup([entry("/a", [])]), [null]);
  cache.close();
});

Deno.test("the rows one engine wrote are no answer for another", async () => {
  const file = join(await Deno.makeTempDir(), "files.sqlite");
  const dedup = new FileCache(file);
  dedup.record([entry("/a", ["chunk1", "chunk2"])]);
  dedup.commit(Date.now());
  dedup.close();
  const whole = new FileCache(file, "worm");
  assert.deepEqual(whole.lookup([entry("/a", [])]), [null]);
  whole.record([entry("/a", ["whole"])]);
  whole.commit(Date.now());
  assert.deepEqual(whole.lookup([entry("/a", [])]), [["whole"]]);
  whole.close();
  const again = new FileCache(file, "dedup");
  assert.deepEqual(again.lookup([entry("/a", [])]), [["chunk1", "chunk2"]]);
  again.close();
  assert.throws(() => new FileCache(file, 'x"; DROP TABLE files; --'), TypeError);
});

Deno.test("a run's entries are seen by no other run, and a run that ends uncommitted leaves none", async () => {
  const file = join(await Deno.makeTempDir(), "files.sqlite");
  const killed = new FileCache(file);
  const other = new FileCache(file);
  killed.record([entry("/a", ["id-a"]), entry("/b", ["id-b"])]);
  killed.record([entry("/a", ["id-a2"])]); // a later record of a path replaces it
  assert.deepEqual(other.lookup([entry("/a", [])]), [null]);
  other.commit(Date.now()); // commits only its own (no) entries
  killed.close(); // as a killed run: nothing committed
  assert.deepEqual(other.lookup([entry("/a", []), entry("/b", [])]), [null, null]);
  other.close();

  const next = new FileCache(file);
  next.record([entry("/a", ["id-a"]), entry("/c", ["id-c"])]);
  next.record([entry("/a", ["id-a2"]), { ...entry("/c", ["id-c2"]), mtime: "racy" }]);
  next.commit(Date.now());
  // Each path's last record counts: "/c" was read again and is racy, so it is not written.
  assert.deepEqual(next.lookup([entry("/a", []), entry("/c", [])]), [["id-a2"], null]);
  next.commit(Date.now()); // a second commit writes nothing again
  next.close();
});

Deno.test("a run's recorded entries wait on disk, not in the heap, until it commits", async () => {
  // A first backup records every file it reads; held in the heap until the commit, 100,000
  // entries took about 45 MB of it. In a process of its own, for a garbage collector to call.
  const module = new URL("./file_cache.ts", import.meta.url).href;
  const script = `
    import { FileCache } from ${JSON.stringify(module)};
    const cache = new FileCache(Deno.args[0]);
    const used = () => { globalThis.gc(); return Deno.memoryUsage().heapUsed; };
    const before = used();
    for (let batch = 0; batch < 200; batch++) {
      cache.record(Array.from({ length: 500 }, (_, i) => ({
        path: "/home/someone/projects/folder-" + batch + "/file-" + i + ".txt",
        size: 4096, mtime: "1700000000123456789", ctime: "1700000000123456789",
        inode: String(1_000_000 + batch * 500 + i),
        content: ["0123456789abcdef".repeat(4).slice(0, 60) + String(batch * 500 + i).padStart(4, "0")],
      })));
    }
    console.log(used() - before);
    cache.commit(Date.now());
    cache.close();`;
  const dir = await Deno.makeTempDir();
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--v8-flags=--expose-gc", script, join(dir, "files.sqlite")],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const grown = Number(new TextDecoder().decode(stdout).trim());
  assert.ok(grown < 4 << 20, `the heap grew by ${(grown / 2 ** 20).toFixed(1)} MB`);
});
