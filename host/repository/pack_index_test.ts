import assert from "node:assert/strict";
import { blobId } from "../crypto/mac.ts";
import { FormatError } from "./errors.ts";
import type { IndexedPack } from "./index_segment.ts";
import { generateMasterKeys } from "./keys.ts";
import {
  openDataKey,
  PACK_HEADER_LENGTH,
  packHeader,
  PackWriter,
  readBlob,
  readPackContents,
} from "./pack.ts";
import { decodePackIndex, encodePackIndex, PackIndexBuilder } from "./pack_index.ts";

const keys = await generateMasterKeys();

function dataPack(seed: number): IndexedPack {
  const w = new PackWriter({
    publicKey: keys.publicKey,
    metadata: false,
    frameSize: 100,
    level: 3,
  });
  for (let i = 0; i < 3; i++) {
    const blob = new TextEncoder().encode(`blob ${seed}.${i} `.repeat(20));
    w.add(blobId(keys.macKey, blob), "data", blob);
  }
  const p = w.finish();
  return { pack: p.id, metadata: false, length: p.data.length, blobs: p.blobs };
}

function metaPackWith(index: Uint8Array) {
  const w = new PackWriter({
    publicKey: keys.publicKey,
    metadata: true,
    frameSize: 1000,
    level: 3,
  });
  const tree = new TextEncoder().encode('{"version":1,"nodes":[]}');
  w.add(blobId(keys.macKey, tree), "tree", tree);
  w.add(blobId(keys.macKey, index), "pack-index", index);
  return w.finish();
}

Deno.test("a pack-index blob is the §7 body of its data packs and decodes to them", () => {
  const packs = [dataPack(1), dataPack(2)];
  const plain = encodePackIndex(packs);
  assert.deepEqual(decodePackIndex(plain), packs);
  assert.throws(() => encodePackIndex([]), RangeError);
  assert.throws(() => encodePackIndex([{ ...packs[0], metadata: true }]), /metadata pack/);
});

Deno.test("a metadata pack holding a pack-index blob is version 2, and reads back verified", () => {
  const packs = [dataPack(3)];
  const plain = encodePackIndex(packs);
  const meta = metaPackWith(plain);
  assert.equal(packHeader(meta.data.subarray(0, PACK_HEADER_LENGTH)).version, 2);
  const toc = readPackContents(meta.data, keys);
  assert.deepEqual(toc.blobs.map((b) => b.type), ["tree", "pack-index"]);
  const loc = toc.blobs[1];
  const key = openDataKey(meta.data.subarray(0, PACK_HEADER_LENGTH), keys);
  const frame = meta.data.subarray(loc.frameOffset, loc.frameOffset + loc.frameLength);
  assert.deepEqual(decodePackIndex(readBlob(key, frame, loc, keys.macKey)), packs);
});

Deno.test("a pack-index blob is refused in a version-1 pack and in a data pack", () => {
  const meta = metaPackWith(encodePackIndex([dataPack(4)]));
  const v1 = meta.data.slice();
  v1[4] = 1; // the header is not sealed: what an old writer, or a forger, could produce
  assert.throws(() => readPackContents(v1, keys), FormatError);
  const v2data = meta.data.slice();
  v2data[5] = 0;
  assert.throws(() => packHeader(v2data.subarray(0, PACK_HEADER_LENGTH)), FormatError);
  const w = new PackWriter({
    publicKey: keys.publicKey,
    metadata: false,
    frameSize: 100,
    level: 3,
  });
  const blob = encodePackIndex([dataPack(5)]);
  assert.throws(() => w.add(blobId(keys.macKey, blob), "pack-index", blob), TypeError);
});

Deno.test("a pack-index blob naming a metadata pack is refused on decode", () => {
  const p = dataPack(6);
  const plain = encodePackIndex([p]);
  plain[4 + 32] = 1; // the pack's flags byte: metadata
  assert.throws(() => decodePackIndex(plain), FormatError);
});

Deno.test("a pack-index built pack by pack is the blob encodePackIndex makes of the same packs", () => {
  const packs = [dataPack(10), dataPack(11), dataPack(12)];
  const builder = new PackIndexBuilder();
  assert.throws(() => builder.take(), RangeError);
  for (const p of packs.slice(0, 2)) builder.add(p);
  assert.equal(builder.count, 2);
  assert.deepEqual(builder.take(), encodePackIndex(packs.slice(0, 2)));
  builder.add(packs[2]); // starts afresh after take()
  assert.deepEqual(decodePackIndex(builder.take()), [packs[2]].map((p) => ({ ...p })));
  assert.throws(() => builder.add({ ...packs[0], metadata: true }), TypeError);
});
