import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { Walker, type WalkOptions, walkSources } from "./walker.ts";
import type { EngineHost, SourceNode } from "./engine_types.ts";
import { LimitSplitter } from "./splitter.ts";

/** The signature a CACHEDIR.TAG starts with (https://bford.info/cachedir/). */
const CACHEDIR_SIGNATURE = "Signature: 8a477f597d28d172789f06886806bc55";

/** A host that stores chunks and trees in memory, ids being SHA-256 (the real host uses a MAC). */
function memoryHost(hooks: Partial<EngineHost> = {}) {
  const blobs = new Map<string, Uint8Array>();
  const trees = new Map<string, SourceNode[]>();
  const warnings: string[] = [];
  const asked: { paths: string[]; root: string }[] = [];
  const id = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
  const host: EngineHost = {
    storeChunks: (chunks) =>
      Promise.resolve(chunks.map((c) => {
        const k = id(c);
        blobs.set(k, c);
        return k;
      })),
    storeTree: (nodes) => {
      const k = id(new TextEncoder().encode(JSON.stringify(nodes)));
      trees.set(k, nodes);
      return Promise.resolve(k);
    },
    cacheLookup: (q) => Promise.resolve(q.map(() => null)),
    cacheRecord: () => {},
    filterMatch: (paths, _dirs, root) => {
      asked.push({ paths, root });
      return Promise.resolve(paths.map(() => false));
    },
    progress: () => {},
    warn: (path, reason) => void warnings.push(`${path}: ${reason}`),
    mirrorPut: () => Promise.reject(new TypeError("this walk mirrors nothing")),
    ...hooks,
  };
  /** The names in the tree of a directory node, and below (`a/b`), in walk order. */
  const names = (node: SourceNode, prefix = ""): string[] =>
    trees.get(node.subtree!)!.flatMap((n) => [
      prefix + n.name,
      ...(n.type === "dir" ? names(n, `${prefix}${n.name}/`) : []),
    ]);
  return { host, blobs, trees, warnings, asked, names };
}

const options: WalkOptions = { splitter: () => new LimitSplitter(4096), filter: true };

Deno.test("Walker turns a directory into trees whose chunks concatenate to each file", async () => {
  const dir = await Deno.makeTempDir();
  const big = new Uint8Array(100_000).map((_, i) => (i * 7919) % 251);
  fs.writeFileSync(join(dir, "big"), big);
  fs.writeFileSync(join(dir, "small"), "tiny");
  fs.writeFileSync(join(dir, "empty"), "");
  const { host, blobs, trees } = memoryHost();
  const walker = new Walker(host, options);
  const node = await walker.source(dir);
  assert.equal(node.type, "dir");
  const root = trees.get(node.subtree!)!;
  assert.deepEqual(root.map((n) => n.name), ["big", "empty", "small"]);
  const bigNode = root[0];
  assert.equal(bigNode.content!.length, Math.ceil(100_000 / 4096), "cut every 4096 bytes");
  const joined = Buffer.concat(bigNode.content!.map((id) => blobs.get(id)!));
  assert.deepEqual(new Uint8Array(joined), big);
  assert.equal(root[1].content!.length, 0, "an empty file has no chunks");
  assert.equal(root[2].content!.length, 1, "a small file is one chunk");
  assert.equal(walker.stats.files, 3);
});

Deno.test("Walker warns about a file that vanishes before it is read, and goes on", async () => {
  const dir = await Deno.makeTempDir();
  fs.writeFileSync(join(dir, "a.txt"), "a");
  fs.writeFileSync(join(dir, "gone.txt"), "soon gone");
  const { host, trees, warnings } = memoryHost({
    // runs after the directory is listed and stat'ed, before any file is opened
    cacheLookup: (queries) => {
      fs.rmSync(join(dir, "gone.txt"), { force: true });
      return Promise.resolve(queries.map(() => null));
    },
  });
  const walker = new Walker(host, options);
  const node = await walker.source(dir);
  assert.deepEqual(trees.get(node.subtree!)!.map((n) => n.name), ["a.txt"]);
  assert.equal(walker.skipped.length, 1);
  assert.match(walker.skipped[0].reason, /cannot open/);
  assert.equal(warnings.length, 1);
});

Deno.test("Walker keeps at most its in-flight budget of chunk bytes waiting on the host", async () => {
  const dir = await Deno.makeTempDir();
  for (let i = 0; i < 4; i++) {
    fs.writeFileSync(join(dir, `f${i}`), new Uint8Array(40 << 20).fill(i + 1));
  }
  let outstanding = 0, peak = 0;
  const { host } = memoryHost();
  const slow: EngineHost = {
    ...host,
    storeChunks: async (chunks) => {
      const n = chunks.reduce((s, c) => s + c.length, 0);
      outstanding += n;
      peak = Math.max(peak, outstanding);
      await new Promise((r) => setTimeout(r, 5));
      outstanding -= n;
      return chunks.map((_, i) => `${i}`.padStart(64, "0"));
    },
  };
  await new Walker(slow, { ...options, splitter: () => new LimitSplitter(2 << 20) }).source(dir);
  assert.ok(peak <= 72 << 20, `peak outstanding ${peak} bytes`);
});

Deno.test("Walker asks the filter with paths relative to the source they are under", async () => {
  const a = await Deno.makeTempDir(), b = await Deno.makeTempDir();
  fs.mkdirSync(join(a, "sub"));
  fs.writeFileSync(join(a, "sub", "x"), "x");
  fs.writeFileSync(join(b, "y"), "y");
  const { host, asked } = memoryHost();
  await walkSources(host, [a, b], options);
  assert.deepEqual(asked, [
    { paths: ["sub"], root: a },
    { paths: ["sub/x"], root: a },
    { paths: ["y"], root: b },
  ]);
});

Deno.test("Walker leaves out a folder holding an excludeIfPresent name, and one with a real CACHEDIR.TAG only", async () => {
  const dir = await Deno.makeTempDir();
  const w = (rel: string, data: string) => {
    fs.mkdirSync(join(dir, rel, ".."), { recursive: true });
    fs.writeFileSync(join(dir, rel), data);
  };
  w("keep/a", "a");
  w("marked/.nobackup", "");
  w("marked/inner/b", "b");
  w("cache/CACHEDIR.TAG", `${CACHEDIR_SIGNATURE}\n# made by a tool\n`);
  w("cache/c", "c");
  w("fake/CACHEDIR.TAG", "not the signature\n");
  w("fake/d", "d");
  w("short/CACHEDIR.TAG", CACHEDIR_SIGNATURE.slice(0, 20));
  fs.mkdirSync(join(dir, "linked"));
  fs.symlinkSync(join(dir, "cache", "CACHEDIR.TAG"), join(dir, "linked", "CACHEDIR.TAG"));
  const { host, names } = memoryHost();
  const walker = new Walker(host, {
    ...options,
    excludeIfPresent: [".nobackup", "CACHEDIR.TAG"],
  });
  const node = await walker.source(dir);
  assert.deepEqual(names(node), [
    "fake",
    "fake/CACHEDIR.TAG",
    "fake/d",
    "keep",
    "keep/a",
    "linked",
    "linked/CACHEDIR.TAG",
    "short",
    "short/CACHEDIR.TAG",
  ]);
  assert.equal(walker.stats.dirs, 5, "the source and four folders kept");
  assert.deepEqual(walker.skipped, [], "what the user left out is no warning");
  // A source is never left out by a walk rule: the user named it.
  const cache = await new Walker(host, { ...options, excludeIfPresent: ["CACHEDIR.TAG"] })
    .source(join(dir, "cache"));
  assert.deepEqual(names(cache), ["CACHEDIR.TAG", "c"]);
});

Deno.test("Walker leaves out regular files larger than excludeLargerThan, never a source", async () => {
  const dir = await Deno.makeTempDir();
  fs.writeFileSync(join(dir, "at-limit"), new Uint8Array(1000));
  fs.writeFileSync(join(dir, "over"), new Uint8Array(1001));
  fs.symlinkSync("over", join(dir, "link"));
  const { host, names } = memoryHost();
  const walker = new Walker(host, { ...options, excludeLargerThan: 1000 });
  assert.deepEqual(names(await walker.source(dir)), ["at-limit", "link"]);
  assert.deepEqual([walker.stats.files, walker.stats.bytes], [1, 1000]);
  const alone = await walker.source(join(dir, "over"));
  assert.equal(alone.size, 1001);
});

Deno.test("Walker rejects with the host's error when the host fails to store, leaving no rejection unobserved", async () => {
  // A full disk: every chunk store fails, and each cache answer takes a turn of the event
  // loop, as an answer over the worker's port does. The failure reaches a file's node while its
  // folder's walk still waits on a subfolder; unobserved, it would crash the worker (and here
  // fail the test as an uncaught error) instead of reaching the host.
  const dir = await Deno.makeTempDir();
  for (let d = 0; d < 3; d++) {
    fs.mkdirSync(join(dir, `d${d}`, "sub"), { recursive: true });
    fs.writeFileSync(join(dir, `d${d}`, "big"), new Uint8Array(2 << 20).fill(d + 1));
    fs.writeFileSync(join(dir, `d${d}`, "sub", "f"), `file ${d}`);
  }
  const full = new Error(`object "packs/1" could not be written: the disk is full`);
  const { host } = memoryHost({
    storeChunks: () => Promise.reject(full),
    cacheLookup: (q) => new Promise((resolve) => setTimeout(() => resolve(q.map(() => null)), 0)),
  });
  await assert.rejects(walkSources(host, [dir], options), full);
});

Deno.test("Walker skips a file swapped for a FIFO after it was listed, without waiting on it", async () => {
  const dir = await Deno.makeTempDir();
  fs.writeFileSync(join(dir, "a.txt"), "a");
  fs.writeFileSync(join(dir, "pipe"), "a file when listed");
  const { host, trees, warnings } = memoryHost({
    // runs after the directory is listed and stat'ed, before any file is opened
    cacheLookup: async (queries) => {
      fs.rmSync(join(dir, "pipe"));
      const made = await new Deno.Command("mkfifo", { args: [join(dir, "pipe")] }).output();
      assert.equal(made.code, 0);
      return queries.map(() => null);
    },
  });
  const walker = new Walker(host, options);
  const node = await walker.source(dir); // with no writer, reading the FIFO would never end
  assert.deepEqual(trees.get(node.subtree!)!.map((n) => n.name), ["a.txt"]);
  assert.deepEqual(warnings, [
    `${
      join(dir, "pipe")
    }: is no longer a regular file (replaced since it was listed); not backed up`,
  ]);
});

Deno.test("a mirroring walk hands each file to the host with its path under the source and its class, leaves out a file the host skipped, and reuses a cached object without asking", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir());
  try {
    fs.mkdirSync(join(dir, "sub"));
    fs.writeFileSync(join(dir, "big"), new Uint8Array(5000));
    fs.writeFileSync(join(dir, "sub", "small"), "s");
    fs.writeFileSync(join(dir, "torn"), "t");
    fs.writeFileSync(join(dir, "cached"), "c");
    const cachedRef = {
      key: "mirror/x/cached",
      sha256: "a".repeat(64),
      class: "STANDARD" as const,
    };
    const put: string[] = [];
    const m = memoryHost({
      cacheLookup: (q) =>
        Promise.resolve(q.map((e) => e.path.endsWith("/cached") ? { mirror: cachedRef } : null)),
      mirrorPut: (path, rel, size, _mtime, storageClass) => {
        put.push(`${rel} ${size} ${storageClass}`);
        if (rel === "torn") return Promise.resolve({ skipped: "changed while it was being read" });
        const ref = { key: `mirror/x/${rel}`, sha256: "b".repeat(64), class: storageClass };
        assert.ok(path.endsWith(rel));
        return Promise.resolve({ ref });
      },
    });
    const result = await walkSources(m.host, [dir], {
      ...options,
      mirror: (size) => size > 1000 ? "DEEP_ARCHIVE" : "STANDARD",
    });
    assert.deepEqual(put.sort(), [
      "big 5000 DEEP_ARCHIVE",
      "sub/small 1 STANDARD",
      "torn 1 STANDARD",
    ]);
    assert.deepEqual(m.names(result.nodes[0]), ["big", "cached", "sub", "sub/small"]);
    const top = m.trees.get(result.nodes[0].subtree!)!;
    assert.deepEqual(top.find((n) => n.name === "cached")?.mirror, cachedRef);
    assert.deepEqual(top.find((n) => n.name === "big")?.content, []);
    assert.equal(m.blobs.size, 0, "nothing is cut into blobs");
    assert.deepEqual(result.skipped.map((s) => s.path), [join(dir, "torn")]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Walker asks the directory cache about a block of sibling folders in one call, each once", async () => {
  const dir = await Deno.makeTempDir();
  for (let i = 0; i < 20; i++) {
    fs.mkdirSync(join(dir, `d${String(i).padStart(2, "0")}`, "leaf"), { recursive: true });
    fs.writeFileSync(join(dir, `d${String(i).padStart(2, "0")}`, "f"), `file ${i}`);
  }
  const calls: string[][] = [];
  const { host } = memoryHost({
    cacheDirs: (queries) => {
      calls.push(queries.map((q) => q.path));
      return Promise.resolve(queries.map(() => null));
    },
    cacheRecordDir: () => {},
  });
  await walkSources(host, [dir], { ...options, filter: false });
  const asked = calls.flat();
  assert.equal(asked.length, 41, "the source, 20 folders and their 20 subfolders");
  assert.equal(new Set(asked).size, asked.length, "no folder asked about twice");
  // The source's first nine subfolders (the one walked first and eight scanned ahead) together.
  assert.ok(calls.some((c) => c.length >= 9), `calls: ${calls.map((c) => c.length)}`);
  assert.ok(calls.length < 30, `${calls.length} calls for 41 folders`);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("Walker asks about a block of sibling folders in one call also when each filter answer comes in its own message", async () => {
  const dir = await Deno.makeTempDir();
  for (let i = 0; i < 20; i++) {
    fs.mkdirSync(join(dir, `d${String(i).padStart(2, "0")}`, "leaf"), { recursive: true });
  }
  const calls: string[][] = [];
  const { host, asked } = memoryHost({
    cacheDirs: (queries) => {
      calls.push(queries.map((q) => q.path));
      return Promise.resolve(queries.map(() => null));
    },
    cacheRecordDir: () => {},
  });
  const match = host.filterMatch;
  // A worker's answers arrive as separate message events: a task each, not a microtask.
  host.filterMatch = (paths, dirs, root) =>
    new Promise((resolve) => setTimeout(() => resolve(match(paths, dirs, root)), 0));
  await walkSources(host, [dir], options);
  assert.equal(asked.length, 21, "the filter was asked about every folder but the leaves");
  assert.equal(calls.flat().length, 41, "the source, 20 folders and their 20 subfolders");
  assert.ok(calls.some((c) => c.length >= 9), `calls: ${calls.map((c) => c.length)}`);
  assert.ok(calls.length < 30, `${calls.length} calls for 41 folders`);
  Deno.removeSync(dir, { recursive: true });
});
