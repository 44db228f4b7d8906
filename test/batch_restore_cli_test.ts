/**
 * `restore` and S3 Batch Operations through the CLI, on moto (test/rig/moto.ts): the estimate
 * shows both ways above the threshold; `--batch` without a role is refused before anything is
 * requested; with one, the manifest is written under `restore-batches/` and the command stops at
 * CreateJob, which moto does not implement, with no pack requested and no job saved. The
 * CreateJob request itself and following a job are tested on a double of S3 Control
 * (host/cold/batch_restore_test.ts).
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { cli, randomBytes, tempDir } from "./helpers.ts";
import { motoS3 } from "./support/moto_s3.ts";

const { moto, s3, newBucket } = await motoS3();
const PREFIX = "laptop";
const ROLE = "arn:aws:iam::123456789012:role/permafrost-batch-restore";

async function setup() {
  const made = await newBucket(PREFIX);
  const { bucket } = made;
  const env = { ...made.env, PERMAFROST_S3_CONTROL_ENDPOINT: moto.endpoint };
  const init = await cli(["init", "--kdf-memlimit", "8MiB", "--pack-size", "1MiB"], env);
  assert.equal(init.code, 0, init.stderr);
  const src = await tempDir();
  for (let i = 0; i < 4; i++) fs.writeFileSync(join(src, `f${i}`), randomBytes(700_000, i + 1));
  const b = await cli(["backup", src], env);
  assert.equal(b.code, 0, b.stderr);
  return { bucket, env, state: env.PERMAFROST_STATE_DIR };
}

async function keysUnder(bucket: string, prefix: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key!);
}

async function restoring(bucket: string): Promise<number> {
  let n = 0;
  for (const key of await keysUnder(bucket, `${PREFIX}/packs/`)) {
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    if (head.Restore !== undefined) n++;
  }
  return n;
}

Deno.test("restore --estimate above the batch threshold prices per-object requests and one Batch Operations job, and chooses the cheaper", async () => {
  const { env } = await setup();
  const r = await cli(["restore", "latest", "--estimate", "--batch-threshold", "1", "--json"], env);
  assert.equal(r.code, 0, r.stderr);
  const m = JSON.parse(r.stdout).methods;
  assert.ok(m.objects >= 2, r.stdout);
  assert.equal(m.threshold, 1);
  assert.equal(m.chosen, "requests");
  assert.equal(m.why, "cheaper");
  const extra = m.batch.estimate.total_usd - m.requests.estimate.total_usd;
  assert.ok(Math.abs(extra - (0.25 + m.objects / 1e6 + 0.000005)) < 2e-6, String(extra));
  assert.equal(m.batch.hours.max, m.requests.estimate.hours.max + 1);

  const text = await cli(["restore", "latest", "--estimate", "--batch-threshold", "1"], env);
  assert.match(text.stdout, /one Batch Operations job/);
  const below = await cli(["restore", "latest", "--estimate"], env);
  assert.doesNotMatch(below.stdout, /Batch Operations/, "below the default threshold: one way");
});

Deno.test("restore --batch: refused without a role; with one it writes the manifest and stops at CreateJob, which moto lacks, requesting nothing", async () => {
  const { bucket, env, state } = await setup();
  const target = await tempDir();
  const noRole = await cli(["restore", "latest", "--target", target, "--batch", "--yes"], env);
  assert.equal(noRole.code, 2, noRole.stderr);
  assert.match(noRole.stderr, /--batch-role ARN/);
  assert.deepEqual(await keysUnder(bucket, `${PREFIX}/restore-batches/`), []);

  const r = await cli(
    ["restore", "latest", "--target", target, "--batch", "--batch-role", ROLE, "--yes"],
    env,
  );
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /S3 Batch Operations restore could not start .*no pack was requested/s);
  assert.doesNotMatch(r.stderr, /\n\s+at /, `no stack trace: ${r.stderr}`);
  const [manifest, ...more] = await keysUnder(bucket, `${PREFIX}/restore-batches/`);
  assert.deepEqual(more, []);
  assert.match(manifest, /^laptop\/restore-batches\/[0-9a-f]{12}\.csv$/);
  const body = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: manifest })))
    .Body!.transformToString();
  const packs = await keysUnder(bucket, `${PREFIX}/packs/`);
  const lines = body.trimEnd().split("\n");
  assert.ok(lines.length >= 2);
  for (const line of lines) {
    const [b, key] = line.split(",");
    assert.equal(b, bucket);
    assert.ok(packs.includes(key), key);
  }
  assert.equal(await restoring(bucket), 0, "no pack was requested one by one");
  assert.ok(
    !fs.existsSync(join(state, "restore-jobs")) ||
      fs.readdirSync(join(state, "restore-jobs")).length === 0,
  );
});
