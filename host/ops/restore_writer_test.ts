import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { RestoreWriter } from "./restore_writer.ts";
import type { EntryMetadata } from "./restore_fs.ts";

const enc = new TextEncoder();
const meta = (mode: number, ms: number): EntryMetadata => ({
  type: "file",
  mode,
  mtime: `${BigInt(ms) * 1_000_000n}`,
});

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "restore-writer-"));
}

Deno.test("RestoreWriter writes whole files and ranges in order, stamps each file as it completes, renames it into place and reports it and the bytes written", async () => {
  const dir = tempDir();
  const done: string[] = [];
  let written = 0;
  const writer = new RestoreWriter(false, (p) => done.push(p), {
    onWritten: (n) => written += n,
  });
  try {
    const frame = enc.encode("hello world!");
    const one = path.join(dir, "one"), tmp = path.join(dir, "tmp");
    const two = path.join(dir, "two"), twoTmp = path.join(dir, "two.partial");
    // pre-sized, as the restore does for multi-chunk files
    fs.writeFileSync(twoTmp, "............");
    fs.writeFileSync(path.join(dir, "old"), "replaced");
    writer.frame(frame);
    writer.whole(one, frame.subarray(0, 5), meta(0o640, 1_700_000_000_123));
    writer.range(twoTmp, 6, frame.subarray(6, 12));
    writer.range(twoTmp, 0, frame.subarray(0, 6), {
      meta: meta(0o604, 1_650_000_000_456),
      final: two,
    });
    writer.whole(tmp, frame.subarray(6), meta(0o600, 1_600_000_000_000), path.join(dir, "old"));
    await writer.room();
    assert.equal(frame.buffer.detached, false, "a small batch waits for more before it is sent");
    await writer.drain();
    assert.equal(frame.buffer.detached, true, "the frame's buffer was moved to the worker");

    assert.equal(fs.readFileSync(one, "utf8"), "hello");
    assert.equal(fs.statSync(one).mode & 0o7777, 0o640);
    assert.equal(fs.statSync(one).mtimeMs, 1_700_000_000_123);
    assert.equal(fs.readFileSync(two, "utf8"), "hello world!");
    assert.equal(fs.statSync(two).mode & 0o7777, 0o604, "stamped by its last range");
    assert.equal(fs.statSync(two).mtimeMs, 1_650_000_000_456);
    assert.equal(fs.existsSync(twoTmp), false);
    assert.equal(fs.readFileSync(path.join(dir, "old"), "utf8"), "world!");
    assert.equal(fs.existsSync(tmp), false);
    assert.deepEqual(done, [one, twoTmp, tmp]);
    assert.equal(written, 5 + 6 + 6 + 6);
  } finally {
    writer.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

Deno.test("RestoreWriter stops at the first failed write: it names the path, reports what it finished before, and writes nothing after", async () => {
  const dir = tempDir();
  const done: string[] = [];
  const writer = new RestoreWriter(false, (p) => done.push(p));
  try {
    const missing = path.join(dir, "no-such-dir", "file");
    const frame = new Uint8Array(2 << 20).fill(7); // over one batch: sent at the next room()
    writer.frame(frame);
    writer.whole(path.join(dir, "before"), frame.subarray(0, 10), meta(0o644, 0));
    writer.whole(missing, frame.subarray(0, 10), meta(0o644, 0));
    writer.whole(path.join(dir, "after"), frame.subarray(0, 10), meta(0o644, 0));
    await writer.room();
    const next = new Uint8Array(4);
    writer.frame(next);
    writer.whole(path.join(dir, "later"), next, meta(0o644, 0));
    await assert.rejects(writer.drain(), (err: Error) => err.message.includes(missing));
    assert.equal(fs.existsSync(path.join(dir, "before")), true);
    assert.equal(fs.existsSync(path.join(dir, "after")), false);
    assert.equal(fs.existsSync(path.join(dir, "later")), false);
    assert.deepEqual(
      done,
      [path.join(dir, "before")],
      "the file finished before the failure is reported, none after it",
    );
    await assert.rejects(writer.room());
  } finally {
    writer.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

Deno.test("RestoreWriter refuses data that is not a view of the current frame", () => {
  const dir = tempDir();
  const writer = new RestoreWriter(false, () => {});
  try {
    writer.frame(new Uint8Array(8));
    assert.throws(
      () => writer.whole(path.join(dir, "x"), new Uint8Array(8), meta(0o644, 0)),
      TypeError,
    );
  } finally {
    writer.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

Deno.test("RestoreWriter fails its calls, instead of waiting for ever, when its worker dies", async () => {
  const dir = tempDir();
  const broken = path.join(dir, "broken_worker.ts");
  fs.writeFileSync(broken, 'throw new Error("worker body failed to start");\n');
  const writer = new RestoreWriter(false, () => {}, {
    workerModule: new URL(`file://${broken}`),
  });
  try {
    const frame = new Uint8Array(8);
    writer.frame(frame);
    writer.whole(path.join(dir, "x"), frame, meta(0o644, 0));
    await assert.rejects(writer.drain(), /writer worker failed/);
    assert.equal(fs.existsSync(path.join(dir, "x")), false);
  } finally {
    writer.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

Deno.test("RestoreWriter names a file written under a temporary name by its final path when an attribute cannot be set", async () => {
  const dir = tempDir();
  const writer = new RestoreWriter(false, () => {});
  try {
    const tmp = path.join(dir, "a.permafrost-1234abcd"), final = path.join(dir, "a");
    const frame = enc.encode("content");
    writer.frame(frame);
    // "nonamespace.a" is in no namespace the kernel knows: it cannot be set anywhere.
    const attrs: EntryMetadata = { ...meta(0o644, 0), xattrs: [["nonamespace.a", "AA=="]] };
    writer.whole(tmp, frame, attrs, final);
    await writer.drain();
    assert.equal(fs.readFileSync(final, "utf8"), "content");
    assert.equal(writer.warnings.length, 1);
    assert.ok(
      writer.warnings[0].startsWith(`"${final}": cannot set extended attribute "nonamespace.a"`),
      writer.warnings[0],
    );
    assert.doesNotMatch(writer.warnings[0], /permafrost-1234abcd/, "not the temporary name");
  } finally {
    writer.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
