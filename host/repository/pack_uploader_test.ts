import assert from "node:assert/strict";
import { blobId } from "../crypto/mac.ts";
import { DryRunStorage } from "../storage/dry_run.ts";
import type { Storage } from "../storage/storage.ts";
import { newConfig } from "./config.ts";
import { RepoIndex } from "./index.ts";
import { generateMasterKeys } from "./keys.ts";
import { PackUploader } from "./pack_uploader.ts";
import { CompressorPool } from "./compressor.ts";
import { readPackContents } from "./pack.ts";

/** A store that keeps objects in memory and answers creates after a short delay. */
class SlowMemoryStorage implements Storage {
  objects = new Map<string, Uint8Array>();
  create(name: string, data: Uint8Array) {
    return new Promise<void>((r) =>
      setTimeout(() => {
        this.objects.set(name, data);
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
  assert.equal(up.stats.newBlobs, 200);
  assert.equal(up.stats.knownBlobs, 200);
  assert.ok(up.stats.packs >= 9, `${up.stats.packs} packs of about 20 kB`);
  const seen = new Set<string>();
  for (const [name, data] of storage.objects) {
    if (!name.startsWith("packs/")) continue;
    for (const b of readPackContents(data, keys).blobs) {
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
  assert.deepEqual(dry.created.map((o) => o.name.split("/")[0]).sort(), ["index", "packs"]);
});
