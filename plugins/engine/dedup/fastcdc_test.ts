import assert from "node:assert/strict";
import { createCipheriv, createHash } from "node:crypto";
import {
  Chunker,
  type ChunkerParams,
  cutPoint,
  DEFAULT_CHUNKER_PARAMS,
  validateChunkerParams,
} from "./fastcdc.ts";

const SMALL: ChunkerParams = { min: 1024, avg: 4096, max: 16384 };

/** Deterministic pseudo-random bytes: AES-128-CTR keystream under a key derived from `seed`. */
function randomBytes(n: number, seed: string): Uint8Array {
  const key = createHash("sha256").update(seed).digest().subarray(0, 16);
  const cipher = createCipheriv("aes-128-ctr", key, new Uint8Array(16));
  return new Uint8Array(cipher.update(new Uint8Array(n)));
}

function gearTable(seed: string): Uint32Array {
  const bytes = randomBytes(1024, `gear:${seed}`);
  return new Uint32Array(bytes.buffer, bytes.byteOffset, 256).slice();
}

/** Chunks `data` by repeated cutPoint() calls (the reference for Chunker). */
function oneShot(data: Uint8Array, gear: Uint32Array, p: ChunkerParams): Uint8Array[] {
  const out: Uint8Array[] = [];
  let off = 0;
  while (off < data.length) {
    const n = cutPoint(data.subarray(off), gear, p, true);
    out.push(data.subarray(off, off + n));
    off += n;
  }
  return out;
}

function lengths(chunks: Uint8Array[]): number[] {
  return chunks.map((c) => c.length);
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

function digest(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

/** Feeds `data` to a Chunker in pieces of the given sizes (cycled), reusing one input buffer. */
function streamed(data: Uint8Array, gear: Uint32Array, p: ChunkerParams, sizes: number[]) {
  const chunker = new Chunker(gear, p);
  const out: Uint8Array[] = [];
  const scratch = new Uint8Array(Math.max(...sizes));
  let off = 0, k = 0;
  while (off < data.length) {
    const n = Math.min(sizes[k++ % sizes.length], data.length - off);
    scratch.set(data.subarray(off, off + n));
    out.push(...chunker.push(scratch.subarray(0, n)));
    scratch.fill(0xa5); // the chunker must not have kept the input
    off += n;
  }
  out.push(...chunker.finish());
  return out;
}

Deno.test("validateChunkerParams() accepts the repository default and small test values", () => {
  validateChunkerParams(DEFAULT_CHUNKER_PARAMS);
  validateChunkerParams(SMALL);
});

Deno.test("validateChunkerParams() throws a RangeError naming the offending field", () => {
  const cases: [ChunkerParams, string][] = [
    [{ min: 1024, avg: 5000, max: 16384 }, '"avg"'],
    [{ min: 1024, avg: 2 ** 32 + 4096, max: 2 ** 33 }, '"avg"'],
    [{ min: 1024, avg: -4096, max: 16384 }, '"avg"'],
    [{ min: 64, avg: 2 ** 30, max: 2 ** 30 + 1 }, '"max"'],
    [{ min: 4096, avg: 4096, max: 16384 }, '"min"'],
    [{ min: 32, avg: 4096, max: 16384 }, '"min"'],
    [{ min: 1024.5, avg: 4096, max: 16384 }, '"min"'],
    [{ min: 1024, avg: 4096, max: 4096 }, '"max"'],
    [{ min: 1024, avg: 4096, max: 2 ** 31 }, '"max"'],
    [{ min: 1024, avg: 4096 } as ChunkerParams, '"max"'],
  ];
  for (const [p, field] of cases) {
    assert.throws(() => validateChunkerParams(p), (e: Error) => {
      assert.ok(e instanceof RangeError);
      assert.ok(e.message.includes(field), `${JSON.stringify(p)}: ${e.message}`);
      return true;
    });
  }
});

Deno.test("cutPoint() and new Chunker() reject a gear table that is not 256 32-bit words", () => {
  const data = randomBytes(70000, "x");
  assert.throws(() => cutPoint(data, new Uint32Array(255), SMALL, true), RangeError);
  assert.throws(() => new Chunker(new Uint32Array(16), SMALL), RangeError);
});

Deno.test("cutPoint() asks for more data only while no cut is decided, and a cut never moves", () => {
  const gear = gearTable("a");
  const data = randomBytes(SMALL.max * 4, "b");
  const cut = cutPoint(data, gear, SMALL, false);
  assert.ok(cut >= SMALL.min && cut <= SMALL.max);
  for (let n = 0; n < data.length; n += 97) {
    const partial = cutPoint(data.subarray(0, n), gear, SMALL, false);
    assert.equal(partial, n >= cut ? cut : 0, `prefix of ${n} bytes`);
  }
  assert.equal(cutPoint(data.subarray(0, 10), gear, SMALL, true), 10);
  assert.equal(cutPoint(new Uint8Array(0), gear, SMALL, true), 0);
});

/**
 * The boundary rule of fastcdc.ts's module doc, read literally with exact integer arithmetic:
 * an independent reference for the optimised code.
 */
function referenceCut(d: Uint8Array, gear: Uint32Array, p: ChunkerParams): number {
  const log2avg = Math.log2(p.avg);
  let h = 0;
  for (let i = p.min - 1; i < Math.min(d.length, p.max); i++) {
    h = (h * 2 + gear[d[i]]) % 2 ** 32;
    const bits = i + 1 <= p.avg ? log2avg + 2 : log2avg - 2;
    if (Math.floor(h / 2 ** (32 - bits)) === 0) return i + 1;
  }
  return Math.min(d.length, p.max);
}

Deno.test("cutPoint() follows the documented boundary rule exactly", () => {
  const gear = gearTable("a");
  const data = randomBytes(1 << 20, "rule");
  let off = 0, n = 0;
  while (off < data.length) {
    const rest = data.subarray(off);
    const cut = cutPoint(rest, gear, SMALL, true);
    assert.equal(cut, referenceCut(rest, gear, SMALL), `chunk ${n} at ${off}`);
    off += cut;
    n++;
  }
  assert.ok(n > 100);
});

Deno.test("cutPoint() applies the strict mask up to a chunk of avg bytes and the loose one after", () => {
  const gear = gearTable("a");
  const p = SMALL;
  const top = (h: number, bits: number) => Math.floor(h / 2 ** (32 - bits));
  const step = (h: number, b: number) => (h * 2 + gear[b]) % 2 ** 32;
  // A prefix of avg - 2 bytes with no cut in it, then bytes x, y, z1, z2 chosen so that the hash
  // after x (a chunk of avg - 1) matches no mask; the hash after y (a chunk of avg) matches only
  // the loose mask: no cut, since a chunk of avg bytes is judged by the strict one; the hash after
  // z1 matches no mask and the one after z2 matches the loose mask: a chunk of avg + 2 bytes.
  let seed = 0, prefix: Uint8Array;
  do prefix = randomBytes(p.avg - 2, `prefix${seed++}`); while (
    cutPoint(prefix, gear, p, false) !== 0
  );
  let h = 0;
  for (let i = p.min - 1; i < prefix.length; i++) h = step(h, prefix[i]);
  const loose = (h: number) => top(h, 10) === 0, strict = (h: number) => top(h, 14) === 0;
  let found: number[] | undefined;
  for (let x = 0; x < 256 && !found; x++) {
    const hx = step(h, x);
    if (strict(hx)) continue;
    for (let y = 0; y < 256 && !found; y++) {
      const hy = step(hx, y);
      if (!loose(hy) || strict(hy)) continue;
      for (let z1 = 0; z1 < 256 && !found; z1++) {
        const hz1 = step(hy, z1);
        if (loose(hz1)) continue;
        for (let z2 = 0; z2 < 256 && !found; z2++) if (loose(step(hz1, z2))) found = [x, y, z1, z2];
      }
    }
  }
  assert.ok(found, "no suitable bytes");
  const data = concat([prefix, new Uint8Array(found), randomBytes(p.max, "tail")]);
  assert.equal(cutPoint(data, gear, p, true), p.avg + 2);
});

Deno.test("cutPoint() gives the pinned boundaries for a fixed gear table and input", () => {
  // Pinned so that any change to the boundary rule (which would break dedup against existing
  // repositories) fails here. Values checked against referenceCut() above.
  const got = lengths(oneShot(randomBytes(65536, "kat"), gearTable("a"), SMALL));
  assert.deepEqual(got, [5234, 7349, 4168, 6415, 4350, 6821, 4886, 8111, 4650, 4745, 4875, 3932]);
});

Deno.test("cutPoint() cuts constant data at max when the run's settled hash does not match", () => {
  const gear = gearTable("a");
  const zeros = new Uint8Array(SMALL.max * 3);
  // After 32 equal bytes b the hash is stuck at -gear[b] mod 2^32; for this table and b = 0 its
  // top bits are not zero, so no cut is ever found and every chunk is max long.
  assert.notEqual(((-gear[0]) >>> 0) >>> (32 - 10), 0);
  assert.equal(cutPoint(zeros, gear, SMALL, false), SMALL.max);
  assert.deepEqual(
    lengths(oneShot(zeros, gear, SMALL)),
    lengths(streamed(zeros, gear, SMALL, [5000])),
  );
});

Deno.test("chunking is deterministic, bounded by min and max except the last chunk, and lossless", () => {
  const gear = gearTable("a");
  const data = randomBytes(3 << 20, "c");
  for (const p of [SMALL, DEFAULT_CHUNKER_PARAMS]) {
    const a = streamed(data, gear, p, [1 << 20]);
    const b = streamed(data, gear, p, [1 << 20]);
    assert.deepEqual(lengths(a), lengths(b));
    assert.ok(a.length > 1);
    for (const c of a.slice(0, -1)) {
      assert.ok(c.length >= p.min && c.length <= p.max, `${c.length}`);
    }
    assert.ok(a[a.length - 1].length <= p.max);
    assert.equal(digest(concat(a)), digest(data));
  }
});

Deno.test("Chunker fed in odd-sized pieces yields the same chunks as cutPoint() on the whole", () => {
  const gear = gearTable("a");
  const data = randomBytes(5 << 20, "d");
  const reference = oneShot(data, gear, SMALL);
  const splits = [[1], [7, 1000, 4095], [65537], [SMALL.min - 1, 3, SMALL.max + 1], [1 << 20]];
  for (const sizes of splits) {
    const got = streamed(
      data.subarray(0, sizes[0] === 1 ? 300_000 : data.length),
      gear,
      SMALL,
      sizes,
    );
    const want = sizes[0] === 1 ? oneShot(data.subarray(0, 300_000), gear, SMALL) : reference;
    assert.deepEqual(lengths(got), lengths(want), `pieces ${sizes}`);
    assert.deepEqual(got.map(digest), want.map(digest), `pieces ${sizes}`);
  }
  const big = randomBytes(20 << 20, "e");
  const bigRef = oneShot(big, gear, DEFAULT_CHUNKER_PARAMS);
  assert.deepEqual(
    lengths(streamed(big, gear, DEFAULT_CHUNKER_PARAMS, [4 << 20])),
    lengths(bigRef),
  );
  assert.deepEqual(
    lengths(streamed(big, gear, DEFAULT_CHUNKER_PARAMS, [777_777, 3 << 20])),
    lengths(bigRef),
  );
});

Deno.test("every chunk from Chunker exclusively owns its ArrayBuffer", () => {
  const gear = gearTable("a");
  const data = randomBytes(400_000, "f");
  for (const sizes of [[400_000], [3000], [10]]) {
    const chunks = streamed(data, gear, SMALL, sizes);
    const buffers = new Set<ArrayBufferLike>();
    for (const c of chunks) {
      assert.equal(c.byteOffset, 0);
      assert.equal(c.byteLength, c.buffer.byteLength);
      buffers.add(c.buffer);
    }
    assert.equal(buffers.size, chunks.length);
  }
  // A small stream becomes one owned chunk, not a view of the caller's buffer.
  const input = randomBytes(500, "g");
  const chunker = new Chunker(gear, SMALL);
  assert.deepEqual(chunker.push(input), []);
  const [only] = chunker.finish();
  assert.notEqual(only.buffer, input.buffer);
  assert.equal(only.byteLength, only.buffer.byteLength);
  assert.deepEqual(only, input);
});

Deno.test("Chunker.finish() of an empty stream yields nothing and the chunker can be reused", () => {
  const gear = gearTable("a");
  const chunker = new Chunker(gear, SMALL);
  assert.deepEqual(chunker.finish(), []);
  assert.deepEqual(chunker.push(new Uint8Array(0)), []);
  assert.deepEqual(chunker.finish(), []);
  const data = randomBytes(100_000, "h");
  const first = [...chunker.push(data), ...chunker.finish()];
  const second = [...chunker.push(data), ...chunker.finish()];
  assert.deepEqual(lengths(first), lengths(second));
  assert.deepEqual(lengths(first), lengths(oneShot(data, gear, SMALL)));
});

Deno.test("a different gear table gives different chunk boundaries", () => {
  const data = randomBytes(2 << 20, "i");
  const a = lengths(oneShot(data, gearTable("one"), SMALL));
  const b = lengths(oneShot(data, gearTable("two"), SMALL));
  const cutsA = new Set(a.map((_, k) => a.slice(0, k + 1).reduce((s, x) => s + x, 0)));
  let shared = 0, off = 0;
  for (const n of b) if (cutsA.has(off += n)) shared++;
  // Independent tables share only the occasional boundary (and the end of the data).
  assert.ok(shared < b.length * 0.05, `${shared} of ${b.length} boundaries shared`);
});

Deno.test("inserting bytes at the front of 32 MiB leaves almost all later chunks unchanged", () => {
  const gear = gearTable("a");
  const data = randomBytes(32 << 20, "j");
  const shifted = concat([randomBytes(1234, "prefix"), data]);
  for (const [p, least] of [[SMALL, 0.99], [DEFAULT_CHUNKER_PARAMS, 0.85]] as const) {
    const before = new Set(streamed(data, gear, p, [4 << 20]).map(digest));
    const after = streamed(shifted, gear, p, [4 << 20]).map(digest);
    const same = after.filter((d) => before.has(d)).length;
    assert.ok(same >= after.length * least, `${same} of ${after.length} chunks unchanged`);
  }
});

Deno.test("the average chunk on random data is within half to twice avg", () => {
  const gear = gearTable("a");
  for (const [p, size] of [[SMALL, 8 << 20], [DEFAULT_CHUNKER_PARAMS, 96 << 20]] as const) {
    const data = randomBytes(size, `k${p.avg}`);
    const chunks = streamed(data, gear, p, [4 << 20]);
    const mean = size / chunks.length;
    assert.ok(mean >= p.avg / 2 && mean <= p.avg * 2, `mean ${mean} for avg ${p.avg}`);
  }
});
