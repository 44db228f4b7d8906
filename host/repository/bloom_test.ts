import assert from "node:assert/strict";
import { BloomFilter } from "./bloom.ts";

/** Random ids: as uniform as real blob ids (HMAC-SHA-256 outputs), and far faster to make. */
function ids(count: number): string[] {
  const bytes = new Uint8Array(32 * count);
  for (let at = 0; at < bytes.length; at += 65536) {
    crypto.getRandomValues(bytes.subarray(at, at + 65536));
  }
  return Array.from({ length: count }, (_, i) => bytes.subarray(32 * i, 32 * i + 32).toHex());
}

Deno.test("a Bloom filter answers yes for every id added", () => {
  const added = ids(20_000);
  const filter = BloomFilter.forCount(added.length);
  for (const id of added) filter.add(id);
  for (const id of added) assert.ok(filter.has(id), id);
});

Deno.test("a Bloom filter of 10 bits per id has about 0.8% false positives", () => {
  const count = 50_000;
  const filter = BloomFilter.forCount(count);
  assert.equal(filter.hashes, 7);
  assert.equal(filter.bits, count * 10);
  assert.equal(filter.bytes, count * 10 / 8);
  for (const id of ids(count)) filter.add(id);
  const probes = ids(100_000);
  const hits = probes.filter((id) => filter.has(id)).length;
  // Design rate (1 - e^(-kn/m))^k = 0.82%; 100,000 probes put one standard deviation at 0.03%.
  const rate = hits / probes.length;
  assert.ok(rate > 0.005 && rate < 0.012, `false-positive rate ${rate}`);
});

Deno.test("an empty Bloom filter answers no, and a small one still works", () => {
  const filter = BloomFilter.forCount(0);
  assert.equal(filter.bits, 64);
  const [a, b] = ids(2);
  assert.equal(filter.has(a), false);
  filter.add(a);
  assert.ok(filter.has(a));
  assert.equal(BloomFilter.forCount(1).has(b), false);
});

Deno.test("a Bloom filter accepts upper-case hex and refuses what is not a 64-digit hex id", () => {
  const filter = BloomFilter.forCount(10);
  const [id] = ids(1);
  filter.add(id.toUpperCase());
  assert.ok(filter.has(id));
  assert.throws(() => filter.add("abc"), TypeError);
  assert.throws(() => filter.has("z".repeat(64)), TypeError);
  assert.throws(() => new BloomFilter(100, 7), RangeError);
  assert.throws(() => new BloomFilter(64, 9), RangeError);
  assert.throws(() => BloomFilter.forCount(-1), RangeError);
});
