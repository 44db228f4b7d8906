import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { KeyCannotRead } from "../../plugins/sdk/errors.ts";
import { IntegrityError } from "../crypto/errors.ts";
import { sha256Hex } from "../crypto/hash.ts";
import { blobId } from "../crypto/mac.ts";
import { FormatError } from "./errors.ts";
import { generateMasterKeys, type RepoKeys, toIngestKeys } from "./keys.ts";
import {
  type BlobType,
  openDataKey,
  openFrame,
  PACK_HEADER_LENGTH,
  packHeader,
  PackWriter,
  readBlob,
  readPackContents,
} from "./pack.ts";

const keys = await generateMasterKeys();
const text = (n: number, seed: string) =>
  new TextEncoder().encode(seed.repeat(Math.ceil(n / seed.length)).slice(0, n));

function build(
  blobs: { data: Uint8Array; type?: BlobType }[],
  frameSize = 1000,
  metadata = false,
  k: RepoKeys = keys,
) {
  const w = new PackWriter({ publicKey: k.publicKey, metadata, frameSize, level: 3 });
  for (const b of blobs) w.add(blobId(k.macKey, b.data), b.type ?? "data", b.data);
  return { writer: w, pack: w.finish() };
}

Deno.test("a written pack describes itself: readPackContents() lists every blob's location", () => {
  const blobs = [
    { data: text(300, "alpha ") },
    { data: text(400, "beta ") },
    { data: new Uint8Array(randomBytes(5000)) },
    { data: text(10, "tree"), type: "tree" as const },
  ];
  const { pack } = build(blobs);
  assert.equal(pack.id, sha256Hex(pack.data));
  assert.equal(pack.metadata, false);
  const contents = readPackContents(pack.data, keys);
  assert.equal(contents.metadata, false);
  assert.deepEqual(contents.blobs, pack.blobs);
  assert.deepEqual(pack.blobs.map((b) => b.type), ["data", "data", "data", "tree"]);
});

Deno.test("readBlob() returns each blob's exact bytes from a ranged read of its frame", () => {
  const blobs = [text(300, "a"), new Uint8Array(randomBytes(3000)), text(0, ""), text(50, "z")];
  const { pack } = build(blobs.map((data) => ({ data })));
  const key = openDataKey(pack.data.subarray(0, PACK_HEADER_LENGTH), keys);
  pack.blobs.forEach((loc, i) => {
    const frame = pack.data.subarray(loc.frameOffset, loc.frameOffset + loc.frameLength);
    assert.deepEqual(readBlob(key, frame, loc, keys.macKey), blobs[i]);
  });
});

Deno.test("PackWriter groups small blobs in one frame and gives a large blob its own", () => {
  const { pack } = build([
    { data: text(300, "a") },
    { data: text(300, "b") },
    { data: text(300, "c") },
    { data: text(300, "d") }, // 1200 > 1000: starts a new frame
    { data: text(2500, "e") }, // larger than a frame: its own frame
    { data: text(10, "f") },
  ]);
  const frames = pack.blobs.map((b) => b.frameOffset);
  assert.equal(frames[0], PACK_HEADER_LENGTH);
  assert.equal(frames[0], frames[1]);
  assert.equal(frames[1], frames[2]);
  assert.notEqual(frames[2], frames[3]);
  assert.notEqual(frames[3], frames[4]);
  assert.notEqual(frames[4], frames[5]);
  assert.deepEqual(pack.blobs.map((b) => b.offsetInFrame), [0, 300, 600, 0, 0, 0]);
  for (let i = 1; i < pack.blobs.length; i++) {
    const prev = pack.blobs[i - 1];
    if (prev.frameOffset !== pack.blobs[i].frameOffset) {
      assert.equal(pack.blobs[i].frameOffset, prev.frameOffset + prev.frameLength);
    }
  }
});

Deno.test("PackWriter compresses frames: a repetitive megabyte takes a few kilobytes", () => {
  const { pack } = build([{ data: text(1 << 20, "same old line\n") }], 256 << 10);
  assert.ok(pack.data.length < 10_000, `${pack.data.length} bytes`);
});

Deno.test("the pack header is plaintext and carries the metadata flag", () => {
  const { pack } = build([{ data: text(10, "t"), type: "tree" }], 1000, true);
  assert.equal(new TextDecoder().decode(pack.data.subarray(0, 4)), "PFPK");
  assert.equal(pack.data[4], 1);
  assert.equal(pack.data[5], 1);
  assert.equal(packHeader(pack.data.subarray(0, 88)).metadata, true);
  assert.equal(readPackContents(pack.data, keys).metadata, true);
});

Deno.test("PackWriter.bytes and count grow with each blob", () => {
  const w = new PackWriter({
    publicKey: keys.publicKey,
    metadata: false,
    frameSize: 1000,
    level: 3,
  });
  assert.equal(w.count, 0);
  assert.equal(w.bytes, PACK_HEADER_LENGTH);
  const data = text(500, "x");
  w.add(blobId(keys.macKey, data), "data", data);
  assert.equal(w.count, 1);
  assert.equal(w.bytes, PACK_HEADER_LENGTH + 500);
});

Deno.test("an ingest key can write a pack but cannot open it (KeyCannotRead)", () => {
  const ingest = toIngestKeys(keys);
  const { pack } = build([{ data: text(10, "secret") }], 1000, false, ingest);
  assert.throws(() => openDataKey(pack.data.subarray(0, 88), ingest), KeyCannotRead);
  assert.throws(() => readPackContents(pack.data, ingest), {
    name: "KeyCannotRead",
    message: /cannot read pack data/,
  });
  assert.equal(readPackContents(pack.data, keys).blobs.length, 1);
});

Deno.test("another repository's private key cannot open the pack (IntegrityError)", async () => {
  const { pack } = build([{ data: text(10, "x") }]);
  const other = await generateMasterKeys();
  assert.throws(() => openDataKey(pack.data.subarray(0, 88), other), IntegrityError);
});

Deno.test("an altered frame, or a frame read at another offset, throws IntegrityError", () => {
  const { pack } = build([{ data: text(100, "a") }, { data: text(2000, "b") }]);
  const key = openDataKey(pack.data.subarray(0, 88), keys);
  const [a, b] = pack.blobs;
  const frameA = pack.data.slice(a.frameOffset, a.frameOffset + a.frameLength);
  const bad = frameA.slice();
  bad[20] ^= 1;
  assert.throws(() => readBlob(key, bad, a, keys.macKey), IntegrityError);
  assert.throws(() => openFrame(key, frameA, b.frameOffset), IntegrityError);
});

Deno.test("readBlob() with a location naming another blob id throws IntegrityError", () => {
  const { pack } = build([{ data: text(100, "a") }, { data: text(100, "b") }]);
  const key = openDataKey(pack.data.subarray(0, 88), keys);
  const [a, b] = pack.blobs;
  const frame = pack.data.subarray(a.frameOffset, a.frameOffset + a.frameLength);
  assert.throws(() => readBlob(key, frame, { ...b, offsetInFrame: 0 }, keys.macKey), {
    name: "IntegrityError",
    message: new RegExp(b.id),
  });
  assert.throws(() => readBlob(key, frame, { ...a, length: 5000 }, keys.macKey), IntegrityError);
});

Deno.test("readPackContents() of a truncated or mislabelled pack throws FormatError", () => {
  const { pack } = build([{ data: text(100, "a") }]);
  assert.throws(() => readPackContents(pack.data.subarray(0, 100), keys), FormatError);
  const noMagic = pack.data.slice();
  noMagic[0] = 0x58;
  assert.throws(() => readPackContents(noMagic, keys), FormatError);
  const v2 = pack.data.slice();
  v2[4] = 2;
  assert.throws(() => readPackContents(v2, keys), { name: "FormatError", message: /version 2/ });
  const badTrailer = pack.data.slice();
  badTrailer[badTrailer.length - 1] = 0;
  assert.throws(() => readPackContents(badTrailer, keys), FormatError);
  assert.throws(() => readPackContents(pack.data.subarray(0, pack.data.length - 1), keys));
});

Deno.test("PackWriter refuses a duplicate id, a bad id, add after finish and an empty finish", () => {
  const w = new PackWriter({
    publicKey: keys.publicKey,
    metadata: false,
    frameSize: 1000,
    level: 3,
  });
  assert.throws(() => w.finish(), /no blobs/);
  const data = text(10, "x");
  const id = blobId(keys.macKey, data);
  w.add(id, "data", data);
  assert.throws(() => w.add(id, "data", data), /already added/);
  assert.throws(() => w.add("ABC", "data", data), TypeError);
  w.finish();
  assert.throws(
    () => w.add(blobId(keys.macKey, text(3, "y")), "data", text(3, "y")),
    /after finish/,
  );
  assert.throws(() => w.finish(), /twice/);
});

Deno.test("two packs of the same blobs differ (fresh data key per pack)", () => {
  const blobs = [{ data: text(100, "same") }];
  assert.notEqual(build(blobs).pack.id, build(blobs).pack.id);
});

Deno.test("PackWriter with a compressor worker writes a pack that reads back like an inline one", async () => {
  const { CompressorPool } = await import("./compressor.ts");
  const pool = new CompressorPool(1);
  try {
    const blobs = Array.from({ length: 40 }, (_, i) => text(700 + i * 13, `blob ${i} `));
    const w = new PackWriter({
      publicKey: keys.publicKey,
      metadata: false,
      frameSize: 2000,
      level: 3,
      compressor: pool.compress,
    });
    const ids = blobs.map((b) => blobId(keys.macKey, b));
    // copies: the writer moves the bytes it hands to the compressor
    blobs.forEach((b, i) => w.add(ids[i], "data", b.slice()));
    assert.throws(() => w.finish(), /finishAsync/);
    const pack = await w.finishAsync();
    assert.equal(pack.id, sha256Hex(pack.data));
    const contents = readPackContents(pack.data, keys);
    assert.deepEqual(contents.blobs.map((b) => b.id), ids);
    const key = openDataKey(pack.data.subarray(0, PACK_HEADER_LENGTH), keys);
    for (const [i, loc] of contents.blobs.entries()) {
      const frame = pack.data.subarray(loc.frameOffset, loc.frameOffset + loc.frameLength);
      assert.deepEqual(readBlob(key, frame, loc, keys.macKey), blobs[i]);
    }
  } finally {
    pool.close();
  }
});

Deno.test("PackWriter.backlogBelow() waits until a slow compressor has caught up", async () => {
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => release = r);
  const slow = async (plain: Uint8Array, level: number) => {
    await gate;
    const { compress } = await import("../crypto/zstd.ts");
    return compress(plain, level);
  };
  const w = new PackWriter({
    publicKey: keys.publicKey,
    metadata: false,
    frameSize: 1000,
    level: 3,
    compressor: slow,
  });
  for (let i = 0; i < 10; i++) {
    const b = text(1000, `x${i}`);
    w.add(blobId(keys.macKey, b), "data", b);
  }
  assert.equal(w.backlog, 10_000);
  let settled = false;
  const waiting = w.backlogBelow(2000).then(() => settled = true);
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(settled, false, "still 10 frames queued");
  release();
  await waiting;
  assert.ok(w.backlog <= 2000);
  await w.finishAsync();
});
