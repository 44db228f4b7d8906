import assert from "node:assert/strict";
import { MemoryIndex } from "./repo_index.ts";
import { fakePack as pack } from "../../test/support/index_fixture.ts";

Deno.test("MemoryIndex.copies() names every pack holding a blob, the first loaded first", () => {
  const index = new MemoryIndex();
  index.add([pack("a", ["x", "y"])]);
  index.add([pack("b", ["x", "z"]), pack("a", ["x", "y"])]);
  assert.deepEqual(index.copies("x").map((c) => c.pack[0]), ["a", "b"]);
  assert.equal(index.get("x")!.pack[0], "a");
  assert.deepEqual(index.copies("y").map((c) => c.pack[0]), ["a"]);
  assert.deepEqual(index.copies("none"), []);
  index.clear();
  assert.deepEqual(index.copies("x"), []);
});
