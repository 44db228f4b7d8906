/**
 * Fidelity through the real CLI: what a restore gives back besides the bytes (issue #12, case
 * 9). Sparse files come back sparse; extended attributes are backed up and restored
 * (docs/format.md §8, tree version 2).
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { readXattrs, userXattrsAt, writeXattr } from "../host/fs/xattr.ts";
import { cli, randomBytes, tempDir } from "./helpers.ts";

async function setup() {
  const repo = join(await tempDir(), "repo");
  const env = { PERMAFROST_REPO: repo, PERMAFROST_CACHE_DIR: await tempDir() };
  const init = await cli(["init", "--kdf-memlimit", "8MiB", "--pack-size", "1MiB"], env);
  assert.equal(init.code, 0, init.stderr);
  return env;
}

const MiB = 1 << 20;

/** A 64 MiB file with 12 KiB of data at its start, its middle and its end; the rest holes. */
function writeSparseFile(path: string): { size: number; data: [number, Uint8Array][] } {
  const size = 64 * MiB;
  const data: [number, Uint8Array][] = [
    [0, randomBytes(12 << 10, 1)],
    [32 * MiB + 1000, randomBytes(12 << 10, 2)],
    [size - (12 << 10), randomBytes(12 << 10, 3)],
  ];
  const fd = fs.openSync(path, "w");
  for (const [at, bytes] of data) fs.writeSync(fd, bytes, 0, bytes.length, at);
  fs.closeSync(fd);
  return { size, data };
}

/** Bytes a file has allocated on disk. */
function allocated(path: string): number {
  return Deno.statSync(path).blocks! * 512;
}

/** Asserts `path` holds zeros except `data` at its offsets, without reading it whole at once. */
function assertSparseContent(path: string, size: number, data: [number, Uint8Array][]): void {
  assert.equal(fs.statSync(path).size, size);
  const buf = new Uint8Array(4 * MiB);
  const fd = fs.openSync(path, "r");
  try {
    for (let at = 0; at < size; at += buf.length) {
      const n = fs.readSync(fd, buf, 0, buf.length, at);
      const expected = new Uint8Array(n);
      for (const [start, bytes] of data) {
        const from = Math.max(start, at), to = Math.min(start + bytes.length, at + n);
        if (from < to) expected.set(bytes.subarray(from - start, to - start), from - at);
      }
      assert.ok(Buffer.from(buf.subarray(0, n)).equals(expected), `bytes at ${at} differ`);
    }
  } finally {
    fs.closeSync(fd);
  }
}

Deno.test("a sparse file restores byte-exact with its holes, also over an existing file", async () => {
  const env = await setup();
  const src = await tempDir();
  const { size, data } = writeSparseFile(join(src, "disk.img"));
  assert.ok(allocated(join(src, "disk.img")) < MiB, "this file system makes sparse files");
  const b = await cli(["backup", src], env);
  assert.equal(b.code, 0, b.stderr);
  const name = src.split("/").pop()!;

  const target = await tempDir();
  // The second restore lands on the first one's files: replaced, not written over.
  fs.mkdirSync(join(target, name));
  fs.writeFileSync(join(target, name, "disk.img"), new Uint8Array(8 * MiB).fill(0xaa));
  for (let run = 0; run < 2; run++) {
    const r = await cli(["restore", "latest", "--target", target], env);
    assert.equal(r.code, 0, r.stderr);
    const restored = join(target, name, "disk.img");
    assertSparseContent(restored, size, data);
    assert.ok(
      allocated(restored) < 4 * MiB,
      `restored with holes: ${allocated(restored)} bytes allocated for ${size}`,
    );
  }
});

Deno.test("tiny files, files of zeros, files ending in zeros and hard links restore byte-exact, twice over other bytes", async () => {
  const env = await setup();
  const src = await tempDir();
  const name = src.split("/").pop()!;
  const files: Record<string, Uint8Array> = {
    // Backed up last, into one frame "…1" "22": the last blob ends the frame off a word
    // boundary (restores of such folders stopped with a RangeError).
    "z1": new TextEncoder().encode("1"),
    "z2": new TextEncoder().encode("22"),
    "empty": new Uint8Array(0),
    "zeros-one-block": new Uint8Array(4096),
    "zeros-many-blocks": new Uint8Array(3 * MiB), // several chunks, all zeros
    "ends-in-zeros": new Uint8Array(3 * 4096 + 100).fill(7, 0, 5000),
    "ends-in-a-byte": new Uint8Array(5 * 4096).fill(9, 5 * 4096 - 1),
  };
  for (const [file, bytes] of Object.entries(files)) fs.writeFileSync(join(src, file), bytes);
  fs.linkSync(join(src, "ends-in-zeros"), join(src, "hard-link"));
  const b = await cli(["backup", src], env);
  assert.equal(b.code, 0, b.stderr);

  const target = await tempDir();
  fs.mkdirSync(join(target, name));
  for (const file of [...Object.keys(files), "hard-link"]) {
    fs.writeFileSync(join(target, name, file), new Uint8Array(5 * 4096 + 3).fill(0xaa));
  }
  for (let run = 0; run < 2; run++) {
    const r = await cli(["restore", "latest", "--target", target], env);
    assert.equal(r.code, 0, r.stderr);
    for (const [file, bytes] of Object.entries(files)) {
      assert.deepEqual(new Uint8Array(fs.readFileSync(join(target, name, file))), bytes, file);
    }
    const [x, y] = ["ends-in-zeros", "hard-link"].map((f) => fs.statSync(join(target, name, f)));
    assert.equal(x.ino, y.ino, `run ${run}: the hard link is one file again`);
  }
});

/** The extended attributes of `path`, as name → text (values here are UTF-8). */
function xattrsOf(path: string): Record<string, string> {
  return Object.fromEntries(
    readXattrs(path).attrs.map(([name, value]) => [name, new TextDecoder().decode(value)]),
  );
}

Deno.test({
  name: "extended attributes of files and directories are backed up and restored",
  // Read and set on Linux only (host/fs/xattr.ts), where the temporary folder's file system
  // takes user.* attributes (tmpfs does only since Linux 6.6).
  ignore: !userXattrsAt(os.tmpdir()),
}, async () => {
  const env = await setup();
  const src = await tempDir();
  const name = src.split("/").pop()!;
  fs.mkdirSync(join(src, "dir"));
  fs.writeFileSync(join(src, "dir", "small.txt"), "small");
  fs.writeFileSync(join(src, "big.bin"), randomBytes(2 * MiB)); // several chunks
  fs.writeFileSync(join(src, "plain.txt"), "no attributes");
  fs.symlinkSync("plain.txt", join(src, "link"));
  const set: Record<string, Record<string, string>> = {
    "dir": { "user.role": "folder" },
    "dir/small.txt": { "user.comment": "hello", "user.empty": "", "user.mime_type": "text/plain" },
    "big.bin": { "user.checksum": "sha256:…" },
    "": { "user.top": "source" },
  };
  for (const [rel, attrs] of Object.entries(set)) {
    for (const [k, v] of Object.entries(attrs)) {
      writeXattr(join(src, rel), k, new TextEncoder().encode(v));
    }
  }
  const b = await cli(["backup", src, "--json"], env);
  assert.equal(b.code, 0, b.stderr);
  assert.doesNotMatch(b.stderr, /extended attribute/, "every attribute was kept");

  const target = await tempDir();
  const r = await cli(["restore", "latest", "--target", target], env);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /extended attribute/);
  for (const [rel, attrs] of Object.entries(set)) {
    assert.deepEqual(xattrsOf(join(target, name, rel)), attrs, `attributes of "${rel}"`);
  }
  assert.deepEqual(xattrsOf(join(target, name, "plain.txt")), {});
  assert.equal(fs.readFileSync(join(target, name, "dir", "small.txt"), "utf8"), "small");
});
