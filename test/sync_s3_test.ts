/**
 * The `sync` engine on S3, end to end: the real CLI against moto (test/rig/moto.ts), as
 * test/worm_s3_test.ts runs it. On a versioned bucket a changed file is a new version of the
 * same key and each snapshot restores the version it names; a bucket whose versioning is
 * suspended is refused for `versioned = true` before anything is uploaded.
 *
 * One moto for the file, a fresh bucket per test.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import { join } from "node:path";
import {
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
} from "@aws-sdk/client-s3";
import { cli, randomBytes, tempDir } from "./helpers.ts";
import { RESTORE_MODEL } from "./rig/moto.ts";
import { motoS3 } from "./support/moto_s3.ts";

const { moto, s3, newBucket } = await motoS3();
const PREFIX = "www";

/** A new bucket (versioning `status`, if given) holding a repository, and a source folder. */
async function setup(versioning?: "Enabled" | "Suspended") {
  const { bucket, env } = await newBucket(PREFIX, { versioning });
  const init = await cli(["init", "--kdf-memlimit", "8MiB", "--pack-size", "1MiB"], env);
  assert.equal(init.code, 0, init.stderr);
  const src = join(await tempDir(), "site");
  fs.mkdirSync(join(src, "img"), { recursive: true });
  fs.writeFileSync(join(src, "index.html"), "<h1>first</h1>");
  fs.writeFileSync(join(src, "img", "logo.png"), randomBytes(300_000, 5));
  return { bucket, env, src };
}

async function body(bucket: string, key: string, version?: string): Promise<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: version }));
  return await out.Body!.transformToString();
}

Deno.test("sync on a versioned bucket writes a changed file as a second version of its key, and each snapshot restores the version it names", async () => {
  const { bucket, env, src } = await setup("Enabled");
  const first = await cli(["backup", "--engine", "sync", src, "--json"], env);
  assert.equal(first.code, 0, first.stderr);
  const key = `${PREFIX}/mirror/site/index.html`;
  // Readable without Permafrost: a plain object.
  assert.equal(await body(bucket, key), "<h1>first</h1>");

  fs.writeFileSync(join(src, "index.html"), "<h1>second, longer</h1>");
  const second = await cli(["backup", "--engine", "sync", src, "--json"], env);
  assert.equal(second.code, 0, second.stderr);

  const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
  const versions = (listed.Versions ?? []).filter((v) => v.Key === key);
  assert.equal(versions.length, 2);
  assert.equal((listed.DeleteMarkers ?? []).length, 0);
  assert.equal(await body(bucket, key), "<h1>second, longer</h1>");
  const bodies = await Promise.all(versions.map((v) => body(bucket, key, v.VersionId)));
  assert.deepEqual(bodies.sort(), ["<h1>first</h1>", "<h1>second, longer</h1>"]);

  const runs: [typeof first, string][] = [[first, "<h1>first</h1>"], [
    second,
    "<h1>second, longer</h1>",
  ]];
  for (const [run, expected] of runs) {
    const target = await tempDir();
    const id = JSON.parse(run.stdout).snapshot;
    const out = await cli(["restore", id, "--target", target], env);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(fs.readFileSync(join(target, "site", "index.html"), "utf8"), expected);
    assert.deepEqual(
      fs.readFileSync(join(target, "site", "img", "logo.png")),
      Buffer.from(randomBytes(300_000, 5)),
    );
  }
  // Every object version a snapshot names is there, at its size (packs are archived: no
  // --read-data here).
  const check = await cli(["check"], env);
  assert.equal(check.code, 0, check.stdout + check.stderr);
});

Deno.test("sync with versioned = true refuses a bucket whose versioning is suspended, naming the fix, before anything is uploaded", async () => {
  const { bucket, env, src } = await setup("Suspended");
  const config = join(await tempDir(), "permafrost.toml");
  fs.writeFileSync(
    config,
    `[[source]]\nname = "site"\npaths = ["${src}"]\nengine = "sync"\n\n` +
      `[source.engine_config]\nversioned = true\n`,
  );
  const out = await cli(["backup", "--config", config], env);
  assert.notEqual(out.code, 0);
  assert.match(out.stderr, /versioning suspended/);
  assert.match(out.stderr, /put-bucket-versioning/);
  const listed = await s3.send(
    new ListObjectVersionsCommand({ Bucket: bucket, Prefix: `${PREFIX}/mirror/` }),
  );
  assert.equal((listed.Versions ?? []).length, 0);
});

Deno.test("sync on a versioned bucket puts a file over its rule's size in DEEP_ARCHIVE, and a restore prices, thaws that version and restores it byte for byte", async () => {
  await moto.setTransition(RESTORE_MODEL, null); // "immediate": restored at the next request
  const { bucket, env, src } = await setup("Enabled");
  const config = join(await tempDir(), "permafrost.toml");
  fs.writeFileSync(
    config,
    `[[source]]\nname = "site"\npaths = ["${src}"]\nengine = "sync"\n\n` +
      `[[source.engine_config.storage_class]]\nlarger_than = "100 KiB"\nclass = "DEEP_ARCHIVE"\n`,
  );
  const backed = await cli(["backup", "--config", config], env);
  assert.equal(backed.code, 0, backed.stderr);
  const key = `${PREFIX}/mirror/site/img/logo.png`;
  const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }));
  assert.deepEqual(listed.Versions?.map((v) => v.StorageClass), ["DEEP_ARCHIVE"]);

  const target = await tempDir();
  const estimate = await cli(["restore", "latest", "--target", target, "--estimate"], env);
  assert.equal(estimate.code, 0, estimate.stderr);
  assert.match(estimate.stdout, /restore requests, DEEP_ARCHIVE/);
  const first = await cli(["restore", "latest", "--target", target, "--json", "--yes"], env);
  assert.equal(first.code, 4, first.stdout + first.stderr);
  const { job } = JSON.parse(first.stdout);
  const done = await cli(["restore", "--resume", job], env);
  assert.equal(done.code, 0, done.stderr);
  assert.deepEqual(
    fs.readFileSync(join(target, "site", "img", "logo.png")),
    Buffer.from(randomBytes(300_000, 5)),
  );
  assert.equal(fs.readFileSync(join(target, "site", "index.html"), "utf8"), "<h1>first</h1>");
});

Deno.test("sync streams a file larger than it reads whole: a multipart upload on a versioned bucket, a second version when it changes, each snapshot restoring its bytes exactly", async () => {
  const { bucket, env, src } = await setup("Enabled");
  const big = join(src, "video.bin");
  const MiB = 2 ** 20;
  const first = randomBytes(22 * MiB + 123, 7);
  fs.writeFileSync(big, first);
  // Parts of 5 MiB: the 22 MiB file goes up in 5 parts.
  const small = { ...env, PERMAFROST_S3_PART_SIZE: String(5 * MiB) };
  const one = await cli(["backup", "--engine", "sync", src, "--json"], small);
  assert.equal(one.code, 0, one.stderr);
  const key = `${PREFIX}/mirror/site/video.bin`;
  const listed = async () =>
    ((await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key }))).Versions ??
      []).filter((v) => v.Key === key);
  const v1 = await listed();
  assert.equal(v1.length, 1);
  assert.match(v1[0].ETag ?? "", /-5"?$/, "a multipart upload's ETag ends in its part count");

  const second = first.slice();
  second.set(randomBytes(1000, 8), 11 * MiB);
  fs.writeFileSync(big, second);
  const two = await cli(["backup", "--engine", "sync", src, "--json"], small);
  assert.equal(two.code, 0, two.stderr);
  assert.equal((await listed()).length, 2);

  for (const [run, bytes] of [[one, first], [two, second]] as const) {
    const target = await tempDir();
    const out = await cli(["restore", JSON.parse(run.stdout).snapshot, "--target", target], env);
    assert.equal(out.code, 0, out.stderr);
    assert.ok(Buffer.from(bytes).equals(fs.readFileSync(join(target, "site", "video.bin"))));
  }
});

Deno.test("sync streams a large file create-only on an unversioned bucket: the changed file goes to its content-addressed key in parts, and a rerun uploads nothing new", async () => {
  const { bucket, env, src } = await setup();
  const big = join(src, "video.bin");
  const MiB = 2 ** 20;
  fs.writeFileSync(big, randomBytes(18 * MiB, 9));
  const small = { ...env, PERMAFROST_S3_PART_SIZE: String(5 * MiB) };
  const one = await cli(["backup", "--engine", "sync", src], small);
  assert.equal(one.code, 0, one.stderr);
  const changed = randomBytes(18 * MiB, 10);
  fs.writeFileSync(big, changed);
  const two = await cli(["backup", "--engine", "sync", src, "--json"], small);
  assert.equal(two.code, 0, two.stderr);
  const keys = async () =>
    ((await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: `${PREFIX}/mirror/` })))
      .Versions ?? []).map((v) => `${v.Key} ${v.ETag}`).filter((k) => !k.includes("/.permafrost/"))
      .sort();
  const after = await keys();
  const sha = createHash("sha256").update(changed).digest("hex");
  // Both in 4 parts of 5 MiB (the ETag ends in the part count), each under its own key.
  assert.deepEqual(after.filter((k) => /-4"$/.test(k)).map((k) => k.split(" ")[0]), [
    `${PREFIX}/mirror/site/.versions/${sha}`,
    `${PREFIX}/mirror/site/video.bin`,
  ]);
  // Run again after the cache is gone: the objects are found, nothing is uploaded twice.
  const fresh = { ...small, PERMAFROST_CACHE_DIR: await tempDir() };
  const three = await cli(["backup", "--engine", "sync", src], fresh);
  assert.equal(three.code, 0, three.stderr);
  assert.deepEqual(await keys(), after);
  const target = await tempDir();
  const out = await cli(["restore", JSON.parse(two.stdout).snapshot, "--target", target], env);
  assert.equal(out.code, 0, out.stderr);
  assert.ok(Buffer.from(changed).equals(fs.readFileSync(join(target, "site", "video.bin"))));
});

Deno.test("a snapshot synced before the bucket's versioning was enabled restores its files byte for byte from their null versions after a later sync wrote new versions", async () => {
  const { bucket, env, src } = await setup();
  const first = await cli(["backup", "--engine", "sync", src, "--json"], env);
  assert.equal(first.code, 0, first.stderr);
  await s3.send(
    new PutBucketVersioningCommand({
      Bucket: bucket,
      VersioningConfiguration: { Status: "Enabled" },
    }),
  );
  fs.writeFileSync(join(src, "index.html"), "<h1>second, longer</h1>");
  const second = await cli(["backup", "--engine", "sync", src, "--json"], env);
  assert.equal(second.code, 0, second.stderr);
  const key = `${PREFIX}/mirror/site/index.html`;
  assert.equal(await body(bucket, key), "<h1>second, longer</h1>");
  assert.equal(await body(bucket, key, "null"), "<h1>first</h1>");

  const target = await tempDir();
  const out = await cli(["restore", JSON.parse(first.stdout).snapshot, "--target", target], env);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(fs.readFileSync(join(target, "site", "index.html"), "utf8"), "<h1>first</h1>");
  assert.deepEqual(
    fs.readFileSync(join(target, "site", "img", "logo.png")),
    Buffer.from(randomBytes(300_000, 5)),
  );
  const check = await cli(["check"], env);
  assert.equal(check.code, 0, check.stdout + check.stderr);
});

Deno.test("sync with encrypt = true on a versioned bucket streams a large file sealed in parts: no object holds a file's bytes or name, a restore is byte for byte, and a rerun uploads nothing", async () => {
  const { bucket, env, src } = await setup("Enabled");
  const marker = "permafrost-sealed-s3-marker-91c2";
  fs.writeFileSync(join(src, "notes.txt"), marker.repeat(100));
  // Over the 16 MiB read whole: sealed frame by frame into a multipart upload.
  const big = new Uint8Array(17 * 2 ** 20 + 5).fill(0x41);
  new TextEncoder().encodeInto(marker, big.subarray(9 * 2 ** 20));
  fs.writeFileSync(join(src, "big.bin"), big);
  const config = join(await tempDir(), "permafrost.toml");
  fs.writeFileSync(
    config,
    `[[source]]\nname = "site"\npaths = ["${src}"]\nengine = "sync"\n\n` +
      `[source.engine_config]\nencrypt = true\n`,
  );
  const first = await cli(["backup", "--config", config, "--json"], env);
  assert.equal(first.code, 0, first.stderr);
  const { snapshot } = JSON.parse(first.stdout).sources[0];

  const listed = await s3.send(
    new ListObjectVersionsCommand({ Bucket: bucket, Prefix: `${PREFIX}/mirror/` }),
  );
  const keys = (listed.Versions ?? []).map((v) => v.Key!);
  assert.equal(keys.length, 4);
  for (const key of keys) {
    assert.match(key, /^www\/mirror\/site\/\.sealed\/[0-9a-f]{64}$/);
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const bytes = Buffer.from(await out.Body!.transformToByteArray());
    assert.equal(bytes.indexOf(marker), -1, key);
    assert.equal(bytes.indexOf("<h1>first</h1>"), -1, key);
  }

  const target = await tempDir();
  const restored = await cli(["restore", snapshot, "--target", target], env);
  assert.equal(restored.code, 0, restored.stderr);
  const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
  assert.equal(sha(fs.readFileSync(join(target, "site", "big.bin"))), sha(big));
  assert.equal(fs.readFileSync(join(target, "site", "notes.txt"), "utf8"), marker.repeat(100));

  const again = await cli(["backup", "--config", config, "--json"], env);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).sources[0].mirror.uploaded, 0);
  const check = await cli(["check"], env);
  assert.equal(check.code, 0, check.stdout + check.stderr);
});
