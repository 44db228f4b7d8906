import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ensureReal } from "./corpus_real.ts";

Deno.test("the real corpus copies its roots in sorted order until the next file would pass the cap", () => {
  const src = Deno.makeTempDirSync(), cache = Deno.makeTempDirSync();
  try {
    for (
      const [rel, size] of [["b/2.h", 30], ["a/1.h", 10], ["b/1.h", 20], ["c/1.h", 5]] as const
    ) {
      fs.mkdirSync(path.join(src, path.dirname(rel)), { recursive: true });
      fs.writeFileSync(path.join(src, rel), new Uint8Array(size).fill(1));
    }
    fs.symlinkSync("1.h", path.join(src, "a", "link"));
    // a/1.h (10), a/link (0), b/1.h (20): 30 bytes; b/2.h would make 60; c is skipped.
    const info = ensureReal(cache, {
      roots: [src],
      skip: [path.join(src, "c")],
      maxBytes: 40,
      maxFiles: 100,
    });
    const copy = path.join(info.dir, src);
    assert.deepEqual(
      [info.files, info.bytes, fs.readdirSync(copy).sort(), fs.readdirSync(path.join(copy, "b"))],
      [3, 30, ["a", "b"], ["1.h"]],
    );
    assert.equal(fs.readlinkSync(path.join(copy, "a", "link")), "1.h");
    assert.match(info.source!, new RegExp(`last copied: ${path.join(src, "b", "1.h")}$`));
    assert.equal(
      ensureReal(cache, { roots: [src], skip: [path.join(src, "c")], maxBytes: 40, maxFiles: 100 })
        .generatedSeconds,
      0,
    );
  } finally {
    fs.rmSync(src, { recursive: true });
    fs.rmSync(cache, { recursive: true });
  }
});
