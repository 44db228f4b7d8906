/**
 * `permafrost rebuild` on S3 (moto, test/rig/moto.ts), end to end through the CLI: packs are
 * labelled in S3 user metadata, every hot object but `config` and `keys/*` is deleted, and the
 * rebuild restores only the metadata packs from DEEP_ARCHIVE (moto's restores finish at once)
 * and gives back the same snapshots, listings, retention dates and restored bytes. The set-up
 * follows test/s3_flow_test.ts.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { DeleteObjectCommand, HeadObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { layout } from "../host/repository/layout.ts";
import { cli, describeTree, randomBytes, tempDir } from "./helpers.ts";
import { motoS3 } from "./support/moto_s3.ts";

const { s3, newBucket } = await motoS3();
const PREFIX = "laptop/home";
const json = (s: string) => JSON.parse(s);

/** Every object name under the repository prefix (without the prefix). */
async function names(bucket: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${PREFIX}/` }));
  assert.ok(!out.IsTruncated);
  return (out.Contents ?? []).map((o) => o.Key!.slice(PREFIX.length + 1));
}

async function head(bucket: string, name: string) {
  return await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `${PREFIX}/${name}` }));
}

Deno.test("rebuild on S3: packs carry their labels; only the metadata packs are restored from DEEP_ARCHIVE; snapshots, ls and restores are the same", async () => {
  const { bucket, env } = await newBucket(PREFIX);
  const init = await cli(["init", "--kdf-memlimit", "8MiB", "--pack-size", "1MiB"], env);
  assert.equal(init.code, 0, init.stderr);
  const src = await tempDir();
  for (let i = 0; i < 4; i++) fs.writeFileSync(join(src, `f${i}`), randomBytes(600_000, 40 + i));
  assert.equal((await cli(["backup", src], env)).code, 0);
  fs.writeFileSync(join(src, "f1"), randomBytes(300_000, 77));
  assert.equal((await cli(["backup", src], env)).code, 0);
  const snapshots = (await cli(["snapshots", "--json"], env)).stdout;
  const ids = json(snapshots).map((s: { id: string }) => s.id);
  assert.equal(ids.length, 2);
  const ls = (await cli(["ls", "latest", "--json"], env)).stdout;

  const packs = (await names(bucket)).filter((n) => n.startsWith(layout.prefixes.pack));
  const labels = new Map<string, string | undefined>();
  for (const p of packs) labels.set(p, (await head(bucket, p)).Metadata?.label);
  const meta = packs.filter((p) => labels.get(p) === "meta");
  const data = packs.filter((p) => labels.get(p) === "data");
  assert.equal(meta.length + data.length, packs.length, "every pack is labelled in S3");
  assert.ok(meta.length >= 2 && data.length >= 2, `${meta.length} meta, ${data.length} data`);

  // Retention dates before the hot tier is lost: the store's times (S3: LastModified, to the
  // second) of the packs holding the snapshots' details, or of the manifests.
  const retention = async () => {
    const r = await cli(["forget", "--keep-daily", "7", "--dry-run", "--json"], env);
    assert.equal(r.code, 0, r.stderr);
    const plan = json(r.stdout);
    const dates = [...plan.keep, ...plan.forget].map((s: { id: string; time: string }) => [
      s.id,
      s.time,
    ]);
    return { dates, fallbacks: plan.fallbacks };
  };
  const dated = await retention();

  for (const n of await names(bucket)) {
    if (/^(index|snapshots|meta)\//.test(n)) {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${PREFIX}/${n}` }));
    }
  }
  assert.deepEqual(json((await cli(["snapshots", "--json"], env)).stdout), []);

  const first = await cli(["rebuild", "--json"], env);
  assert.equal(first.code, 4, first.stderr);
  assert.equal(json(first.stdout).requested, meta.length);
  const done = await cli(["rebuild", "--json"], env);
  assert.equal(done.code, 0, done.stderr);
  assert.equal(json(done.stdout).snapshots.written, 2);

  for (const p of packs) {
    const restore = (await head(bucket, p)).Restore;
    if (labels.get(p) === "meta") assert.ok(restore, `${p} was restored`);
    else assert.equal(restore, undefined, `data pack ${p} stays archived`);
  }
  assert.equal((await cli(["snapshots", "--json"], env)).stdout, snapshots);
  assert.equal((await cli(["ls", "latest", "--json"], env)).stdout, ls);
  const redated = await retention();
  assert.deepEqual(redated.dates, dated.dates, "forget dates the snapshots as before the rebuild");
  assert.deepEqual(redated.fallbacks, [], "each by a pack that holds its details, or its manifest");

  const target = await tempDir();
  const r = await cli(["restore", "latest", "--target", target, "--wait", "--poll", "1"], env);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(describeTree(join(target, src.split("/").pop()!)), describeTree(src));
});
