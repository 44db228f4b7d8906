import assert from "node:assert/strict";
import { join } from "node:path";
import { FileCache } from "./file_cache.ts";

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
  cache.commit(); // entries count only once committed
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
