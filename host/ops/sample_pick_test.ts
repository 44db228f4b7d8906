import assert from "node:assert/strict";
import {
  defaultSeed,
  parseSubset,
  pickSample,
  sampleSize,
  seedPicking,
  subsetText,
} from "./sample_pick.ts";

const ids = Array.from({ length: 40 }, (_, i) => i.toString(16).padStart(64, "0"));

Deno.test("a subset is a share or a number of packs, optionally with a seed", () => {
  assert.deepEqual(parseSubset("10%"), { percent: 10 });
  assert.deepEqual(parseSubset("0.5 %"), { percent: 0.5 });
  assert.deepEqual(parseSubset("5"), { count: 5 });
  assert.deepEqual(parseSubset("5p"), { count: 5 });
  assert.deepEqual(parseSubset("5 packs"), { count: 5 });
  assert.deepEqual(parseSubset("1 pack"), { count: 1 });
  assert.deepEqual(parseSubset("10%@2026-11-26"), { percent: 10, seed: "2026-11-26" });
  assert.deepEqual(parseSubset("3p@weekly.1"), { count: 3, seed: "weekly.1" });
  for (const bad of ["0%", "101%", "0", "-3", "ten", "5 files", "5%@", "5@a b", "%"]) {
    assert.throws(() => parseSubset(bad), TypeError, bad);
  }
});

Deno.test("a share is rounded up to at least one pack, a count is capped at the packs there are", () => {
  assert.equal(sampleSize({ percent: 10 }, 30), 3);
  assert.equal(sampleSize({ percent: 10 }, 31), 4);
  assert.equal(sampleSize({ percent: 0.1 }, 30), 1);
  assert.equal(sampleSize({ percent: 100 }, 30), 30);
  assert.equal(sampleSize({ count: 5 }, 30), 5);
  assert.equal(sampleSize({ count: 50 }, 30), 30);
  assert.equal(sampleSize({ percent: 10 }, 0), 0);
});

Deno.test("the same seed picks the same packs whatever their order, another seed others", () => {
  const a = pickSample(ids, "s1", 8);
  assert.equal(a.length, 8);
  assert.equal(new Set(a).size, 8);
  assert.deepEqual(pickSample([...ids].reverse(), "s1", 8), a);
  assert.notDeepEqual(pickSample(ids, "s2", 8), a);
  // A larger subset with the same seed holds the smaller one.
  assert.deepEqual(pickSample(ids, "s1", 12).slice(0, 8), a);
  // A pack added to the index changes the sample only where it sorts in.
  const more = pickSample([...ids, "f".repeat(64)], "s1", 8);
  assert.ok(more.filter((id) => a.includes(id)).length >= 7);
});

Deno.test("the default seed is the UTC date, and the subset is written back with its seed", () => {
  assert.equal(defaultSeed(new Date("2026-11-26T23:59:59-05:00")), "2026-11-27");
  assert.equal(subsetText({ percent: 2.5 }, "2026-11-27"), "2.5%@2026-11-27");
  assert.equal(subsetText({ count: 3, seed: "x" }, "x"), "3@x");
  assert.deepEqual(parseSubset(subsetText({ percent: 2.5 }, "d")), { percent: 2.5, seed: "d" });
});

Deno.test("seedPicking gives a seed whose sample of one pack is the pack asked for", () => {
  for (const pack of [ids[0], ids[17], ids[39]]) {
    const seed = seedPicking(pack, ids);
    assert.ok(seed !== undefined && parseSubset(`1@${seed}`).seed === seed, seed);
    assert.deepEqual(pickSample(ids, seed, 1), [pack]);
  }
  assert.deepEqual(pickSample([ids[3]], seedPicking(ids[3], [ids[3]])!, 1), [ids[3]]);
});
