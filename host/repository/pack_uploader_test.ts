import assert from "node:assert/strict";
import { blobId } from "../crypto/mac.ts";
import { DryRunStorage } from "../storage/dry_run.ts";
import type { CreateOptions, Storage } from "../storage/storage.ts";
import { newConfig, type RepoConfig } from "./config.ts";
import { sha256Hex } from "../crypto/hash.ts";
import { encodeIndexSegment } from "./index_segment.ts";
import { layout } from "./layout.ts";
import { MemoryIndex } from "./repo_index.ts";
import { generateMasterKeys, type RepoKeys } from "./keys.ts";
import { MAX_COPY_SHARE, PackUploader, type SegmentWriter } from "./pack_uploader.ts";
import { CompressorPool } from "./compressor.ts";
import { openDataKey, PACK_HEADER_LENGTH, readBlob, readPackContents } from "./pack.ts";
import { decodePackIndex } from "./pack_index.ts";

/**
 * What `Repository.writeSegment` does for these tests, which have keys but no repository: a
 * version-1 segment at the config's level, stored create-only; returns its id.
 */
function segmentsTo(storage: Storage, keys: RepoKeys, config: RepoConfig): SegmentWriter {
  return async (packs) => {
    const bytes = encodeIndexSegment(keys.indexKey, packs, { level: config.compression.level });
    const id = sha256Hex(bytes);
    await storage.create(layout.index(id), bytes);
    return id;
  };
}

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
  strays() {
    return Promise.resolve([]); // every create completes
  }
  removeStray() {
    return Promise.resolve();
  }
  versioning() {
    return Promise.resolve("off" as const);
  }
  putVersion(): Promise<string> {
    return Promise.reject(new TypeError("no versions"));
  }
  readVersion(): Promise<Uint8Array> {
    return Promise.reject(new TypeError("no versions"));
  }
  statVersion() {
    return Promise.resolve(null);
  }
  listVersions() {
    return Promise.resolve([]);
  }
  deleteVersion() {
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
  const index = new MemoryIndex();
  const up = new PackUploader(
    storage,
    keys,
    config,
    index,
    segmentsTo(storage, keys, config),
    pool.compress,
  );
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
  const up = new PackUploader(
    dry,
    keys,
    newConfig(),
    new MemoryIndex(),
    segmentsTo(dry, keys, newConfig()),
  );
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
  const index = new MemoryIndex();
  const up = new PackUploader(storage, keys, config, index, segmentsTo(storage, keys, config));
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

/** The ids of the data blobs in each data pack `storage` holds, in the order they were stored. */
function dataPacks(
  storage: SlowMemoryStorage,
  keys: Awaited<ReturnType<typeof generateMasterKeys>>,
) {
  return storage.log.filter((o) => o.label === "data").map((o) =>
    readPackContents(storage.objects.get(o.name)!, keys).blobs.map((b) => b.id)
  );
}

Deno.test("mark(): a directory that added a quarter of a data pack ends its pack; a smaller one does not", async () => {
  const keys = await generateMasterKeys();
  // Data packs of 40 kB: the floor is 10 kB.
  const config = newConfig({ pack: { dataSize: 40_000, metaSize: 1 << 20, frameSize: 3_000 } });
  const storage = new SlowMemoryStorage();
  const up = new PackUploader(
    storage,
    keys,
    config,
    new MemoryIndex(),
    segmentsTo(storage, keys, config),
  );
  const blob = (n: number) => crypto.getRandomValues(new Uint8Array(n));
  const id = (b: Uint8Array) => blobId(keys.macKey, b);
  const [s1, s2, b1, b2, c1] = [blob(3000), blob(3000), blob(6000), blob(6000), blob(2000)];
  up.mark("enter"); // the root
  up.mark("enter");
  up.add("data", s1.slice());
  up.mark("leave"); // 3 kB: under the floor
  up.mark("enter");
  up.add("data", s2.slice());
  up.mark("leave");
  up.mark("enter");
  up.add("data", b1.slice());
  up.add("data", b2.slice());
  up.mark("leave"); // 12 kB: the pack ends here
  up.mark("enter");
  up.add("data", c1.slice());
  up.mark("leave");
  up.mark("leave");
  await up.flush();
  assert.deepEqual(dataPacks(storage, keys), [[id(s1), id(s2), id(b1), id(b2)], [id(c1)]]);
  assert.equal(up.stats.copies, 0);
});

Deno.test("a small blob of this run is stored again only when its packs closed before the current directory began", async () => {
  const keys = await generateMasterKeys();
  const config = newConfig({ pack: { dataSize: 40_000, metaSize: 1 << 20, frameSize: 3_000 } });
  const index = new MemoryIndex();
  const blob = (n: number) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
    return out;
  };
  const id = (b: Uint8Array) => blobId(keys.macKey, b);

  // An earlier run stored `old`.
  const old = blob(1000);
  const elsewhere = new SlowMemoryStorage();
  const earlier = new PackUploader(
    elsewhere,
    keys,
    config,
    index,
    segmentsTo(elsewhere, keys, config),
  );
  await earlier.add("data", old.slice());
  await earlier.flush();

  const storage = new SlowMemoryStorage();
  const up = new PackUploader(storage, keys, config, index, segmentsTo(storage, keys, config));
  const [shared, big, fill1, fill2] = [blob(500), blob((1 << 20) + 1), blob(12_000), blob(12_000)];
  up.mark("enter"); // the root
  up.mark("enter"); // a: shared, then the same again in a's own pack (no copy)
  up.add("data", shared.slice());
  up.add("data", big.slice()); // alone over the pack size: stored at once
  up.add("data", fill1.slice());
  up.add("data", shared.slice());
  up.mark("leave");
  up.mark("enter"); // b, after a's packs closed
  up.add("data", shared.slice()); // copied: its only pack closed before b began
  up.add("data", shared.slice()); // already in b's open pack
  up.add("data", big.slice()); // over MAX_COPY_BLOB: never copied
  up.add("data", old.slice()); // an earlier run's: never copied
  up.add("data", fill2.slice());
  up.mark("enter"); // b/inner: shared is in b's open pack, which inner shares
  up.add("data", shared.slice());
  up.mark("leave");
  up.mark("leave");
  up.mark("leave");
  await up.flush();
  assert.equal(up.stats.copies, 1);
  assert.equal(up.stats.copyBytes, 500);
  assert.equal(up.stats.knownBlobs, 5);
  const packs = dataPacks(storage, keys);
  assert.equal(packs.filter((p) => p.includes(id(shared))).length, 2);
  assert.ok(packs.at(-1)!.includes(id(shared)) && packs.at(-1)!.includes(id(fill2)));
  assert.ok(!packs.at(-1)!.includes(id(old)) && !packs.at(-1)!.includes(id(big)));
  assert.deepEqual(index.copies(id(shared)).length, 2, "both copies indexed");
});

Deno.test("copies near their directory stay within MAX_COPY_SHARE of the run's data, plus 1 MiB", async () => {
  const keys = await generateMasterKeys();
  const config = newConfig({ pack: { dataSize: 1 << 20, metaSize: 1 << 20, frameSize: 64 << 10 } });
  const storage = new SlowMemoryStorage();
  const up = new PackUploader(
    storage,
    keys,
    config,
    new MemoryIndex(),
    segmentsTo(storage, keys, config),
  );
  const files = Array.from({ length: 400 }, () => crypto.getRandomValues(new Uint8Array(10_000)));
  up.mark("enter");
  up.mark("enter"); // a: 4 MB, in packs of 1 MiB
  for (const f of files) up.add("data", f.slice());
  up.mark("leave");
  up.mark("enter"); // b: the same files again
  for (const f of files) up.add("data", f.slice());
  up.mark("leave");
  up.mark("leave");
  await up.flush();
  const data = 4_000_000 + up.stats.copyBytes;
  assert.ok(up.stats.copies > 0 && up.stats.copies < 400, `${up.stats.copies} copies`);
  assert.ok(
    up.stats.copyBytes <= data * MAX_COPY_SHARE + (1 << 20),
    `${up.stats.copyBytes} of ${data} bytes`,
  );
});

Deno.test("without marks (gc compact, other engines) nothing is stored twice", async () => {
  const keys = await generateMasterKeys();
  const config = newConfig({ pack: { dataSize: 20_000, metaSize: 1 << 20, frameSize: 3_000 } });
  const elsewhere = new SlowMemoryStorage();
  const up = new PackUploader(
    elsewhere,
    keys,
    config,
    new MemoryIndex(),
    segmentsTo(elsewhere, keys, config),
  );
  const b = crypto.getRandomValues(new Uint8Array(500));
  up.add("data", b.slice());
  for (let i = 0; i < 5; i++) up.add("data", crypto.getRandomValues(new Uint8Array(9000)));
  up.mark("leave"); // unbalanced marks are ignored
  await up.add("data", b.slice());
  await up.flush();
  assert.equal(up.stats.copies, 0);
  assert.equal(up.stats.knownBlobs, 1);
});

Deno.test("nested directory ends do not make a tiny pack each: a pack ended early holds a quarter of the floor", async () => {
  const keys = await generateMasterKeys();
  // Packs of 40 kB, floor 10 kB: an early end needs 2.5 kB in the open pack.
  const config = newConfig({ pack: { dataSize: 40_000, metaSize: 1 << 20, frameSize: 3_000 } });
  const storage = new SlowMemoryStorage();
  const up = new PackUploader(
    storage,
    keys,
    config,
    new MemoryIndex(),
    segmentsTo(storage, keys, config),
  );
  for (let i = 0; i < 200; i++) up.mark("enter");
  up.add("data", crypto.getRandomValues(new Uint8Array(12_000)));
  for (let i = 0; i < 200; i++) {
    up.add("data", crypto.getRandomValues(new Uint8Array(5)));
    up.mark("leave"); // every ancestor added over 10 kB
  }
  await up.flush();
  assert.equal(dataPacks(storage, keys).length, 2, "the first end, then the rest in one pack");
});

Deno.test("a store failure in a pack ended by a directory mark fails flush(), and nothing of it is indexed", async () => {
  const keys = await generateMasterKeys();
  const config = newConfig({ pack: { dataSize: 40_000, metaSize: 1 << 20, frameSize: 3_000 } });
  const storage = new SlowMemoryStorage();
  storage.create = (name: string) =>
    Promise.reject(new Deno.errors.PermissionDenied(`cannot write "${name}"`));
  const index = new MemoryIndex();
  const up = new PackUploader(storage, keys, config, index, segmentsTo(storage, keys, config));
  const b = crypto.getRandomValues(new Uint8Array(12_000));
  up.mark("enter");
  const added = up.add("data", b.slice());
  up.mark("leave"); // 12 kB over the 10 kB floor: the pack is stored here, and that fails
  await added;
  await assert.rejects(up.flush(), Deno.errors.PermissionDenied);
  await assert.rejects(up.add("data", new Uint8Array(10)), Deno.errors.PermissionDenied);
  assert.equal(index.has(blobId(keys.macKey, b)), false);
});
