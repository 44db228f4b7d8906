import assert from "node:assert/strict";
import { blobId } from "../crypto/mac.ts";
import { DryRunStorage } from "../storage/dry_run.ts";
import type { CreateOptions, Storage } from "../storage/storage.ts";
import { newConfig } from "./config.ts";
import { RepoIndex } from "./index.ts";
import { generateMasterKeys } from "./keys.ts";
import { PackUploader } from "./pack_uploader.ts";
import { CompressorPool } from "./compressor.ts";
import { openDataKey, PACK_HEADER_LENGTH, readBlob, readPackContents } from "./pack.ts";
import { decodePackIndex } from "./pack_index.ts";

/** A store that keeps objects in memory and answers creates after a short delay. */
class SlowMemoryStorage implements Storage {
  objects = new Map<string, Uint8Array>();
  /** Each create's name and label, in the order they completed. */
  log: { name: string; label?: string }[] = [];
  create(name: string, data: Uint8Array, options: CreateOptions = {}) {
    return new Promise<void>((r) =>
      setTimeout(() => {
        this.objects.set(name, data);
        this.log.push({ name, label: options.label });
        r();
      }, 2)
    );
  }
  read(name: string) {
    return Promise.resolve(this.objects.get(name)!);
  }
  stat(name: string) {
    const o = this.objects.get(name);
    const availability = { state: "readable" as const };
    return Promise.resolve(o ? { name, size: o.length, availability } : null);
  }
  requestRestore() {
    return Promise.resolve();
  }
  list(prefix: string) {
    return Promise.resolve(
      [...this.objects].filter(([n]) => n.startsWith(prefix)).map(([name, d]) => ({
        name,
        size: d.length,
      })),
    );
  }
  delete(name: string) {
    this.objects.delete(name);
    return Promise.resolve();
  }
  close() {
    return Promise.resolve();
  }
}

Deno.test("PackUploader takes overlapping add() calls one at a time and stores every blob once", async () => {
  const keys = await generateMasterKeys();
  const config = newConfig({ pack: { dataSize: 20_000, metaSize: 5_000, frameSize: 3_000 } });
  const storage = new SlowMemoryStorage();
  const pool = new CompressorPool(1);
  const index = new RepoIndex();
  const up = new PackUploader(storage, keys, config, index, pool.compress);
  const blobs = Array.from(
    { length: 200 },
    (_, i) => crypto.getRandomValues(new Uint8Array(900 + i)),
  );
  const expected = blobs.map((b) => blobId(keys.macKey, b));
  // every blob twice, all calls in flight at once, as a pipelining engine does
  const ids = await Promise.all([...blobs, ...blobs].map((b) => up.add("data", b.slice())));
  await up.flush();
  pool.close();
  assert.deepEqual(ids, [...expected, ...expected]);
  assert.equal(up.stats.newBlobs, 201, "the 200 blobs and the pack-index blob naming their packs");
  assert.equal(up.stats.knownBlobs, 200);
  assert.ok(up.stats.packs >= 9, `${up.stats.packs} packs of about 20 kB`);
  const seen = new Set<string>();
  for (const [name, data] of storage.objects) {
    if (!name.startsWith("packs/")) continue;
    for (const b of readPackContents(data, keys).blobs.filter((b) => b.type === "data")) {
      assert.ok(!seen.has(b.id), "no blob stored twice");
      seen.add(b.id);
    }
  }
  assert.equal(seen.size, 200);
  for (const id of expected) assert.ok(index.has(id), "every blob indexed after flush");
});

Deno.test("PackUploader over a dry-run store counts what it would write and writes nothing", async () => {
  const keys = await generateMasterKeys();
  const inner = new SlowMemoryStorage();
  const dry = new DryRunStorage(inner);
  const up = new PackUploader(dry, keys, newConfig(), new RepoIndex());
  await up.add("data", new Uint8Array(5000).fill(7));
  await up.flush();
  assert.equal(inner.objects.size, 0);
  // the data pack, then the metadata pack naming it (both tiers), each with its segment
  assert.deepEqual(
    dry.created.map((o) => o.name.split("/")[0]).sort(),
    ["index", "index", "meta", "packs", "packs"],
  );
});

Deno.test("flush() names every data pack of the run in a pack-index blob, in a metadata pack stored after them; packs are labelled", async () => {
  const keys = await generateMasterKeys();
  const config = newConfig({ pack: { dataSize: 20_000, metaSize: 1 << 20, frameSize: 3_000 } });
  const storage = new SlowMemoryStorage();
  const index = new RepoIndex();
  const up = new PackUploader(storage, keys, config, index);
  for (let i = 0; i < 60; i++) {
    await up.add("data", crypto.getRandomValues(new Uint8Array(1000 + i)));
  }
  await up.add("tree", new TextEncoder().encode('{"version":1,"nodes":[]}'));
  await up.flush();
  const packs = storage.log.filter((o) => o.name.startsWith("packs/"));
  const dataPacks = packs.filter((o) => o.label === "data").map((o) => o.name.slice(6));
  const metaPacks = packs.filter((o) => o.label === "meta").map((o) => o.name.slice(6));
  assert.ok(dataPacks.length >= 3, `${dataPacks.length} data packs`);
  assert.equal(metaPacks.length, 1);
  assert.equal(packs.length, dataPacks.length + 1, "every pack is labelled");
  assert.equal(packs.at(-1)!.name, `packs/${metaPacks[0]}`, "the metadata pack comes last");
  const meta = storage.objects.get(`packs/${metaPacks[0]}`)!;
  assert.equal(meta[4], 2, "a pack holding a pack index is version 2");
  const toc = readPackContents(meta, keys);
  const loc = toc.blobs.find((b) => b.type === "pack-index")!;
  const key = openDataKey(meta.subarray(0, PACK_HEADER_LENGTH), keys);
  const frame = meta.subarray(loc.frameOffset, loc.frameOffset + loc.frameLength);
  const named = decodePackIndex(readBlob(key, frame, loc, keys.macKey));
  assert.deepEqual(named.map((p) => p.pack).sort(), [...dataPacks].sort());
  for (const p of named) {
    const data = storage.objects.get(`packs/${p.pack}`)!;
    assert.equal(p.length, data.length);
    assert.deepEqual(p.blobs, readPackContents(data, keys).blobs, "the entry equals the TOC");
  }
  // A second flush with no new data packs adds no pack index.
  await up.add("snapshot", new TextEncoder().encode("details"));
  await up.flush();
  const last = storage.objects.get(storage.log.filter((o) => o.label === "meta").at(-1)!.name)!;
  assert.equal(last[4], 1);
  assert.deepEqual(readPackContents(last, keys).blobs.map((b) => b.type), ["snapshot"]);
});
