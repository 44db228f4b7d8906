/**
 * `permafrost guard` end to end: the real CLI against a versioned moto bucket
 * (test/rig/moto.ts) where someone overwrote one key and deleted another directly, with the
 * test's own S3 client looking at the versions before and after.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { cli } from "./helpers.ts";
import { randomId } from "./storage_conformance.ts";
import { motoS3 } from "./support/moto_s3.ts";

const { s3, newBucket } = await motoS3();
const PREFIX = "laptop";

/** A new versioned bucket and the environment of a CLI run on its repository prefix. */
const versionedBucket = () => newBucket(PREFIX, { versioning: "Enabled" });

const put = (Bucket: string, Key: string, body: string) =>
  s3.send(new PutObjectCommand({ Bucket, Key, Body: new TextEncoder().encode(body) }));

async function body(Bucket: string, Key: string): Promise<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket, Key }));
  return await out.Body!.transformToString();
}

async function versionsOf(Bucket: string, Key: string): Promise<number> {
  const out = await s3.send(new ListObjectVersionsCommand({ Bucket, Prefix: Key }));
  return (out.Versions ?? []).length + (out.DeleteMarkers ?? []).length;
}

Deno.test("guard restores an overwritten and a deleted key to their oldest version and reports both; a second run finds nothing", async () => {
  const { bucket, env } = await versionedBucket();
  const overwritten = `${PREFIX}/index/${randomId()}`;
  const deleted = `${PREFIX}/snapshots/${randomId()}`;
  const untouched = `${PREFIX}/packs/${randomId()}`;
  await put(bucket, overwritten, "the segment the backup wrote");
  await put(bucket, deleted, "the snapshot the backup wrote");
  await put(bucket, untouched, "a pack");
  // What a client with write access but no create-only enforcement could do:
  await put(bucket, overwritten, "an attacker's segment");
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: deleted }));

  const dry = await cli(["guard", "--dry-run", "--json"], env);
  assert.equal(dry.code, 0, dry.stderr);
  const plan = JSON.parse(dry.stdout);
  assert.deepEqual(
    plan.changes.map((c: { key: string; kind: string }) => [c.key, c.kind]).sort(),
    [[deleted, "deleted"], [overwritten, "overwritten"]].sort(),
  );
  assert.equal(await body(bucket, overwritten), "an attacker's segment"); // dry run: unchanged

  const run = await cli(["guard"], env);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, new RegExp(`${overwritten}: overwritten; restored version`));
  assert.match(run.stdout, new RegExp(`${deleted}: deleted; restored version`));
  assert.equal(await body(bucket, overwritten), "the segment the backup wrote");
  assert.equal(await body(bucket, deleted), "the snapshot the backup wrote");
  assert.equal(await body(bucket, untouched), "a pack");
  for (const key of [overwritten, deleted, untouched]) {
    assert.equal(await versionsOf(bucket, key), 1, key);
  }

  const again = await cli(["guard", "--json"], env);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(JSON.parse(again.stdout).changes, []);
});

Deno.test("guard on a clean versioned bucket has nothing to do, and --estimate prices its listing", async () => {
  const { bucket, env } = await versionedBucket();
  await put(bucket, `${PREFIX}/config`, "config");
  await put(bucket, `${PREFIX}/packs/${randomId()}`, "a pack");
  const run = await cli(["guard"], env);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /listed 2 versions under s3:\/\/.*\/laptop\/ \(1 request\)/);
  assert.match(run.stdout, /nothing to undo: no key was overwritten or deleted/);

  const estimate = await cli(["guard", "--estimate", "--json"], env);
  assert.equal(estimate.code, 0, estimate.stderr);
  const e = JSON.parse(estimate.stdout).estimate;
  assert.equal(e.items[0].what, "ListObjectVersions requests");
  assert.equal(e.items[0].quantity, 0.001);
  assert.ok(e.total_usd > 0 && e.total_usd < 0.0001, String(e.total_usd));
});

Deno.test("guard leaves alone the versions a sync backup writes under mirror/, which its snapshots name by version id", async () => {
  const { bucket, env } = await versionedBucket();
  const mirrored = `${PREFIX}/mirror/docs/notes.txt`;
  const index = `${PREFIX}/index/${randomId()}`;
  await put(bucket, mirrored, "the file on Monday");
  await put(bucket, mirrored, "the file on Tuesday"); // sync: a changed file, a new version
  await put(bucket, index, "the segment the backup wrote");
  await put(bucket, index, "an attacker's segment");

  const run = await cli(["guard", "--json"], env);
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout);
  assert.deepEqual(report.changes.map((c: { key: string }) => c.key), [index]);
  assert.deepEqual(report.mirrorKeys, [mirrored]);
  assert.equal(await versionsOf(bucket, mirrored), 2);
  assert.equal(await body(bucket, mirrored), "the file on Tuesday");
  assert.equal(await body(bucket, index), "the segment the backup wrote");

  const text = await cli(["guard", "--dry-run"], env);
  assert.match(text.stdout, /left alone: 1 key under mirror\/ \(sync keeps its versions/);
});
