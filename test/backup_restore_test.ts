import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { backup } from "../host/ops/backup.ts";
import { ls } from "../host/ops/ls.ts";
import { find } from "../host/ops/find.ts";
import { diff } from "../host/ops/diff.ts";
import {
  describeTree,
  fileCacheWillTrust,
  newRepo,
  randomBytes,
  reopen,
  restoreLatest,
  tempDir,
  writeSampleTree,
} from "./helpers.ts";

Deno.test("backup then restore reproduces the tree byte-exact, with modes, mtimes and links", async () => {
  const src = await tempDir();
  writeSampleTree(src);
  const { dir, repo, cacheDir } = await newRepo();
  const result = await backup(repo, { paths: [src], cacheDir });
  await repo.storage.close();
  assert.ok(result.id);
  assert.equal(result.skipped.length, 0);
  assert.ok(result.upload.packs >= 2, "small packs: several data packs and a metadata pack");

  const target = await tempDir();
  await restoreLatest(dir, target, "/");
  const name = src.split("/").pop()!;
  assert.deepEqual(describeTree(join(target, name)), describeTree(src));
  // hard links come back as links
  const a = fs.statSync(join(target, name, "docs/readme.md"));
  const b = fs.statSync(join(target, name, "hardlink.md"));
  assert.equal(a.ino, b.ino);
});

Deno.test("restore of one file or one subtree writes only that and reads only its packs", async () => {
  const src = await tempDir();
  writeSampleTree(src);
  const { dir, repo, cacheDir } = await newRepo();
  await backup(repo, { paths: [src], cacheDir });
  await repo.storage.close();
  const name = src.split("/").pop()!;

  const one = await tempDir();
  const { plan } = await restoreLatest(dir, one, `/${name}/docs/deep/nested/file.txt`);
  assert.deepEqual(fs.readdirSync(one), ["file.txt"]);
  assert.equal(fs.readFileSync(join(one, "file.txt"), "utf8"), "deep\n");
  assert.equal(plan.packs.length, 1);
  assert.ok(plan.readBytes < 64 << 10, `one small file reads one frame, not ${plan.readBytes}`);

  const sub = await tempDir();
  await restoreLatest(dir, sub, `/${name}/docs`);
  // readme.md's other name is outside the subtree, so here it is a plain file
  const expected = describeTree(join(src, "docs"));
  expected["readme.md"] = expected["readme.md"].replace(" link=readme.md", "");
  assert.deepEqual(describeTree(join(sub, "docs")), expected);
  assert.ok(!fs.existsSync(join(sub, "big")));
});

Deno.test("a second backup of an unchanged tree reads no file and stores no data", async () => {
  const src = await tempDir();
  writeSampleTree(src);
  const { dir, repo, cacheDir } = await newRepo();
  // Files changed just before a run are not trusted to the cache (racily clean; ctime is given
  // to the second): start once the cache will trust the tree's times.
  await fileCacheWillTrust(src);
  const first = await backup(repo, { paths: [src], cacheDir });
  const second = await backup(repo, { paths: [src], cacheDir });
  assert.equal(second.walk.readBytes, 0);
  assert.equal(second.walk.cachedFiles, first.walk.files);
  assert.equal(second.upload.newBlobs, 1, "only the new snapshot details blob");
  assert.equal(second.manifest.parent, first.id);

  // a changed file is read again, and only its new chunks are stored
  const big = (700 << 10) + 10_000;
  fs.appendFileSync(join(src, "big/random.bin"), randomBytes(10_000, 99));
  const third = await backup(repo, { paths: [src], cacheDir });
  assert.equal(third.walk.readBytes, big);
  assert.ok(third.upload.newBytes < 700 << 10, "unchanged chunks are not stored again");
  // It changed within the racy margin before the third run began, so the fourth reads it again:
  // a second change in the same timestamp tick would have left its stat as the cache has it.
  const fourth = await backup(repo, { paths: [src], cacheDir });
  assert.equal(fourth.walk.readBytes, big);
  assert.equal(fourth.upload.newBlobs, 1, "read again, and found stored");
  await repo.storage.close();

  const target = await tempDir();
  await restoreLatest(dir, target, "/");
  assert.deepEqual(describeTree(join(target, src.split("/").pop()!)), describeTree(src));
});

Deno.test("content stored by another client is not stored again", async () => {
  const src = await tempDir();
  writeSampleTree(src);
  const { dir, repo, cacheDir } = await newRepo();
  const first = await backup(repo, { paths: [src], cacheDir, host: "a" });
  await repo.storage.close();
  // another client: its own cache (empty), same repository
  const other = await reopen(dir);
  const copy = await tempDir();
  fs.cpSync(src, join(copy, src.split("/").pop()!), { recursive: true, verbatimSymlinks: true });
  const second = await backup(other, {
    paths: [join(copy, src.split("/").pop()!)],
    cacheDir: await tempDir(),
    host: "b",
  });
  await other.storage.close();
  assert.ok(second.walk.readBytes > 0, "a new client reads its files");
  const dataBlobsFirst = first.upload.newBlobs;
  assert.ok(second.upload.newBlobs < dataBlobsFirst, "its data is already there");
  assert.ok(second.upload.newBytes < 64 << 10, `only trees differ (${second.upload.newBytes})`);
});

Deno.test("excluded paths are not backed up", async () => {
  const src = await tempDir();
  writeSampleTree(src);
  const { repo, cacheDir } = await newRepo();
  const result = await backup(repo, { paths: [src], cacheDir, excludes: ["*.bin", "deep/"] });
  const entries = await ls(repo, result.manifest.root, "/");
  await repo.storage.close();
  const paths = entries.map((e) => e.path);
  assert.ok(paths.some((p) => p.endsWith("/docs/readme.md")));
  assert.ok(!paths.some((p) => p.endsWith(".bin")), "*.bin excluded at any depth");
  assert.ok(!paths.some((p) => p.includes("/deep")), "directory pattern excluded");
});

Deno.test("special files are skipped with a warning and recorded in the snapshot", async () => {
  const src = await tempDir();
  fs.writeFileSync(join(src, "ok.txt"), "ok");
  const fifo = new Deno.Command("mkfifo", { args: [join(src, "pipe")] }).outputSync();
  assert.equal(fifo.code, 0);
  const { repo, cacheDir } = await newRepo();
  const warnings: string[] = [];
  const result = await backup(repo, {
    paths: [src],
    cacheDir,
    onWarning: (path, reason) => warnings.push(`${path}: ${reason}`),
  });
  await repo.storage.close();
  assert.equal(result.skipped.length, 1);
  assert.match(result.skipped[0].reason, /fifo/);
  assert.equal(result.manifest.stats.skipped, 1);
  assert.equal(warnings.length, 1);
  assert.ok(result.id);
});

Deno.test("an unreadable file is a warning, and the backup goes on", {
  ignore: Deno.uid() === 0,
}, async () => {
  // Ignored as root, who can read any file; plugins/sdk/walker_test.ts covers the
  // same warning path as root with a file that vanishes between listing and reading.
  const src = await tempDir();
  fs.writeFileSync(join(src, "a.txt"), "a");
  fs.writeFileSync(join(src, "locked.txt"), "secret");
  fs.chmodSync(join(src, "locked.txt"), 0);
  const { repo, cacheDir } = await newRepo();
  const result = await backup(repo, { paths: [src], cacheDir });
  await repo.storage.close();
  assert.equal(result.skipped.length, 1);
  assert.match(result.skipped[0].path, /locked\.txt$/);
});

Deno.test("ls, find and diff read trees only and report what is there", async () => {
  const src = await tempDir();
  writeSampleTree(src);
  const { repo, cacheDir } = await newRepo();
  const result = await backup(repo, { paths: [src], cacheDir });
  const name = src.split("/").pop()!;

  const listed = await ls(repo, result.manifest.root, `/${name}/docs`);
  assert.deepEqual(
    listed.map((e) => e.path),
    [
      `/${name}/docs`,
      `/${name}/docs/deep`,
      `/${name}/docs/deep/nested`,
      `/${name}/docs/deep/nested/file.txt`,
      `/${name}/docs/readme.md`,
      `/${name}/docs/script.sh`,
      `/${name}/docs/secret.txt`,
    ],
  );
  const hits = await find(repo, ["*.md"]);
  assert.deepEqual(hits.map((h) => h.path).sort(), [
    `/${name}/docs/readme.md`,
    `/${name}/hardlink.md`,
  ]);
  assert.equal(hits[0].snapshot, result.id);
  assert.equal(hits[0].size, 1000);

  assert.deepEqual(await diff(repo, result.manifest, src), []);
  fs.writeFileSync(join(src, "new.txt"), "new");
  fs.rmSync(join(src, "empty"));
  fs.chmodSync(join(src, "hello.txt"), 0o600);
  // same size and mtime, different content: only --content sees it
  const st = fs.statSync(join(src, "docs/secret.txt"));
  fs.writeFileSync(join(src, "docs/secret.txt"), "PRIVATE\n");
  fs.utimesSync(join(src, "docs/secret.txt"), st.atime, st.mtime);
  const changes = await diff(repo, result.manifest, src);
  assert.deepEqual(
    changes.map((c) => `${c.change} ${c.path.slice(src.length)} ${c.what ?? ""}`).sort(),
    [
      "added /new.txt ",
      "modified /hello.txt mode",
      "removed /empty ",
    ],
  );
  const deep = await diff(repo, result.manifest, src, { content: true });
  assert.ok(deep.some((c) => c.path.endsWith("secret.txt") && c.what?.includes("content")));
  await repo.storage.close();
});
