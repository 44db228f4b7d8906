import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { compareTrees, restoredRoot } from "./verify.ts";

Deno.test("compareTrees() finds a changed, a missing and an extra file, and passes a copy", () => {
  const src = Deno.makeTempDirSync(), dst = Deno.makeTempDirSync();
  try {
    fs.mkdirSync(path.join(src, "d"));
    fs.writeFileSync(path.join(src, "d", "a.txt"), "hello");
    fs.writeFileSync(path.join(src, "b.bin"), new Uint8Array(3 << 20).fill(7));
    fs.symlinkSync("d/a.txt", path.join(src, "link"));
    fs.cpSync(src, dst, { recursive: true, verbatimSymlinks: true });
    const same = compareTrees(src, dst);
    assert.equal(same.identical, true);
    assert.equal(same.files, 2);
    assert.equal(same.bytes, 5 + (3 << 20));

    const big = new Uint8Array(3 << 20).fill(7);
    big[2 << 20] = 8; // same size, different contents
    fs.writeFileSync(path.join(dst, "b.bin"), big);
    fs.rmSync(path.join(dst, "d", "a.txt"));
    fs.writeFileSync(path.join(dst, "extra"), "x");
    const diff = compareTrees(src, dst);
    assert.equal(diff.identical, false);
    assert.equal(diff.problemCount, 3);
    assert.ok(diff.problems.some((p) => p.includes('"b.bin" has different contents')));
    assert.ok(diff.problems.some((p) => p.includes('"d/a.txt" is missing')));
    assert.ok(diff.problems.some((p) => p.includes('"extra" is extra')));
  } finally {
    fs.rmSync(src, { recursive: true });
    fs.rmSync(dst, { recursive: true });
  }
});

Deno.test("restoredRoot() finds the tree under the source's absolute path, else its basename", () => {
  const t = Deno.makeTempDirSync();
  try {
    assert.equal(restoredRoot("/some/src", t), t);
    fs.mkdirSync(path.join(t, "src"));
    assert.equal(restoredRoot("/some/src", t), path.join(t, "src"));
    fs.mkdirSync(path.join(t, "some", "src"), { recursive: true });
    assert.equal(restoredRoot("/some/src", t), path.join(t, "some", "src"));
  } finally {
    fs.rmSync(t, { recursive: true });
  }
});
