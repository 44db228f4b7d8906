import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import {
  DUPLICATE_SHARE,
  ensureMillion,
  MAX_SIZE,
  millionName,
  MIN_SIZE,
} from "./corpus_million.ts";

Deno.test("the million corpus has its folders of files, sizes in range, ~5% duplicates, unique names and a probe", async () => {
  const cache = Deno.makeTempDirSync();
  try {
    const spec = { folders: 10, perFolder: 100 };
    const info = await ensureMillion(cache, spec);
    assert.equal(info.dir, path.join(cache, millionName(spec)));
    assert.equal(info.files, 1000);
    assert.equal(info.dirs, 10);
    const folders = fs.readdirSync(info.dir).sort();
    assert.deepEqual(folders, [...Array(10)].map((_, i) => `d000${i}`));
    const names = new Set<string>();
    const digests = new Map<string, number>();
    let bytes = 0;
    for (const folder of folders) {
      const files = fs.readdirSync(path.join(info.dir, folder));
      assert.equal(files.length, 100, `folder "${folder}"`);
      for (const name of files) {
        const data = fs.readFileSync(path.join(info.dir, folder, name));
        assert.ok(data.length >= MIN_SIZE && data.length <= MAX_SIZE, `size of "${name}"`);
        names.add(name);
        bytes += data.length;
        const h = createHash("sha256").update(data).digest("hex");
        digests.set(h, (digests.get(h) ?? 0) + 1);
      }
    }
    assert.equal(names.size, 1000, "every file name is unique in the corpus");
    assert.equal(bytes, info.bytes);
    const duplicates = 1000 - digests.size;
    // 5% of 1,000 draws: 50 expected, binomial spread ~7.
    assert.ok(
      Math.abs(duplicates - DUPLICATE_SHARE * 1000) <= 25,
      `${duplicates} duplicates in 1,000 files`,
    );
    assert.deepEqual(info.probe, { dir: "d0005", file: info.probe!.file });
    assert.ok(fs.statSync(path.join(info.dir, info.probe!.file)).isFile());
    assert.ok(info.generatedSeconds > 0);
    // A second call finds the marker and generates nothing.
    const again = await ensureMillion(cache, spec);
    assert.equal(again.generatedSeconds, 0);
    assert.deepEqual(again.probe, info.probe);
  } finally {
    fs.rmSync(cache, { recursive: true });
  }
});

Deno.test("the million corpus is the same bytes wherever it is generated", async () => {
  const a = Deno.makeTempDirSync(), b = Deno.makeTempDirSync();
  try {
    const spec = { folders: 2, perFolder: 30 };
    const [ia, ib] = [await ensureMillion(a, spec), await ensureMillion(b, spec)];
    const digest = (dir: string) => {
      const h = createHash("sha256");
      for (const folder of fs.readdirSync(dir).sort()) {
        for (const name of fs.readdirSync(path.join(dir, folder)).sort()) {
          h.update(`${folder}/${name}\0`).update(fs.readFileSync(path.join(dir, folder, name)));
        }
      }
      return h.digest("hex");
    };
    assert.equal(digest(ia.dir), digest(ib.dir));
  } finally {
    fs.rmSync(a, { recursive: true });
    fs.rmSync(b, { recursive: true });
  }
});
