import assert from "node:assert/strict";
import { join } from "node:path";
import { ObjectExists, ObjectNotFound } from "../../sdk/mod.ts";
import { openTemp } from "./durable_file.ts";
import { diskFull, LocalStore } from "./local_store.ts";

/** Name and size of listed objects (`modified` varies). */
const namesAndSizes = (list: { name: string; size: number }[]) =>
  list.map(({ name, size }) => ({ name, size }));

const id = "ab" + "0123456789abcdef".repeat(4).slice(2);

async function withStore(fn: (s: LocalStore, root: string) => Promise<void>): Promise<void> {
  const base = await Deno.makeTempDir({ prefix: "pf-store-" });
  const root = join(base, "repo");
  const s = new LocalStore(root);
  await s.init();
  try {
    await fn(s, root);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
}

Deno.test("LocalStore fans packs out by the first two digits of their id", async () => {
  await withStore(async (s, root) => {
    await s.create(`packs/${id}`, new Uint8Array([1, 2, 3]));
    assert.equal((await Deno.stat(join(root, "packs", "ab", id))).size, 3);
    assert.deepEqual(namesAndSizes(await s.list("packs/")), [{ name: `packs/${id}`, size: 3 }]);
    await s.create(`index/${id}`, new Uint8Array([4]));
    assert.equal((await Deno.stat(join(root, "index", id))).size, 1);
  });
});

Deno.test("LocalStore leaves nothing in tmp/ after creates, failed ones included", async () => {
  await withStore(async (s, root) => {
    await s.create("config", new Uint8Array([1]));
    await s.create("config", new Uint8Array([1]));
    await assert.rejects(s.create("config", new Uint8Array([2])), ObjectExists);
    assert.deepEqual([...Deno.readDirSync(join(root, "tmp"))], []);
  });
});

Deno.test("LocalStore.create() holds a lock on its temporary file while it writes", async () => {
  await withStore(async (s, root) => {
    let locked: boolean | undefined;
    await s.create(`packs/${id}`, new Uint8Array(100_000), undefined, () => {
      const [tmp] = [...Deno.readDirSync(join(root, "tmp"))];
      using file = Deno.openSync(join(root, "tmp", tmp.name), { read: true });
      locked = !file.tryLockSync(true);
    });
    assert.equal(locked, true, "another handle cannot take the temporary file's lock");
  });
});

Deno.test("LocalStore strays are not writes under way: a locked temporary file, however old, is neither listed nor removed", async () => {
  await withStore(async (_s, root) => {
    // What a create under way holds (as above), made to look a week old.
    const writing = await openTemp(join(root, "tmp"));
    const old = new Date(Date.now() - 7 * 86_400_000);
    await Deno.utime(writing.path, old, old);
    const name = `tmp/${writing.path.split("/").pop()}`;
    const gc = new LocalStore(root); // another handle, as a gc purge in another process has
    assert.deepEqual(await gc.strays(), []);
    await gc.removeStray(name);
    assert.ok((await Deno.stat(writing.path)).isFile, "the write under way keeps its file");

    writing.file.close(); // its process is killed: the lock goes, the file stays
    assert.deepEqual((await gc.strays()).map((x) => x.name), [name]);
    await gc.removeStray(name);
    assert.deepEqual(await gc.strays(), []);
  });
});

Deno.test("LocalStore.list() skips tmp/, .cold/ and files in packs/ that are not fanned out correctly", async () => {
  await withStore(async (s, root) => {
    await Deno.writeTextFile(join(root, "tmp", "leftover"), "x");
    await Deno.mkdir(join(root, ".cold"));
    await Deno.writeTextFile(join(root, ".cold", "record.json"), "{}");
    await Deno.mkdir(join(root, "packs", "zz"), { recursive: true });
    await Deno.writeTextFile(join(root, "packs", "zz", id), "misplaced");
    await Deno.writeTextFile(join(root, "packs", id), "not fanned out");
    await s.create("config", new Uint8Array(5));
    assert.deepEqual(namesAndSizes(await s.list("")), [{ name: "config", size: 5 }]);
  });
});

Deno.test("LocalStore rejects object names that could leave the root or hit tmp/ or .cold/", async () => {
  await withStore(async (s) => {
    for (
      const n of [
        "",
        "../x",
        "a/../../x",
        "/etc/passwd",
        "a//b",
        "a/",
        "./a",
        "tmp/x",
        "tmp",
        ".cold",
        ".cold/x",
        "packs/a/b",
        "packs/a",
        "a\\b",
      ]
    ) {
      await assert.rejects(s.create(n, new Uint8Array(1)), TypeError, n);
      await assert.rejects(s.read(n), TypeError, n);
      await assert.rejects(s.stat(n), TypeError, n);
      await assert.rejects(s.delete(n), TypeError, n);
    }
    await assert.rejects(s.list("../"), TypeError);
    await assert.rejects(s.list("a/../../"), TypeError);
    assert.deepEqual(await s.list("tmp/"), []);
    assert.deepEqual(await s.list(".cold/"), []);
  });
});

Deno.test("LocalStore.read() of a folder name is ObjectNotFound", async () => {
  await withStore(async (s) => {
    await s.create(`index/${id}`, new Uint8Array([1]));
    await assert.rejects(s.read("index"), ObjectNotFound);
    await assert.rejects(s.read("index", { offset: 0, length: 0 }), ObjectNotFound);
    assert.equal(await s.stat("index"), null);
    await assert.rejects(s.create("index", new Uint8Array(1)), ObjectExists);
  });
});

Deno.test("LocalStore.create() into a missing root names the folder", async () => {
  const s = new LocalStore("/nonexistent/pf-repo");
  await assert.rejects(
    s.create("config", new Uint8Array(1)),
    new Deno.errors.NotFound(`repository folder "/nonexistent/pf-repo" does not exist`),
  );
});

Deno.test("LocalStore needs an absolute root", () => {
  assert.throws(() => new LocalStore("repo"), TypeError);
});

Deno.test("a full disk of the local store is named with the object, the folder and what to do", () => {
  const enospc = Object.assign(new Error("No space left on device (os error 28)"), {
    code: "ENOSPC",
  });
  assert.equal(
    diskFull(enospc, 'object "packs/ab"', "/mnt/backup/repo")?.message,
    'object "packs/ab" could not be written to the repository folder "/mnt/backup/repo": the ' +
      "disk is full; free space there (or use a repository on another disk) and run the " +
      "command again",
  );
  const quota = Object.assign(new Error("Disk quota exceeded (os error 122)"), { code: "EDQUOT" });
  assert.match(diskFull(quota, 'object "x"', "/r")!.message, /the disk quota is used up/);
  assert.equal(diskFull(new Error("other"), 'object "x"', "/r"), undefined);
});
