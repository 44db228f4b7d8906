/**
 * The directory cache (host/cache/file_cache.ts, `cache.dirs` in docs/plugins.md): a backup that
 * finds a directory listed exactly as before, with its subdirectories' trees unchanged, reuses
 * its tree; anything else that shapes a tree (filters, extended attributes, protection, a gc
 * that took what the tree names) makes it build the tree again.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { backup } from "../host/ops/backup.ts";
import { userXattrsAt, writeXattr } from "../host/fs/xattr.ts";
import {
  cli,
  describeTree,
  fileCacheWillTrust,
  newRepo,
  randomBytes,
  restoreLatest,
  tempDir,
  writeSampleTree,
} from "./helpers.ts";

/** A sample tree the file cache will trust, and a repository with a cache folder. */
async function setup() {
  const src = await tempDir();
  writeSampleTree(src);
  await fileCacheWillTrust(src);
  return { src, ...(await newRepo()) };
}

/** Restores the latest snapshot of `dir` and asserts it is `src`, byte for byte. */
async function restoresExactly(dir: string, src: string): Promise<void> {
  const target = await tempDir();
  await restoreLatest(dir, target, "/");
  assert.deepEqual(describeTree(join(target, src.split("/").pop()!)), describeTree(src));
}

Deno.test("a no-change backup offers no directory's tree again, and restores byte for byte", async () => {
  const { src, dir, repo, cacheDir } = await setup();
  const first = await backup(repo, { paths: [src], cacheDir });
  const second = await backup(repo, { paths: [src], cacheDir });
  assert.equal(second.manifest.root, first.manifest.root);
  // Only the root tree (and the details, which are new) is offered: every directory was reused.
  assert.equal(second.upload.knownBlobs, 1, "the root tree only");
  assert.equal(second.walk.files, first.walk.files);
  assert.equal(second.walk.dirs, first.walk.dirs);
  assert.equal(second.walk.cachedFiles, first.walk.files);
  assert.equal(second.walk.bytes, first.walk.bytes);

  // A change deep down: that directory and those above it are built again, the others reused.
  fs.appendFileSync(join(src, "docs/deep/nested/file.txt"), "more\n");
  fs.rmSync(join(src, "emptydir"), { recursive: true });
  fs.mkdirSync(join(src, "big/new"));
  const third = await backup(repo, { paths: [src], cacheDir });
  assert.notEqual(third.manifest.root, first.manifest.root);
  assert.equal(third.walk.readBytes, "deep\nmore\n".length);
  await repo.storage.close();
  await restoresExactly(dir, src);
});

Deno.test("a file rewritten right after a backup, same size and mtime, is read again (racily clean)", async () => {
  const src = await tempDir();
  writeSampleTree(src);
  const { dir, repo, cacheDir } = await newRepo();
  // No wait: every directory's times are too close to the run's start to be recorded.
  await backup(repo, { paths: [src], cacheDir });
  const file = join(src, "docs/deep/nested/file.txt");
  const { mtime } = fs.statSync(file);
  fs.writeFileSync(file, "DEEP\n"); // same size; ctime may stay in the same second
  fs.utimesSync(file, mtime, mtime);
  const second = await backup(repo, { paths: [src], cacheDir });
  await repo.storage.close();
  assert.equal(second.walk.readBytes, second.walk.bytes, "nothing was trusted to the cache");
  await restoresExactly(dir, src);
});

Deno.test("a change of filters alone changes the reused trees", async () => {
  const { src, dir, repo, cacheDir } = await setup();
  await backup(repo, { paths: [src], cacheDir });
  await backup(repo, { paths: [src], cacheDir, excludes: ["*.sh", "emptydir"] });
  const tagged = await backup(repo, {
    paths: [src],
    cacheDir,
    excludes: ["*.sh", "emptydir"],
    excludeLargerThan: 100_000,
  });
  await repo.storage.close();
  assert.equal(tagged.walk.files, 8, "big/*.bin and docs/script.sh left out");
  const target = await tempDir();
  await restoreLatest(dir, target, "/");
  const got = describeTree(join(target, src.split("/").pop()!));
  const want = describeTree(src);
  for (const gone of ["docs/script.sh", "emptydir", "big/random.bin", "big/repeat.bin"]) {
    assert.ok(gone in want && !(gone in got), `${gone} is left out`);
    delete want[gone];
  }
  assert.deepEqual(got, want);
});

Deno.test({
  name: "an extended attribute set since the last backup is in the next snapshot",
  ignore: !userXattrsAt(Deno.makeTempDirSync()),
}, async () => {
  const { src, dir, repo, cacheDir } = await setup();
  await backup(repo, { paths: [src], cacheDir });
  // Setting an attribute changes the file's ctime only: that is in the fingerprint.
  writeXattr(join(src, "docs/readme.md"), "user.note", new TextEncoder().encode("kept"));
  await fileCacheWillTrust(src);
  await backup(repo, { paths: [src], cacheDir });
  await repo.storage.close();
  const target = await tempDir();
  await restoreLatest(dir, target, "/");
  const readme = join(target, src.split("/").pop()!, "docs/readme.md");
  const { readXattrs } = await import("../host/fs/xattr.ts");
  const attrs = readXattrs(readme).attrs.map(([n, v]) => [n, new TextDecoder().decode(v)]);
  assert.deepEqual(attrs, [["user.note", "kept"]]);
});

Deno.test("with never-change protection every tree is inspected: nothing unchanged is reported vanished", async () => {
  const { src, repo, cacheDir } = await setup();
  const opts = { paths: [src], cacheDir, neverChange: ["docs/**"] };
  const first = await backup(repo, opts);
  assert.deepEqual(first.findings, []);
  const second = await backup(repo, opts);
  assert.deepEqual(second.findings, []);
  assert.equal(second.manifest.root, first.manifest.root);
  fs.rmSync(join(src, "docs/deep"), { recursive: true });
  const third = await backup(repo, opts);
  await repo.storage.close();
  assert.deepEqual(third.findings.map((f) => [f.kind, f.path]), [
    ["vanished", join(src, "docs/deep/nested/file.txt")],
  ]);
});

Deno.test("a directory whose packs are missing from the store at the start is not reused: its blobs are stored again", async () => {
  const { src, dir, repo, cacheDir } = await setup();
  await backup(repo, { paths: [src], cacheDir });
  // Packs gone while the index still names them (the reuse guard's trust check, dedup_trust.ts).
  const packs = fs.readdirSync(join(dir, "packs"), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile());
  assert.ok(packs.length > 0);
  for (const e of packs) fs.rmSync(join(e.parentPath, e.name));
  const warnings: string[] = [];
  const second = await backup(repo, {
    paths: [src],
    cacheDir,
    onWarning: (path, reason) => void warnings.push(`${path}: ${reason}`),
  });
  assert.ok(warnings.some((w) => /not in the store/.test(w)), warnings.join("\n"));
  assert.equal(second.upload.knownBlobs, 0, "nothing reused from the missing packs");
  await repo.storage.close();
  await restoresExactly(dir, src);
});

Deno.test("blobs a gc took since the last backup are stored again, not reused from the cache (CLI)", async () => {
  const src = await tempDir();
  writeSampleTree(src);
  const repoDir = join(await tempDir(), "repo");
  const env = { PERMAFROST_REPO: `local:${repoDir}`, PERMAFROST_CACHE_DIR: await tempDir() };
  const run = async (...args: string[]) => {
    const r = await cli(args, env);
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    return r;
  };
  await run("init", "--kdf-memlimit", "8MiB");
  await fileCacheWillTrust(src);
  await run("backup", src);
  // Forget it and collect: every pack it wrote is retired and deleted.
  await run("forget", "--keep-tag", "no-such-tag");
  await run("gc", "compact", "--all", "--yes");
  await run("gc", "purge", "--grace", "0", "--accept-early-fee", "--yes");
  const packs = fs.readdirSync(join(repoDir, "packs"), { recursive: true, withFileTypes: true });
  assert.equal(packs.filter((e) => e.isFile()).length, 0, "the gc took every pack");
  // The cache still names the collected trees and blobs: the backup must store them again.
  await run("backup", src);
  const checked = await run("check", "--read-data");
  assert.match(checked.stdout, /no problems|ok/i);
  const target = await tempDir();
  await run("restore", "latest", "--target", target);
  assert.deepEqual(describeTree(join(target, src.split("/").pop()!)), describeTree(src));
});

Deno.test("a file cut with other engine options is read again, and cut the new way", async () => {
  const src = await tempDir();
  fs.writeFileSync(join(src, "disk.img"), randomBytes(1 << 20, 3));
  await fileCacheWillTrust(src);
  const { dir, repo, cacheDir } = await newRepo();
  const run = (block: number) =>
    backup(repo, { paths: [src], cacheDir, engine: "vm-delta", engineOptions: { block } });
  const small = await run(64 << 10);
  const large = await run(256 << 10);
  assert.equal(large.walk.readBytes, 1 << 20, "the 64 KiB blocks are no answer for 256 KiB");
  const again = await run(256 << 10);
  assert.equal(again.walk.readBytes, 0, "rows written under the new options answer");
  assert.notEqual(large.manifest.root, small.manifest.root);
  assert.equal(again.manifest.root, large.manifest.root);
  await repo.storage.close();
  await restoresExactly(dir, src);
});
