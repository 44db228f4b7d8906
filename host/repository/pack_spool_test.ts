import assert from "node:assert/strict";
import { join } from "node:path";
import { blobId } from "../crypto/mac.ts";
import { sha256Hex } from "../crypto/hash.ts";
import { openStorage } from "../storage/open.ts";
import { newConfig } from "./config.ts";
import { encodeIndexSegment } from "./index_segment.ts";
import { generateMasterKeys } from "./keys.ts";
import { layout } from "./layout.ts";
import { CompressorPool } from "./compressor.ts";
import { PackBuffer, PackSpool } from "./pack_buffer.ts";
import {
  openDataKey,
  PACK_HEADER_LENGTH,
  PACK_VERSION,
  PackWriter,
  readBlob,
  readPackContents,
} from "./pack.ts";
import { PackUploader } from "./pack_uploader.ts";
import { MemoryIndex } from "./repo_index.ts";

const keys = await generateMasterKeys();

/** Pseudo-random bytes (incompressible), different for each seed. */
function noise(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed * 2654435761 >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

async function allBytes(spool: PackSpool): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of spool.pieces(1000)) parts.push(p);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
}

Deno.test("a PackSpool given the appends of a PackBuffer holds the same bytes, and seal() is their SHA-256", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const spool = await PackSpool.create(join(dir, "spool"));
    const buffer = new PackBuffer(1 << 20);
    for (const [n, seed] of [[88, 1], [300_000, 2], [1, 3], [70_001, 4]]) {
      const bytes = noise(n, seed);
      spool.append(bytes);
      buffer.append(bytes);
    }
    const memory = buffer.take();
    assert.equal(spool.length, memory.length);
    assert.equal(spool.seal(), sha256Hex(memory));
    assert.deepEqual(await allBytes(spool), memory);
    assert.throws(() => spool.append(noise(1, 5)), /already sealed/);
    await spool.discard();
    assert.deepEqual([...Deno.readDirSync(join(dir, "spool"))], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a spooled data pack is a valid pack whose id is the SHA-256 of its file, with every blob readable", async () => {
  const dir = await Deno.makeTempDir();
  const compressors = new CompressorPool(1);
  try {
    const spool = await PackSpool.create(dir);
    const w = new PackWriter({
      publicKey: keys.publicKey,
      metadata: false,
      frameSize: 64 << 10,
      level: 3,
      compressor: compressors.compress,
      spool,
    });
    const blobs = [noise(100_000, 1), new TextEncoder().encode("a".repeat(300_000)), noise(7, 2)];
    for (const b of blobs) w.add(blobId(keys.macKey, b), "data", b.slice());
    const pack = await w.finishSpooled();
    const bytes = await allBytes(pack.spool);
    assert.equal(pack.id, sha256Hex(bytes));
    assert.equal(pack.length, bytes.length);
    assert.equal(bytes[4], PACK_VERSION);
    const contents = readPackContents(bytes, keys);
    assert.deepEqual(contents.blobs, pack.blobs);
    const dataKey = openDataKey(bytes.subarray(0, PACK_HEADER_LENGTH), keys);
    blobs.forEach((b, i) => {
      const loc = contents.blobs[i];
      const frame = bytes.subarray(loc.frameOffset, loc.frameOffset + loc.frameLength);
      assert.deepEqual(readBlob(dataKey, frame, loc, keys.macKey), b);
    });
    await pack.spool.discard();
  } finally {
    compressors.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a metadata pack cannot be spooled (its header may change when it is finished)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const spool = await PackSpool.create(dir);
    assert.throws(
      () =>
        new PackWriter({
          publicKey: keys.publicKey,
          metadata: true,
          frameSize: 1024,
          level: 3,
          spool,
        }),
      TypeError,
    );
    await spool.discard();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("PackSpool.sweep removes what a killed run left, never a spool being written", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const inUse = await PackSpool.create(dir);
    inUse.append(noise(10, 1));
    await Deno.writeFile(join(dir, "0123456789abcdef0123456789abcdef"), noise(10, 2)); // no lock
    await PackSpool.sweep(dir);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => join(dir, e.name)), [inUse.path]);
    await inUse.discard();
    await PackSpool.sweep(join(dir, "missing")); // a folder not made yet is fine
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A local repository folder's store (which takes objects in pieces), and a segment writer. */
async function localStore(dir: string) {
  const storage = await openStorage(join(dir, "repo"), "admin", { create: true });
  const config = newConfig({ pack: { dataSize: 1 << 20, metaSize: 1 << 20, frameSize: 64 << 10 } });
  const writeSegment = async (packs: Parameters<typeof encodeIndexSegment>[1]) => {
    const bytes = encodeIndexSegment(keys.indexKey, packs, { level: 3 });
    const id = sha256Hex(bytes);
    await storage.create(layout.index(id), bytes);
    return id;
  };
  return { storage, config, writeSegment };
}

Deno.test("with a spool folder, data packs go to a local store in pieces and are the packs the index names; the spool folder and the store's tmp/ end empty", async () => {
  const dir = await Deno.makeTempDir();
  const { storage, config, writeSegment } = await localStore(dir);
  const spoolDir = join(dir, "spool");
  await Deno.mkdir(spoolDir);
  await Deno.writeFile(join(spoolDir, "ffffffffffffffffffffffffffffffff"), noise(100, 9)); // left by a kill
  const compressors = new CompressorPool(1);
  const index = new MemoryIndex();
  try {
    const uploader = new PackUploader(
      storage,
      keys,
      config,
      index,
      writeSegment,
      compressors.compress,
      {
        spoolDir,
      },
    );
    let pieces = 0;
    const writeUpload = storage.writeUpload!.bind(storage);
    storage.writeUpload = (upload, data) => (pieces++, writeUpload(upload, data));
    const blobs = Array.from({ length: 12 }, (_, i) => noise(200_000, i + 1));
    const ids = await Promise.all(blobs.map((b) => uploader.add("data", b.slice())));
    await uploader.flush();
    assert.ok(uploader.stats.packs >= 3, `${uploader.stats.packs} packs`);
    assert.ok(pieces >= uploader.stats.packs - 1, `${pieces} pieces`); // the metadata pack is whole
    for (const [i, id] of ids.entries()) {
      const loc = index.get(id)!;
      const bytes = await storage.read(layout.pack(loc.pack));
      assert.equal(sha256Hex(bytes), loc.pack);
      const dataKey = openDataKey(bytes.subarray(0, PACK_HEADER_LENGTH), keys);
      const frame = bytes.subarray(loc.frameOffset, loc.frameOffset + loc.frameLength);
      assert.deepEqual(readBlob(dataKey, frame, loc, keys.macKey), blobs[i]);
    }
    assert.deepEqual([...Deno.readDirSync(spoolDir)], []);
    assert.deepEqual([...Deno.readDirSync(join(dir, "repo", "tmp"))], []);
    await uploader.close();
  } finally {
    compressors.close();
    await storage.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/** Makes every file write fail as a full disk does, after `room` bytes, while `fn` runs. */
async function withFullDisk<T>(room: number, fn: () => Promise<T>): Promise<T> {
  const proto = Deno.FsFile.prototype;
  const writeSync = proto.writeSync;
  let left = room;
  proto.writeSync = function (this: Deno.FsFile, p: Uint8Array): number {
    if (p.length > left) {
      throw Object.assign(new Error("No space left on device (os error 28)"), { code: "ENOSPC" });
    }
    left -= p.length;
    return writeSync.call(this, p);
  };
  try {
    return await fn();
  } finally {
    proto.writeSync = writeSync;
  }
}

Deno.test("a full disk while spooling fails the upload with a clear error: no pack stored, nothing indexed, no spool file left", async () => {
  const dir = await Deno.makeTempDir();
  const { storage, config, writeSegment } = await localStore(dir);
  const spoolDir = join(dir, "spool");
  const compressors = new CompressorPool(1);
  const index = new MemoryIndex();
  const segments: string[] = [];
  try {
    const uploader = new PackUploader(
      storage,
      keys,
      config,
      index,
      (packs) => writeSegment(packs).then((id) => (segments.push(id), id)),
      compressors.compress,
      { spoolDir },
    );
    await withFullDisk(300_000, async () => {
      const adds = Array.from({ length: 8 }, (_, i) => uploader.add("data", noise(200_000, i + 1)));
      await assert.rejects(
        Promise.all([...adds, uploader.flush()]),
        (e: Error) => {
          assert.match(e.message, /pack spool ".*" could not be written: the disk is full/);
          return true;
        },
      );
    });
    await uploader.close();
    assert.deepEqual(segments, []);
    assert.deepEqual(await storage.list("packs/"), []);
    assert.deepEqual([...Deno.readDirSync(spoolDir)], []);
  } finally {
    compressors.close();
    await storage.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * Adds blobs to an uploader whose open data pack stays open, changes one byte its spool file
 * already holds (another process writing there), then flushes: what `flush` did.
 */
async function flushAfterSpoolChanged(location: string, dir: string) {
  const storage = await openStorage(location, "admin", { create: true });
  const config = newConfig({ pack: { dataSize: 1 << 20, metaSize: 1 << 20, frameSize: 64 << 10 } });
  const spoolDir = join(dir, "spool");
  const compressors = new CompressorPool(1);
  const index = new MemoryIndex();
  try {
    const uploader = new PackUploader(
      storage,
      keys,
      config,
      index,
      async (packs) => {
        const bytes = encodeIndexSegment(keys.indexKey, packs, { level: 3 });
        await storage.create(layout.index(sha256Hex(bytes)), bytes);
        return sha256Hex(bytes);
      },
      compressors.compress,
      { spoolDir },
    );
    await uploader.add("data", noise(200_000, 1));
    await uploader.add("data", noise(200_000, 2));
    const [spoolFile] = [...Deno.readDirSync(spoolDir)];
    using other = await Deno.open(join(spoolDir, spoolFile.name), { read: true, write: true });
    // A byte of the header (written first): the sealed data key, random, so it is flipped, never
    // set to a value it may already have.
    const byte = new Uint8Array(1);
    await other.seek(10, Deno.SeekMode.Start);
    assert.equal(await other.read(byte), 1);
    await other.seek(10, Deno.SeekMode.Start);
    await other.write(new Uint8Array([byte[0] ^ 0xff]));
    const flushed = await uploader.flush().then(() => "stored", (e: Error) => e);
    await uploader.close();
    const packs = await storage.list("packs/");
    const mismatched = [];
    for (const p of packs) {
      if (layout.pack(p.name.slice(-64)) !== p.name) continue;
      if (sha256Hex(await storage.read(p.name)) !== p.name.slice(-64)) mismatched.push(p.name);
    }
    return { flushed, mismatched };
  } finally {
    compressors.close();
    await storage.close();
  }
}

for (const [kind, at] of [["a local folder (in pieces)", "repo"], ["SQLite (whole)", "sqlite"]]) {
  Deno.test(`a spool file changed after its bytes were hashed fails the upload on ${kind}: no pack stored under an id its bytes do not have`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const location = at === "repo" ? join(dir, "repo") : `sqlite:${join(dir, "repo.db")}`;
      const { flushed, mismatched } = await flushAfterSpoolChanged(location, dir);
      assert.deepEqual(mismatched, []);
      assert.ok(flushed instanceof Error, `flush ${flushed}`);
      assert.match(flushed.message, /SHA-256/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("a spool file removed by name while its pack is built (a sweep that sees no locks) is still stored whole, from the handle that wrote it", async () => {
  const dir = await Deno.makeTempDir();
  const { storage, config, writeSegment } = await localStore(dir);
  const spoolDir = join(dir, "spool");
  const compressors = new CompressorPool(1);
  const index = new MemoryIndex();
  try {
    const uploader = new PackUploader(
      storage,
      keys,
      config,
      index,
      writeSegment,
      compressors.compress,
      { spoolDir },
    );
    const blob = noise(200_000, 1);
    const id = await uploader.add("data", blob.slice());
    for (const entry of Deno.readDirSync(spoolDir)) Deno.removeSync(join(spoolDir, entry.name));
    await uploader.flush();
    const loc = index.get(id)!;
    const bytes = await storage.read(layout.pack(loc.pack));
    assert.equal(sha256Hex(bytes), loc.pack);
    const dataKey = openDataKey(bytes.subarray(0, PACK_HEADER_LENGTH), keys);
    const frame = bytes.subarray(loc.frameOffset, loc.frameOffset + loc.frameLength);
    assert.deepEqual(readBlob(dataKey, frame, loc, keys.macKey), blob);
    await uploader.close();
  } finally {
    compressors.close();
    await storage.close();
    await Deno.remove(dir, { recursive: true });
  }
});
