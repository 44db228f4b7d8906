import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  dirAmplification,
  measuredDirs,
  median,
  snapshotPathOf,
  summarizeAmplification,
} from "./amplification.ts";

const dir = (p: string, fileBytes: number, packBytes: number) =>
  dirAmplification(
    p,
    JSON.stringify({ files: 3, bytes: fileBytes, readBytes: fileBytes / 2, packs: 1, packBytes }),
  );

Deno.test("dirAmplification() divides the bytes of the packs by the bytes of the files", () => {
  const d = dirAmplification(
    "/corpus/a",
    JSON.stringify({
      files: 10,
      bytes: 50e6,
      readBytes: 30e6,
      packs: 2,
      packBytes: 120e6,
      cold: {},
    }),
  );
  assert.deepEqual(d, {
    path: "/corpus/a",
    files: 10,
    fileBytes: 50e6,
    readBytes: 30e6,
    packs: 2,
    packBytes: 120e6,
    ratio: 2.4,
  });
  assert.equal(dir("/corpus/empty", 0, 0).ratio, null);
});

Deno.test("dirAmplification() rejects a plan without its numbers, naming the field", () => {
  assert.throws(
    () => dirAmplification("/c/a", JSON.stringify({ files: 1, bytes: 5, readBytes: 4, packs: 1 })),
    /"\/c\/a" has no number "packBytes"/,
  );
});

Deno.test("median() takes the middle value, or the mean of the middle two", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

Deno.test("summarizeAmplification() gives min, median, max, the worst directory and large/", () => {
  const s = summarizeAmplification([
    dir("/c/a", 100, 150),
    dir("/c/b", 100, 250),
    dir("/c/empty", 0, 0),
    dir("/c/large", 100, 110),
  ]);
  assert.deepEqual(s, {
    dirs: 3,
    floor: 16 << 20,
    atFloor: 0,
    maxAtFloor: null,
    worstAtFloor: null,
    min: 1.1,
    median: 1.5,
    max: 2.5,
    worst: "/c/b",
    large: 1.1,
    target: 2,
    withinTarget: true,
  });
  // From the floor up a directory is held to the target; below it, it is only reported.
  const held = summarizeAmplification([dir("/c/a", 100, 250), dir("/c/b", 40e6, 90e6)])!;
  assert.equal(held.atFloor, 1);
  assert.equal(held.maxAtFloor, 2.25);
  assert.equal(held.worstAtFloor, "/c/b");
  assert.equal(held.withinTarget, false);
  assert.equal(summarizeAmplification([dir("/c/a", 100, 200)])?.withinTarget, true);
  assert.equal(summarizeAmplification([dir("/c/a", 100, 200)])?.large, null);
  assert.equal(summarizeAmplification([dir("/c/empty", 0, 0)]), null);
});

Deno.test("measuredDirs() names every top-level directory and the deeper ones from the floor up", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "amplification-test-"));
  try {
    for (const d of ["a/big/deeper", "a/small", "b"]) {
      fs.mkdirSync(path.join(root, d), { recursive: true });
    }
    fs.writeFileSync(path.join(root, "a/big/deeper/f"), new Uint8Array(600));
    fs.writeFileSync(path.join(root, "a/big/g"), new Uint8Array(500));
    fs.writeFileSync(path.join(root, "a/small/h"), new Uint8Array(999));
    fs.writeFileSync(path.join(root, "top.txt"), new Uint8Array(5000));
    assert.deepEqual(measuredDirs(root, 1000), ["a", "a/big", "b"]);
  } finally {
    fs.rmSync(root, { recursive: true });
  }
});

Deno.test("snapshotPathOf() roots a directory at the backed-up tree's base name", () => {
  const root = path.join(os.tmpdir(), "corpus");
  assert.equal(snapshotPathOf(root, "a"), "/corpus/a");
  assert.equal(snapshotPathOf(`${root}/`, "a"), "/corpus/a");
});
