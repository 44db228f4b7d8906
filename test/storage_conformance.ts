/**
 * The one conformance suite every storage back end runs (STYLE habit 5). It checks the
 * `Storage` contract of `host/storage/storage.ts` through an admin-role `Storage`, using only
 * layout names. A back end's test file calls {@link storageConformance} with an opener.
 *
 * @module
 */

import assert from "node:assert/strict";
import { ObjectExists, ObjectNotFound } from "../plugins/sdk/errors.ts";
import { layout } from "../host/repository/layout.ts";
import type { Storage } from "../host/storage/storage.ts";

/** Opens a fresh, empty storage with every method (admin role), and how to dispose of it. */
export type OpenForTest = () => Promise<{ storage: Storage; cleanup(): Promise<void> }>;

/** Random bytes of any length. */
export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}

/** A random 64-hex-digit object id; `first` fixes its leading characters. */
export function randomId(first = ""): string {
  const hex = Array.from(randomBytes(32), (b) => b.toString(16).padStart(2, "0")).join("");
  return (first + hex).slice(0, 64);
}

/** The name and size of a stat or listing entry (back ends may add more). */
export function nameAndSize(o: { name: string; size: number } | null) {
  return o === null ? null : { name: o.name, size: o.size };
}

/** Registers the conformance tests for back end `name`, each on a fresh storage from `open`. */
export function storageConformance(name: string, open: OpenForTest): void {
  const test = (title: string, fn: (s: Storage) => Promise<void>) =>
    Deno.test(`${name}: ${title}`, async () => {
      const { storage, cleanup } = await open();
      try {
        await fn(storage);
      } finally {
        await storage.close();
        await cleanup();
      }
    });

  test("create() then read() returns the same bytes, for empty, small and large objects", async (s) => {
    const objects = [
      [layout.config(), new Uint8Array(0)],
      [layout.key(randomId()), randomBytes(1)],
      [layout.index(randomId()), randomBytes(4097)],
      [layout.pack(randomId()), randomBytes(9 << 20)],
    ] as const;
    for (const [n, data] of objects) await s.create(n, data.slice());
    for (const [n, data] of objects) assert.deepEqual(await s.read(n), data, n);
  });

  test("read() with a range returns exactly those bytes", async (s) => {
    const data = randomBytes(100_000);
    const n = layout.pack(randomId());
    await s.create(n, data.slice());
    for (
      const [offset, length] of [[0, 1], [0, 100_000], [99_999, 1], [12_345, 54_321], [500, 0]]
    ) {
      assert.deepEqual(await s.read(n, { offset, length }), data.subarray(offset, offset + length));
    }
    assert.deepEqual(await s.read(n, { offset: 100_000, length: 0 }), new Uint8Array(0));
  });

  test("read() with a range past the end rejects with RangeError", async (s) => {
    const n = layout.index(randomId());
    await s.create(n, randomBytes(10));
    await assert.rejects(s.read(n, { offset: 5, length: 6 }), RangeError);
    await assert.rejects(s.read(n, { offset: 11, length: 0 }), RangeError);
    await assert.rejects(s.read(n, { offset: -1, length: 2 }), RangeError);
  });

  test("create() of an existing name with the same bytes resolves", async (s) => {
    const n = layout.snapshot(randomId());
    const data = randomBytes(3000);
    await s.create(n, data.slice());
    await s.create(n, data.slice());
    assert.deepEqual(await s.read(n), data);
  });

  test("create() of an existing name with other bytes rejects with ObjectExists and keeps the original", async (s) => {
    const n = layout.pack(randomId());
    const data = randomBytes(3000);
    await s.create(n, data.slice());
    const other = data.slice();
    other[1234] ^= 1;
    await assert.rejects(s.create(n, other), ObjectExists);
    await assert.rejects(s.create(n, randomBytes(10)), ObjectExists);
    await assert.rejects(s.create(n, new Uint8Array(0)), ObjectExists);
    assert.deepEqual(await s.read(n), data);
    assert.deepEqual(nameAndSize(await s.stat(n)), { name: n, size: 3000 });
  });

  test("a missing object: read() rejects with ObjectNotFound, stat() is null, delete() resolves", async (s) => {
    const n = layout.pack(randomId());
    await assert.rejects(s.read(n), ObjectNotFound);
    await assert.rejects(s.read(n, { offset: 0, length: 1 }), ObjectNotFound);
    assert.equal(await s.stat(n), null);
    await s.delete(n);
  });

  test("stat() gives the name and size", async (s) => {
    const n = layout.index(randomId());
    await s.create(n, randomBytes(777));
    const stat = await s.stat(n);
    assert.deepEqual(nameAndSize(stat), { name: n, size: 777 });
    assert.equal(stat?.availability.state, "readable");
    if (stat?.modified !== undefined) {
      const age = Date.now() - Date.parse(stat.modified);
      assert.ok(age > -60_000 && age < 600_000, `modified ${stat.modified} is not about now`);
    }
  });

  test("list() yields exactly the objects under a prefix", async (s) => {
    const packs = [randomId("ab"), randomId("ab"), randomId("cd")].map(layout.pack);
    const indexes = [randomId(), randomId()].map(layout.index);
    const others = [layout.config(), layout.key(randomId()), layout.metaCopy(randomId())];
    for (const n of [...packs, ...indexes, ...others]) await s.create(n, randomBytes(n.length));
    const names = async (prefix: string) => (await s.list(prefix)).map((o) => o.name).sort();
    assert.deepEqual(await names(layout.prefixes.pack), [...packs].sort());
    assert.deepEqual(await names("packs/ab"), packs.slice(0, 2).sort());
    assert.deepEqual(await names("packs/a"), packs.slice(0, 2).sort());
    assert.deepEqual(await names(packs[2]), [packs[2]]);
    assert.deepEqual(await names(layout.prefixes.index), [...indexes].sort());
    assert.deepEqual(await names("snapshots/"), []);
    assert.deepEqual(await names(""), [...packs, ...indexes, ...others].sort());
    for (const o of await s.list("")) assert.equal(o.size, o.name.length, o.name);
  });

  test("list() returns every object when there are more than 1000", async (s) => {
    const all = Array.from({ length: 1100 }, () => layout.index(randomId()));
    for (let i = 0; i < all.length; i += 100) {
      await Promise.all(all.slice(i, i + 100).map((n) => s.create(n, new Uint8Array([1]))));
    }
    await s.create(layout.pack(randomId()), new Uint8Array([2]));
    const listed = await s.list(layout.prefixes.index);
    assert.equal(listed.length, 1100);
    assert.deepEqual(listed.map((o) => o.name).sort(), all.sort());
  });

  test("concurrent creates of one name with the same bytes all resolve", async (s) => {
    const n = layout.pack(randomId());
    const data = randomBytes(200_000);
    await Promise.all(Array.from({ length: 8 }, () => s.create(n, data.slice())));
    assert.deepEqual(await s.read(n), data);
  });

  test("concurrent creates of one name with different bytes: one wins, the rest get ObjectExists", async (s) => {
    const n = layout.pack(randomId());
    const datas = Array.from({ length: 8 }, () => randomBytes(100_000));
    const results = await Promise.allSettled(datas.map((d) => s.create(n, d.slice())));
    const won = results.flatMap((r, i) => r.status === "fulfilled" ? [i] : []);
    assert.equal(won.length, 1);
    for (const r of results) {
      if (r.status === "rejected") assert.ok(r.reason instanceof ObjectExists, `${r.reason}`);
    }
    assert.deepEqual(await s.read(n), datas[won[0]]);
  });

  test("concurrent creates of different names all land", async (s) => {
    const objects = Array.from({ length: 40 }, (_, i) =>
      [
        i % 2 ? layout.pack(randomId()) : layout.index(randomId()),
        randomBytes(1000 + i),
      ] as const);
    await Promise.all(objects.map(([n, d]) => s.create(n, d.slice())));
    for (const [n, d] of objects) assert.deepEqual(await s.read(n), d);
  });

  test("delete() removes an object, after which its name can be created again", async (s) => {
    const n = layout.pack(randomId());
    const keep = layout.pack(randomId());
    await s.create(n, randomBytes(10));
    await s.create(keep, randomBytes(10));
    await s.delete(n);
    assert.equal(await s.stat(n), null);
    await assert.rejects(s.read(n), ObjectNotFound);
    assert.deepEqual((await s.list("packs/")).map((o) => o.name), [keep]);
    const again = randomBytes(20);
    await s.create(n, again.slice());
    assert.deepEqual(await s.read(n), again);
  });
}
