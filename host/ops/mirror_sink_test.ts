import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import {
  MIRROR_MAX_BYTES,
  MIRROR_PIECE_BYTES,
  MIRROR_WHOLE_BYTES,
  MirrorSink,
} from "./mirror_sink.ts";
import { ForwardingStorage } from "../storage/forwarding.ts";
import { openStorage } from "../storage/open.ts";

Deno.test("mirror.put refuses a path outside the sources, one that is not its rel, and one reached through a symlinked folder", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir());
  const src = join(dir, "src");
  fs.mkdirSync(src);
  fs.mkdirSync(join(dir, "secret"));
  fs.writeFileSync(join(dir, "secret", "key"), "do not upload");
  fs.symlinkSync(join(dir, "secret"), join(src, "link"));
  fs.writeFileSync(join(src, "a.txt"), "a");
  const storage = await openStorage(join(dir, "repo"), "admin", { create: true });
  try {
    const sink = new MirrorSink(storage, [src]);
    await sink.open(undefined);
    const mtime = (p: string) => fs.lstatSync(p, { bigint: true }).mtimeNs.toString();
    const key = join(dir, "secret", "key");
    await assert.rejects(sink.put(key, "key", 13, mtime(key), "STANDARD"), TypeError);
    await assert.rejects(
      sink.put(join(src, "a.txt"), "b.txt", 1, mtime(join(src, "a.txt")), "STANDARD"),
      TypeError,
    );
    await assert.rejects(
      sink.put(join(src, "link", "key"), "link/key", 13, mtime(key), "STANDARD"),
      /through a symlink/,
    );
    const done = await sink.put(
      join(src, "a.txt"),
      "a.txt",
      1,
      mtime(join(src, "a.txt")),
      "STANDARD",
    );
    assert.ok("ref" in done && done.ref.key === "mirror/src/a.txt");
    assert.deepEqual((await storage.list("mirror/")).map((o) => o.name), ["mirror/src/a.txt"]);
  } finally {
    await storage.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/** A local store that takes objects in pieces, held in memory until finished; counts them. */
class PiecesStorage extends ForwardingStorage {
  uploads = new Map<string, { name: string; parts: Uint8Array[] }>();
  aborted = 0;
  largestPiece = 0;
  onPiece: () => void = () => {};
  override get properties() {
    return { coldStates: false, pieces: true };
  }
  override startUpload(name: string): Promise<string> {
    const id = crypto.randomUUID();
    this.uploads.set(id, { name, parts: [] });
    return Promise.resolve(id);
  }
  override writeUpload(id: string, data: Uint8Array): Promise<void> {
    this.uploads.get(id)!.parts.push(data);
    this.largestPiece = Math.max(this.largestPiece, data.byteLength);
    this.onPiece();
    return Promise.resolve();
  }
  override async finishUpload(id: string): Promise<{ version?: string }> {
    const u = this.uploads.get(id)!;
    this.uploads.delete(id);
    const whole = new Uint8Array(u.parts.reduce((n, p) => n + p.byteLength, 0));
    u.parts.reduce((at, p) => (whole.set(p, at), at + p.byteLength), 0);
    await this.inner.create(u.name, whole);
    return {};
  }
  override abortUpload(id: string): Promise<void> {
    if (this.uploads.delete(id)) this.aborted++;
    return Promise.resolve();
  }
}

Deno.test("mirror.put sends a file larger than it reads whole in pieces, and a file that changes during the upload is skipped with nothing stored", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir());
  const src = join(dir, "src");
  fs.mkdirSync(src);
  const big = join(src, "big.bin");
  const bytes = new Uint8Array(MIRROR_WHOLE_BYTES + 1000).fill(7);
  fs.writeFileSync(big, bytes);
  const local = await openStorage(join(dir, "repo"), "admin", { create: true });
  const storage = new PiecesStorage(local);
  try {
    const sink = new MirrorSink(storage, [src]);
    await sink.open(undefined);
    const mtime = () => fs.lstatSync(big, { bigint: true }).mtimeNs.toString();
    const done = await sink.put(big, "big.bin", bytes.length, mtime(), "STANDARD");
    assert.ok("ref" in done && done.ref.key === "mirror/src/big.bin");
    assert.deepEqual(await local.read("mirror/src/big.bin"), bytes);
    assert.equal(storage.largestPiece, MIRROR_PIECE_BYTES);

    // Changed (same size, same mtime put back) while its second read is being uploaded.
    const other = join(src, "other.bin");
    fs.writeFileSync(other, bytes);
    const listed = fs.lstatSync(other, { bigint: true });
    let pieces = 0;
    storage.onPiece = () => {
      // The hashing read hands out no pieces: the first one seen is the upload's.
      if (++pieces !== 1) return;
      const fd = fs.openSync(other, "r+");
      fs.writeSync(fd, new Uint8Array([8]), 0, 1, bytes.length - 1);
      fs.closeSync(fd);
      fs.utimesSync(other, listed.atime, listed.mtime);
    };
    const skipped = await sink.put(
      other,
      "other.bin",
      bytes.length,
      listed.mtimeNs.toString(),
      "STANDARD",
    );
    assert.ok("skipped" in skipped && /changed while it was being read/.test(skipped.skipped));
    assert.equal(storage.aborted, 1);
    assert.equal(await local.stat("mirror/src/other.bin"), null);
    assert.equal((await local.list("mirror/src/.versions/")).length, 0);
  } finally {
    await storage.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("mirror.put skips a file over 1 GiB on a store that takes objects only whole, naming the limit, without reading it", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir());
  const src = join(dir, "src");
  fs.mkdirSync(src);
  const big = join(src, "sparse.img");
  fs.closeSync(fs.openSync(big, "w"));
  fs.truncateSync(big, MIRROR_MAX_BYTES + 1); // sparse: no disk, no reading
  // A SQLite file takes objects only whole (a local folder takes them in pieces).
  const storage = await openStorage(`sqlite:${join(dir, "repo.db")}`, "admin", { create: true });
  try {
    const sink = new MirrorSink(storage, [src]);
    await sink.open(undefined);
    const mtime = fs.lstatSync(big, { bigint: true }).mtimeNs.toString();
    const out = await sink.put(big, "sparse.img", MIRROR_MAX_BYTES + 1, mtime, "STANDARD");
    assert.ok("skipped" in out);
    assert.match(out.skipped, /up to 1 GiB/);
    assert.deepEqual(await storage.list("mirror/"), []);
  } finally {
    await storage.close();
    await Deno.remove(dir, { recursive: true });
  }
});
