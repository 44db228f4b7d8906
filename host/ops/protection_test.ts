import assert from "node:assert/strict";
import { join } from "node:path";
import type { TreeNode } from "../../plugins/sdk/tree_node.ts";
import { ProtectionLedger } from "../cache/protection_ledger.ts";
import type { Repository } from "../repository/repository.ts";
import { Protection } from "./protection.ts";
import { executeProtectionForget, planProtectionForget } from "./protection_forget.ts";

/** A file node with `content` as its one blob id. */
function file(name: string, content: string): TreeNode {
  return { name, type: "file", mode: 0o644, mtime: "1", ctime: "1", size: 1, content: [content] };
}

const SOURCE = "/archive";
const stored = () => true;
/** Never read: without a previous snapshot, protection reads nothing from the repository. */
const noRepo = {} as Repository;

async function run(ledger: string, neverChange: string[], warnings: string[] = []) {
  return await Protection.start(noRepo, [SOURCE], ledger, {
    engine: "dedup",
    neverChange,
    acceptChanges: false,
    onWarning: (path, reason) => warnings.push(`${path} ${reason}`),
  });
}

Deno.test("never-change globs match folders stored at once without closing a matcher another folder still uses", async () => {
  const ledger = join(await Deno.makeTempDir(), "protection.sqlite");
  const p = await run(ledger, ["*.tif", "*.pdf", "*.none"]);
  try {
    // The engine stores trees concurrently: every folder asks about each glob still unmatched.
    const dirs = Array.from({ length: 20 }, (_, i) => `${SOURCE}/d${i}`);
    await Promise.all(
      dirs.map((d, i) => p.see(d, [file("a.tif", `t${i}`), file("b.pdf", `p${i}`)], stored)),
    );
    assert.deepEqual(p.findings(), []);
    assert.deepEqual(p.unmatchedGlobs(), ["*.none"]);
  } finally {
    await p.close();
  }
});

Deno.test("a file whose never-change glob was dropped is no longer protected, not vanished, and leaves the ledger", async () => {
  const ledger = join(await Deno.makeTempDir(), "protection.sqlite");
  const nodes = [file("deed.tif", "t"), file("letter.pdf", "p")];
  const first = await run(ledger, ["*.tif", "*.pdf"]);
  try {
    await first.see(SOURCE, nodes, stored);
    first.commit("a".repeat(64));
  } finally {
    await first.close();
  }

  const warnings: string[] = [];
  const second = await run(ledger, ["*.tif"], warnings);
  try {
    await second.see(SOURCE, nodes, stored);
    assert.deepEqual(second.findings(), [], "letter.pdf was stored: it did not vanish");
    second.commit("b".repeat(64));
  } finally {
    await second.close();
  }
  assert.deepEqual(warnings, [
    "/archive/letter.pdf is no longer protected: no never-change glob matches it now",
  ]);
  const left = new ProtectionLedger(ledger);
  try {
    assert.deepEqual([...left.entries("dedup", SOURCE).keys()], ["deed.tif"]);
  } finally {
    left.close();
  }
});

Deno.test("worm forget of a path under a source drops only the entries under it, and of a folder above sources drops them whole", async () => {
  const file = join(await Deno.makeTempDir(), "protection.sqlite");
  const ledger = new ProtectionLedger(file);
  try {
    const entry = (path: string) => ({ path, node: file1(path), snapshot: "a".repeat(64) });
    ledger.apply(
      "worm",
      "/photos/2019",
      ["a.jpg", "trip/b.jpg", "trip/c.jpg", "tripx"].map(entry),
      [],
    );
    ledger.apply("dedup", "/photos/2020", ["d.jpg"].map(entry), []);
    ledger.apply("worm", "/scans", ["e.tif"].map(entry), []);

    const under = planProtectionForget(ledger, ["/photos/2019/trip"]);
    assert.deepEqual(
      under.items.map((i) => [i.engine, i.source, i.whole, i.paths]),
      [["worm", "/photos/2019", false, ["trip/b.jpg", "trip/c.jpg"]]],
    );
    const above = planProtectionForget(ledger, ["/photos"]);
    assert.deepEqual(
      above.items.map((i) => [i.engine, i.source, i.whole, i.paths.length]),
      [["worm", "/photos/2019", true, 4], ["dedup", "/photos/2020", true, 1]],
    );
    assert.equal(above.files, 5);
    assert.throws(
      () => planProtectionForget(ledger, ["/photos/2019/tri"]),
      /no protected file on this machine is at or under "\/photos\/2019\/tri"/,
    );

    executeProtectionForget(ledger, under);
    assert.deepEqual([...ledger.entries("worm", "/photos/2019").keys()].sort(), ["a.jpg", "tripx"]);
    executeProtectionForget(ledger, above);
    assert.deepEqual(ledger.sources().map((s) => s.source), ["/scans"]);
    // Still known: a later backup starts afresh rather than rebuilding from an old snapshot.
    assert.ok(ledger.knows("worm", "/photos/2019"));
  } finally {
    ledger.close();
  }
});

/** A file node named by its path's last part, with one blob. */
function file1(path: string): TreeNode {
  return file(path.split("/").pop()!, `id-${path}`);
}

Deno.test("a protection ledger opened to read only writes nothing: a missing one reads as empty and stays missing", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "repo-id", "protection.sqlite");
  const missing = new ProtectionLedger(path, { readOnly: true });
  try {
    assert.deepEqual(missing.sources(), []);
    assert.equal(missing.knows("worm", "/a"), false);
    assert.throws(() => missing.apply("worm", "/a", [], []), /opened to read only/);
  } finally {
    missing.close();
  }
  assert.deepEqual([...Deno.readDirSync(dir)], [], "no folder, no file");

  const writer = new ProtectionLedger(path);
  writer.apply("worm", "/a", [{ path: "x", node: file("x", "1"), snapshot: "s" }], []);
  writer.close();
  const before = Deno.statSync(path).mtime;
  const reader = new ProtectionLedger(path, { readOnly: true });
  try {
    assert.deepEqual([...reader.entries("worm", "/a").keys()], ["x"]);
  } finally {
    reader.close();
  }
  assert.deepEqual([...Deno.readDirSync(join(dir, "repo-id"))].map((e) => e.name), [
    "protection.sqlite",
  ]);
  assert.deepEqual(Deno.statSync(path).mtime, before);
});
