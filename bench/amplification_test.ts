import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  dirAmplification,
  median,
  snapshotPathOf,
  summarizeAmplification,
  topLevelDirs,
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
    min: 1.1,
    median: 1.5,
    max: 2.5,
    worst: "/c/b",
    large: 1.1,
    target: 2,
    withinTarget: false,
  });
  assert.equal(summarizeAmplification([dir("/c/a", 100, 200)])?.withinTarget, true);
  assert.equal(summarizeAmplification([dir("/c/a", 100, 200)])?.large, null);
  assert.equal(summarizeAmplification([dir("/c/empty", 0, 0)]), null);
});

Deno.test("topLevelDirs() lists only directories, sorted, and snapshotPathOf() roots them at the base name", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "amplification-test-"));
  try {
    fs.mkdirSync(path.join(root, "b"));
    fs.mkdirSync(path.join(root, "a"));
    fs.writeFileSync(path.join(root, "file.txt"), "x");
    assert.deepEqual(topLevelDirs(root), ["a", "b"]);
    assert.equal(snapshotPathOf(root, "a"), `/${path.basename(root)}/a`);
    assert.equal(snapshotPathOf(`${root}/`, "a"), `/${path.basename(root)}/a`);
  } finally {
    fs.rmSync(root, { recursive: true });
  }
});
