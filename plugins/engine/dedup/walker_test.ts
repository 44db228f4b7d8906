import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { Walker } from "./walker.ts";
import type { EngineHost, SourceNode } from "./types.ts";

/** A host that stores chunks and trees in memory, ids being SHA-256 (the real host uses a MAC). */
function memoryHost(hooks: Partial<EngineHost> = {}) {
  const blobs = new Map<string, Uint8Array>();
  const trees = new Map<string, SourceNode[]>();
  const warnings: string[] = [];
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
    filterMatch: (paths) => Promise.resolve(paths.map(() => false)),
    progress: () => {},
    warn: (path, reason) => void warnings.push(`${path}: ${reason}`),
    ...hooks,
  };
  return { host, blobs, trees, warnings };
}

const gear = Uint32Array.from({ length: 256 }, (_, i) => Math.imul(i + 1, 2654435761) >>> 0);
const options = { gear, chunker: { min: 1024, avg: 4096, max: 16384 }, filter: true };

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
  assert.ok(bigNode.content!.length > 3, "a large file is chunked");
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
  await new Walker(slow, { ...options, chunker: { min: 1 << 20, avg: 2 << 20, max: 4 << 20 } })
    .source(dir);
  assert.ok(peak <= 72 << 20, `peak outstanding ${peak} bytes`);
});
