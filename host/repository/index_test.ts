import assert from "node:assert/strict";
import { RepoIndex } from "./index.ts";
import type { IndexedPack } from "./index_segment.ts";

/** A data pack holding `ids`, one 100-byte blob per 1000-byte frame. */
const pack = (name: string, ids: string[]): IndexedPack => ({
  pack: name.padEnd(64, "0"),
  metadata: false,
  length: 1000 * ids.length,
  blobs: ids.map((id, i) => ({
    id,
    type: "data" as const,
    frameOffset: 1000 * i,
    frameLength: 1000,
    offsetInFrame: 0,
    length: 100,
  })),
});

Deno.test("RepoIndex.copies() names every pack holding a blob, the first loaded first", () => {
  const index = new RepoIndex();
  index.add([pack("a", ["x", "y"])]);
  index.add([pack("b", ["x", "z"]), pack("a", ["x", "y"])]);
  assert.deepEqual(index.copies("x").map((c) => c.pack[0]), ["a", "b"]);
  assert.equal(index.get("x")!.pack[0], "a");
  assert.deepEqual(index.copies("y").map((c) => c.pack[0]), ["a"]);
  assert.deepEqual(index.copies("none"), []);
  index.clear();
  assert.deepEqual(index.copies("x"), []);
});
