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

/** Directory records with blob-id-like values; `n` picks distinct ids. */
const id = (n: number) => n.toString(16).padStart(64, "0");
const dirRecord = (path: string, n: number, newest = ["1000000000001"]) => ({
  path,
  fingerprint: `fp-${path}`,
  newest,
  tree: id(n),
  subtrees: [id(n + 1)],
  files: [[id(n + 2), id(n + 3)], []],
});
const KEY = new Uint8Array(32).fill(7);

Deno.test("a directory's row answers only its fingerprint, under the same context, in its shape", async () => {
  const file = join(await Deno.makeTempDir(), "files.sqlite");
  const cache = new FileCache(file);
  cache.enableDirs(KEY, "context 1");
  cache.recordDirs([dirRecord("/src/a", 1), dirRecord("/src/b", 10)]);
  assert.equal(cache.lookupDir("/src/a", "fp-/src/a", 2, 1), undefined, "only once committed");
  cache.commit(Date.now());
  const { tree, subtrees, files } = dirRecord("/src/a", 1);
  assert.deepEqual(cache.lookupDir("/src/a", "fp-/src/a", 2, 1), { tree, subtrees, files });
  assert.equal(cache.lookupDir("/src/a", "fp-other", 2, 1), undefined, "other stats");
  assert.equal(cache.lookupDir("/src/a", "fp-/src/a", 3, 1), undefined, "another file count");
  assert.equal(cache.lookupDir("/src/a", "fp-/src/a", 2, 0), undefined, "another subdir count");
  assert.equal(cache.lookupDir("/src/c", "fp-/src/c", 2, 1), undefined, "never recorded");
  cache.close();

  const other = new FileCache(file);
  assert.equal(other.lookupDir("/src/a", "fp-/src/a", 2, 1), undefined, "not enabled");
  other.enableDirs(KEY, "context 2"); // e.g. other excludes, or other engine options
  assert.equal(other.lookupDir("/src/a", "fp-/src/a", 2, 1), undefined, "another context");
  other.close();
  const otherEngine = new FileCache(file, "worm");
  otherEngine.enableDirs(KEY, "context 1");
  assert.equal(otherEngine.lookupDir("/src/a", "fp-/src/a", 2, 1), undefined, "another engine");
  otherEngine.close();
});

Deno.test("a directory row altered on disk, or moved to another path, is a miss", async () => {
  const file = join(await Deno.makeTempDir(), "files.sqlite");
  const cache = new FileCache(file);
  cache.enableDirs(KEY, "ctx");
  cache.recordDirs([dirRecord("/src/a", 1), dirRecord("/src/b", 10), dirRecord("/src/c", 20)]);
  cache.commit(Date.now());
  cache.close();
  const db = new DatabaseSync(file);
  // Another stored tree for /src/a; /src/b's whole row (a valid MAC for /src/b) under /src/c.
  db.prepare(`UPDATE "dirs-dedup" SET tree = ? WHERE path = '/src/a'`).run(id(99));
  db.exec(`DELETE FROM "dirs-dedup" WHERE path = '/src/c'`);
  db.exec(
    `INSERT INTO "dirs-dedup" SELECT '/src/c', 'fp-/src/c', tree, subtrees, files, mac, seen ` +
      `FROM "dirs-dedup" WHERE path = '/src/b'`,
  );
  db.close();
  const again = new FileCache(file);
  again.enableDirs(KEY, "ctx");
  assert.equal(again.lookupDir("/src/a", "fp-/src/a", 2, 1), undefined);
  assert.equal(again.lookupDir("/src/c", "fp-/src/c", 2, 1), undefined);
  assert.equal(again.lookupDir("/src/b", "fp-/src/b", 2, 1)?.tree, id(10), "untouched");
  again.close();
  const otherKey = new FileCache(file);
  otherKey.enableDirs(new Uint8Array(32).fill(8), "ctx"); // another repository's cache rows
  assert.equal(otherKey.lookupDir("/src/b", "fp-/src/b", 2, 1), undefined);
  otherKey.close();
});

Deno.test("a directory with a time close to the run's start is not recorded; nor an unfinished run's", async () => {
  const file = join(await Deno.makeTempDir(), "files.sqlite");
  const startedAt = Date.parse("2026-11-26T22:00:00.500Z");
  const ns = (ms: number) => (BigInt(ms) * 1_000_000n).toString();
  const cache = new FileCache(file);
  cache.enableDirs(KEY, "ctx");
  cache.recordDirs([
    dirRecord("/settled", 1, [ns(startedAt - RACY_MARGIN_MS - 1)]),
    dirRecord("/within-the-tick", 10, [ns(startedAt - RACY_MARGIN_MS + 1)]),
    // Its latest time is settled, but its latest whole-second one is not.
    dirRecord("/whole-second-recent", 20, [
      ns(startedAt - 60_000),
      ns(Date.parse("2026-11-26T21:59:59.000Z")),
    ]),
    dirRecord("/no-time", 30, []),
  ]);
  cache.commit(startedAt);
  const found = ["/settled", "/within-the-tick", "/whole-second-recent", "/no-time"]
    .filter((p) => cache.lookupDir(p, `fp-${p}`, 2, 1) !== undefined);
  assert.deepEqual(found, ["/settled"]);
  // A run that records and ends without committing (killed) leaves nothing.
  cache.recordDirs([dirRecord("/killed", 40, [ns(startedAt - 60_000)])]);
  cache.close();
  const after = new FileCache(file);
  after.enableDirs(KEY, "ctx");
  after.commit(startedAt);
  assert.equal(after.lookupDir("/killed", "fp-/killed", 2, 1), undefined);
  after.close();
});
