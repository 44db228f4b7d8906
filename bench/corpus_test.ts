import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { corpusSpec, ensureCorpus, measureTree } from "./corpus.ts";

const tiny = { files: 120, largeRandom: 1 << 20, largeMixed: 2 << 20 };

function hashTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
      const r = path.join(rel, name);
      if (fs.statSync(path.join(dir, r)).isDirectory()) walk(r);
      else out.push(`${r} ${Buffer.from(fs.readFileSync(path.join(dir, r))).toString("base64")}`);
    }
  };
  walk("");
  return out;
}

Deno.test("ensureCorpus() generates the same tree in two places and reuses a complete one", () => {
  const a = Deno.makeTempDirSync(), b = Deno.makeTempDirSync();
  try {
    const ia = ensureCorpus(a, tiny), ib = ensureCorpus(b, tiny);
    assert.equal(ia.files, 120 + 5);
    assert.ok(ia.generatedSeconds > 0);
    assert.deepEqual(hashTree(ia.dir), hashTree(ib.dir));
    const m = measureTree(ia.dir);
    assert.equal(m.files, ia.files);
    assert.equal(m.bytes, ia.bytes);
    assert.equal(m.dirs, ia.dirs);
    // Reused: the marker is trusted and nothing is regenerated.
    const again = ensureCorpus(a, tiny);
    assert.equal(again.generatedSeconds, 0);
    assert.equal(again.bytes, ia.bytes);
  } finally {
    fs.rmSync(a, { recursive: true });
    fs.rmSync(b, { recursive: true });
  }
});

Deno.test("corpusSpec() scales the default corpus and --files overrides the file count", () => {
  assert.deepEqual(corpusSpec(), { files: 40_000, largeRandom: 64 << 20, largeMixed: 128 << 20 });
  assert.deepEqual(corpusSpec(0.5, 10), { files: 10, largeRandom: 32 << 20, largeMixed: 64 << 20 });
});
