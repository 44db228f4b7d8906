import assert from "node:assert/strict";
import { decodeConfig, encodeConfig, newConfig } from "./config.ts";
import { FormatError } from "./errors.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

Deno.test("newConfig() has the documented defaults and a random 64-hex id", () => {
  const c = newConfig();
  assert.match(c.id, /^[0-9a-f]{64}$/);
  assert.notEqual(c.id, newConfig().id);
  assert.deepEqual(c.chunker, {
    algorithm: "fastcdc-2020",
    min: 256 * 1024,
    avg: 1024 * 1024,
    max: 4 * 1024 * 1024,
  });
  assert.deepEqual(c.pack, { dataSize: 64 << 20, metaSize: 8 << 20, frameSize: 256 << 10 });
  assert.deepEqual(c.compression, { algorithm: "zstd", level: 3 });
  assert.deepEqual(c.cold, { storageClass: "DEEP_ARCHIVE" });
  assert.ok(!Number.isNaN(Date.parse(c.created)));
});

Deno.test("newConfig() applies partial nested overrides", () => {
  const c = newConfig({
    pack: { dataSize: 1 << 20, metaSize: 1 << 20 },
    cold: { storageClass: "GLACIER" },
  });
  assert.deepEqual(c.pack, { dataSize: 1 << 20, metaSize: 1 << 20, frameSize: 256 << 10 });
  assert.equal(c.cold.storageClass, "GLACIER");
});

Deno.test("decodeConfig() returns what encodeConfig() stored, in a fixed field order", () => {
  const c = newConfig({ compression: { level: 9 } });
  const bytes = encodeConfig(c);
  assert.deepEqual(decodeConfig(bytes), c);
  assert.deepEqual(Object.keys(JSON.parse(dec.decode(bytes))), [
    "version",
    "id",
    "created",
    "chunker",
    "pack",
    "compression",
    "cold",
  ]);
});

function mutated(change: (j: any) => void): Uint8Array {
  const j = JSON.parse(dec.decode(encodeConfig(newConfig())));
  change(j);
  return enc.encode(JSON.stringify(j));
}

Deno.test("decodeConfig() names the offending field in its FormatError", () => {
  const cases: [(j: any) => void, RegExp][] = [
    [(j) => j.chunker.avg = 1000000, /"chunker\.avg" must be a power of two/],
    [(j) => j.chunker.min = 2 << 20, /"chunker\.min" must be less/],
    [(j) => j.version = 2, /"version"/],
    [(j) => j.id = "XYZ", /"id"/],
    [(j) => j.compression.level = 0, /"compression\.level"/],
    [(j) => j.pack.frameSize = 0, /"pack\.frameSize"/],
    [(j) => j.pack.dataSize = 4 * 1024 ** 3, /"pack\.dataSize"/],
    [(j) => j.cold.storageClass = "deep archive", /"cold\.storageClass"/],
    [(j) => j.extra = true, /"extra" is not part of this format version/],
    [(j) => delete j.pack, /"pack" is missing/],
    [(j) => j.chunker = [], /"chunker" must be an object/],
  ];
  for (const [change, message] of cases) {
    assert.throws(() => decodeConfig(mutated(change)), (e: Error) => {
      assert.ok(e instanceof FormatError, String(e));
      assert.match(e.message, message);
      return true;
    });
  }
});

Deno.test("decodeConfig() of bytes that are not JSON throws FormatError", () => {
  assert.throws(() => decodeConfig(new Uint8Array([0xff, 0xfe])), FormatError);
  assert.throws(() => decodeConfig(enc.encode("null")), FormatError);
});

Deno.test("newConfig() with an invalid override throws FormatError", () => {
  assert.throws(() => newConfig({ chunker: { min: 8 << 20 } }), FormatError);
});
