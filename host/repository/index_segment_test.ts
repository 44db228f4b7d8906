import assert from "node:assert/strict";
import { IntegrityError } from "../crypto/errors.ts";
import { decompress } from "../crypto/zstd.ts";
import { aeadOpen } from "../crypto/aead.ts";
import { DEFAULT_CONFIG } from "./config.ts";
import { FormatError } from "./errors.ts";
import {
  decodeIndexBody,
  decodeIndexSegment,
  encodeIndexBody,
  encodeIndexSegment,
  type IndexedPack,
} from "./index_segment.ts";

const indexKey = new Uint8Array(32).fill(2);
/** The level a repository with the default config compresses at (docs/format.md §3.5). */
const level = DEFAULT_CONFIG.compression.level;
const hex = (c: string) => c.repeat(64);

const packs: IndexedPack[] = [
  {
    pack: hex("a"),
    metadata: false,
    length: 70_000_000,
    blobs: [
      {
        id: hex("1"),
        type: "data",
        frameOffset: 88,
        frameLength: 4000,
        offsetInFrame: 0,
        length: 100,
      },
      {
        id: hex("2"),
        type: "data",
        frameOffset: 88,
        frameLength: 4000,
        offsetInFrame: 100,
        length: 7,
      },
    ],
  },
  {
    pack: hex("b"),
    metadata: true,
    length: 5000,
    blobs: [
      {
        id: hex("3"),
        type: "tree",
        frameOffset: 88,
        frameLength: 300,
        offsetInFrame: 0,
        length: 900,
      },
      {
        id: hex("4"),
        type: "snapshot",
        frameOffset: 388,
        frameLength: 40,
        offsetInFrame: 0,
        length: 9,
      },
    ],
  },
  { pack: hex("c"), metadata: false, length: 200, blobs: [] },
];

Deno.test("decodeIndexSegment() returns the packs encodeIndexSegment() sealed", () => {
  const bytes = encodeIndexSegment(indexKey, packs, { level });
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 4)), "PFIX");
  assert.equal(bytes[4], 1);
  assert.deepEqual(decodeIndexSegment(indexKey, bytes), packs);
  assert.deepEqual(decodeIndexSegment(indexKey, encodeIndexSegment(indexKey, [], { level })), []);
});

Deno.test("the segment body is the documented binary table (41-byte pack head, 53-byte blobs)", () => {
  const bytes = encodeIndexSegment(indexKey, packs, { level });
  const body = decompress(aeadOpen(indexKey, bytes.subarray(5), new TextEncoder().encode("PFIX")));
  assert.equal(body.length, 4 + 3 * 41 + 4 * 53);
  assert.deepEqual(body, encodeIndexBody(packs));
  const view = new DataView(body.buffer, body.byteOffset);
  assert.equal(view.getUint32(0, true), 3);
  assert.equal(body.subarray(4, 36).toHex(), hex("a"));
  assert.equal(body[36], 0);
  assert.equal(view.getUint32(37, true), 70_000_000);
  assert.equal(view.getUint32(41, true), 2);
  assert.equal(body.subarray(45, 77).toHex(), hex("1"));
});

Deno.test("encodeIndexSegment() has no level of its own: it refuses a call without the repository's", () => {
  // @ts-expect-error: the level is the caller's to pass (docs/format.md §3.5)
  assert.throws(() => encodeIndexSegment(indexKey, packs, {}), RangeError);
  assert.throws(() => encodeIndexSegment(indexKey, packs, { level: 0 }), RangeError);
  assert.throws(() => encodeIndexSegment(indexKey, packs, { level: 23 }), RangeError);
  assert.equal(encodeIndexSegment(indexKey, packs, { level: 19 })[4], 1);
});

Deno.test("decodeIndexSegment() under another key, or of altered bytes, throws IntegrityError", () => {
  const bytes = encodeIndexSegment(indexKey, packs, { level });
  assert.throws(() => decodeIndexSegment(new Uint8Array(32), bytes), IntegrityError);
  const bad = bytes.slice();
  bad[30] ^= 4;
  assert.throws(() => decodeIndexSegment(indexKey, bad), IntegrityError);
});

Deno.test("decodeIndexSegment() of a bad magic or version throws FormatError", () => {
  const bytes = encodeIndexSegment(indexKey, packs, { level });
  const magic = bytes.slice();
  magic[0] = 0;
  assert.throws(() => decodeIndexSegment(indexKey, magic), FormatError);
  const version = bytes.slice();
  version[4] = 9;
  assert.throws(() => decodeIndexSegment(indexKey, version), /version 9/);
});

Deno.test("decodeIndexBody() refuses trailing bytes, short bodies, bad types and out-of-pack frames", () => {
  const body = encodeIndexBody(packs);
  const longer = new Uint8Array(body.length + 1);
  longer.set(body);
  assert.throws(() => decodeIndexBody(longer), /trailing/);
  assert.throws(() => decodeIndexBody(body.subarray(0, body.length - 1)), FormatError);
  const badType = body.slice();
  badType[4 + 41 + 32] = 7;
  assert.throws(() => decodeIndexBody(badType), /unknown type code 7/);
  const outside = encodeIndexBody([{ ...packs[0], length: 1000 }]);
  assert.throws(() => decodeIndexBody(outside), /outside the 1000-byte pack/);
});

Deno.test("version 2 names the superseded segments and carries a verifiable admin tag", async () => {
  const { adminTagKey, openIndexSegment } = await import("./index_segment.ts");
  const tagKey = adminTagKey(new Uint8Array(32).fill(7));
  const bytes = encodeIndexSegment(indexKey, packs, {
    level,
    supersession: { supersedes: [hex("c"), hex("d")], adminTagKey: tagKey },
  });
  assert.equal(bytes[4], 2);
  const segment = openIndexSegment(indexKey, bytes);
  assert.equal(segment.version, 2);
  assert.deepEqual(segment.supersedes, [hex("c"), hex("d")]);
  assert.deepEqual(segment.packs, packs);
  assert.deepEqual(decodeIndexSegment(indexKey, bytes), packs);
  assert.equal(segment.verify(tagKey), true);
  assert.equal(segment.verify(adminTagKey(new Uint8Array(32).fill(8))), false);
  // The index key alone (what an ingest client holds) cannot make a tag that verifies.
  const forged = encodeIndexSegment(indexKey, packs, {
    level,
    supersession: { supersedes: [hex("c")], adminTagKey: indexKey },
  });
  assert.equal(openIndexSegment(indexKey, forged).verify(tagKey), false);
  // Version 1 supersedes nothing and has no tag.
  const v1 = openIndexSegment(indexKey, encodeIndexSegment(indexKey, packs, { level }));
  assert.deepEqual([v1.version, v1.supersedes, v1.verify(tagKey)], [1, [], false]);
  assert.throws(
    () =>
      encodeIndexSegment(indexKey, packs, {
        level,
        supersession: { supersedes: [], adminTagKey: tagKey },
      }),
    RangeError,
  );
});
