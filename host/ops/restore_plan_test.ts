import assert from "node:assert/strict";
import { ObjectNotFound } from "../../plugins/sdk/errors.ts";
import { MemoryIndex, type RepoIndex } from "../repository/repo_index.ts";
import { fakePack as pack } from "../../test/support/index_fixture.ts";
import { chooseCopies } from "./restore_plan.ts";

const packsOf = (index: RepoIndex, ids: string[]) =>
  new Set(
    chooseCopies((id) => index.copies(id), ids.map((id) => ({ id, rel: `f-${id}` }))).map((b) =>
      b.pack[0]
    ),
  );

Deno.test("chooseCopies() reads a blob stored twice from a pack the plan needs anyway", () => {
  const index = new MemoryIndex();
  // x was stored first in a (another directory's pack), then again in b, next to y and z.
  index.add([pack("a", ["x", "w"]), pack("b", ["y", "x", "z"])]);
  assert.deepEqual(packsOf(index, ["x", "y", "z"]), new Set(["b"]));
  assert.deepEqual(packsOf(index, ["x", "w"]), new Set(["a"]));
  // With only copies to choose from, the pack covering most of them wins.
  index.add([pack("c", ["p", "q"]), pack("d", ["p", "q", "r"]), pack("e", ["r"])]);
  assert.deepEqual(packsOf(index, ["p", "q", "r"]), new Set(["d"]));
});

Deno.test("chooseCopies() names the file of a blob that is not indexed", () => {
  const index = new MemoryIndex();
  assert.throws(
    () => chooseCopies((id) => index.copies(id), [{ id: "gone", rel: "dir/file" }]),
    (e) => e instanceof ObjectNotFound && /"gone" of "dir\/file"/.test(e.message),
  );
});

Deno.test("chooseCopies() takes exactly one indexed copy of each blob, however the copies lie", () => {
  let seed = 7;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  for (let round = 0; round < 20; round++) {
    const index = new MemoryIndex();
    const contents = Array.from({ length: 12 }, () => [] as string[]);
    const ids = Array.from({ length: 60 }, (_, i) => `b${i}`);
    for (const id of ids) {
      const copies = 1 + rand(3);
      for (let k = 0; k < copies; k++) {
        const p = contents[rand(12)];
        if (!p.includes(id)) p.push(id);
      }
    }
    contents.forEach((c, i) =>
      c.length > 0 && index.add([pack(`p${String(i).padStart(2, "0")}`, c)])
    );
    const needed = ids.filter(() => rand(2) === 0).map((id) => ({ id, rel: id }));
    const chosen = chooseCopies((id) => index.copies(id), needed);
    assert.deepEqual(chosen.map((b) => b.id).sort(), needed.map((n) => n.id).sort());
    for (const b of chosen) assert.ok(index.copies(b.id).some((c) => c.pack === b.pack));
  }
});
