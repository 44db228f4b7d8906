import assert from "node:assert/strict";
import { join } from "node:path";
import type { TreeNode } from "../../plugins/sdk/tree_node.ts";
import { ProtectionLedger } from "../cache/protection_ledger.ts";
import type { Repository } from "../repository/repository.ts";
import { Protection } from "./protection.ts";

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
