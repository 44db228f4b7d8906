import assert from "node:assert/strict";
import { ObjectNotFound } from "../../plugins/sdk/errors.ts";
import { RepoIndex } from "../repository/index.ts";
import type { IndexedPack } from "../repository/index_segment.ts";
import { chooseCopies } from "./restore_plan.ts";

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

const packsOf = (index: RepoIndex, ids: string[]) =>
  new Set(
    chooseCopies((id) => index.copies(id), ids.map((id) => ({ id, rel: `f-${id}` }))).map((b) =>
      b.pack[0]
    ),
  );

Deno.test("chooseCopies() reads a blob stored twice from a pack the plan needs anyway", () => {
  const index = new RepoIndex();
  // x was stored first in a (another directory's pack), then again in b, next to y and z.
  index.add([pack("a", ["x", "w"]), pack("b", ["y", "x", "z"])]);
  assert.deepEqual(packsOf(index, ["x", "y", "z"]), new Set(["b"]));
  assert.deepEqual(packsOf(index, ["x", "w"]), new Set(["a"]));
  // With only copies to choose from, the pack covering most of them wins.
  index.add([pack("c", ["p", "q"]), pack("d", ["p", "q", "r"]), pack("e", ["r"])]);
  assert.deepEqual(packsOf(index, ["p", "q", "r"]), new Set(["d"]));
});

Deno.test("chooseCopies() names the file of a blob that is not indexed", () => {
  const index = new RepoIndex();
  assert.throws(
    () => chooseCopies((id) => index.copies(id), [{ id: "gone", rel: "dir/file" }]),
    (e) => e instanceof ObjectNotFound && /"gone" of "dir\/file"/.test(e.message),
  );
});
