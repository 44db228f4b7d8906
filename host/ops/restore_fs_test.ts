import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { applyMetadata, dataRuns, HOLE_BLOCK, writeSparse } from "./restore_fs.ts";
import { readXattrs, userXattrsAt } from "../fs/xattr.ts";

const B = HOLE_BLOCK;

Deno.test("dataRuns() skips whole blocks of zeros, counted from the file's offsets", () => {
  const data = new Uint8Array(4 * B);
  data[10] = 1; // block 0 has data
  data[3 * B + 5] = 1; // block 3 has data; blocks 1 and 2 are zeros
  assert.deepEqual(dataRuns(data, 0), [[0, B], [3 * B, 4 * B]]);
  // At offset 100 of the file, blocks start 100 bytes early: the partial ends are written.
  assert.deepEqual(dataRuns(data, 100), [[0, B - 100], [3 * B - 100, 4 * B]]);
  assert.deepEqual(dataRuns(new Uint8Array(3 * B), 0), [], "all zeros: nothing is written");
  assert.deepEqual(dataRuns(new Uint8Array(B - 1), 0), [[0, B - 1]], "no whole block");
  assert.deepEqual(dataRuns(new Uint8Array(0), 0), []);
});

Deno.test("dataRuns() finds a single non-zero byte anywhere in a block, at any alignment", () => {
  const backing = new Uint8Array(3 * B + 8);
  for (const shift of [0, 1, 2, 3]) {
    const data = backing.subarray(shift, shift + 2 * B); // views not on a word boundary
    for (const at of [0, 1, 2, 3, 4, B / 2, B - 4, B - 1]) {
      data.fill(0);
      data[B + at] = 9;
      assert.deepEqual(dataRuns(data, 0), [[B, 2 * B]], `byte ${at} of block 1, shift ${shift}`);
    }
  }
});

Deno.test("dataRuns() takes a blob of 0 to 3 bytes at the very end of its frame's buffer", () => {
  // Two one-byte files in one frame: the second blob is the frame's last byte, at an offset
  // that is not a word boundary (a restore of such a directory stopped with a RangeError).
  for (const frameLength of [13, 14, 15, 16, 17]) {
    const frame = new Uint8Array(frameLength).fill(5);
    for (let start = frameLength - 3; start <= frameLength; start++) {
      const blob = frame.subarray(start);
      const want = blob.length === 0 ? [] : [[0, blob.length]];
      assert.deepEqual(dataRuns(blob, 0), want, `bytes ${start}.. of ${frameLength}`);
    }
  }
});

Deno.test("writeSparse() into a new file leaves holes that read as zeros", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "restore-fs-"));
  try {
    const file = path.join(dir, "f");
    const data = new Uint8Array(256 * B);
    data.fill(7, 0, 100);
    data.fill(8, data.length - 100);
    const fd = fs.openSync(file, "wx");
    assert.equal(writeSparse(fd, data, 0), data.length);
    fs.closeSync(fd);
    assert.deepEqual(new Uint8Array(fs.readFileSync(file)), data);
    assert.ok(Deno.statSync(file).blocks! * 512 < 16 * B, "the zeros in between are a hole");

    // Ending in zeros: the write stops early, and the caller sets the length.
    const tail = new Uint8Array(8 * B).fill(1, 0, 10);
    const fd2 = fs.openSync(path.join(dir, "g"), "wx");
    assert.equal(writeSparse(fd2, tail, 0), B);
    fs.closeSync(fd2);
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
});

Deno.test({
  name: "applyMetadata() sets extended attributes, and returns those it cannot set without failing",
  // Linux only (host/fs/xattr.ts), where the temporary folder takes user.* attributes.
  ignore: !userXattrsAt(os.tmpdir()),
  fn() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "restore-fs-"));
    try {
      const file = path.join(dir, "f");
      fs.writeFileSync(file, "x", { mode: 0o600 });
      const failed = applyMetadata(file, {
        type: "file",
        mode: 0o444, // read-only: the attributes are set before the mode
        mtime: "1700000000000000000",
        // "nonamespace.a" is in no namespace the kernel knows: it cannot be set anywhere.
        xattrs: [["nonamespace.a", "AA=="], ["user.a", "aGk="]],
      }, false);
      assert.equal(failed.length, 1);
      assert.match(failed[0], /"nonamespace\.a": Operation not supported/);
      const attrs = readXattrs(file).attrs.map(([n, v]) => [n, new TextDecoder().decode(v)]);
      assert.deepEqual(attrs, [["user.a", "hi"]]);
      assert.equal(fs.statSync(file).mode & 0o777, 0o444);
      assert.equal(fs.statSync(file).mtimeMs, 1_700_000_000_000);
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  },
});
