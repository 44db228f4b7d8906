/**
 * Batch restores against moto (test/rig/moto.ts): the manifest is written create-only in
 * STANDARD under the repository's prefix, CreateJob is asked for exactly that object, and the
 * thaw step leaves archived packs to a running job and requests them one by one once it ended.
 * moto has no S3 Control jobs (the first test shows it), so CreateJob and DescribeJob go to a
 * double, `batchJobsDouble`, at exactly that seam (`BatchJobs`); everything else is moto's.
 *
 * @module
 */

import assert from "node:assert/strict";
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { MOTO_KEYS, motoS3 } from "../../test/support/moto_s3.ts";
import { openStorage } from "../storage/open.ts";
import { parseS3Location } from "../storage/s3_location.ts";
import type { Storage } from "../storage/storage.ts";
import {
  type BatchJobs,
  batchRequester,
  type BatchRestoreRequest,
  type BatchStatus,
  type BatchTarget,
  startBatchRestore,
} from "./batch_restore.ts";
import { type PackState, surveyPacks } from "./pack_survey.ts";

const { moto, s3, newBucket } = await motoS3();
Deno.env.set("AWS_ACCESS_KEY_ID", MOTO_KEYS.accessKeyId);
Deno.env.set("AWS_SECRET_ACCESS_KEY", MOTO_KEYS.secretAccessKey);
const ROLE = "arn:aws:iam::123456789012:role/permafrost-batch-restore";
const PREFIX = "laptop";

/** The test double of S3 Control's two calls: records CreateJob, answers DescribeJob `status`. */
function batchJobsDouble(status: () => BatchStatus) {
  const created: BatchRestoreRequest[] = [];
  const described: string[] = [];
  const jobs: BatchJobs = {
    createJob: (request) => {
      created.push(request);
      return Promise.resolve(`job-${created.length}`);
    },
    describeJob: (_account, id) => {
      described.push(id);
      return Promise.resolve(status());
    },
  };
  return { jobs, created, described };
}

/** A bucket with `n` DEEP_ARCHIVE packs under `laptop/packs/`, and a reader's storage on it. */
async function archivedPacks(n: number) {
  const { bucket, location: s3Location } = await newBucket(PREFIX);
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = `packs/${String(i).padStart(2, "0").repeat(32)}`;
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: `${PREFIX}/${name}`,
        Body: new Uint8Array(100 + i),
        StorageClass: "DEEP_ARCHIVE",
      }),
    );
    names.push(name);
  }
  const location = `${s3Location}?endpoint=${moto.endpoint}&region=us-east-1`;
  const storage: Storage = await openStorage(location, "reader");
  const where = parseS3Location(location);
  const target: BatchTarget = {
    bucket,
    keyPrefix: where.keyPrefix,
    partition: where.partition,
    region: where.region,
    roleArn: ROLE,
  };
  return { bucket, names, storage, target, location };
}

const text = async (bucket: string, key: string) =>
  await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!
    .transformToString();

Deno.test("moto has no S3 Batch Operations jobs: CreateJob's and DescribeJob's routes answer errors", async () => {
  // moto/s3control/urls.py routes access points, storage lens and multi-region access points
  // only; a CreateJob or DescribeJob request falls through to the S3 handler.
  const headers = { "x-amz-account-id": "123456789012" };
  const create = await fetch(`${moto.endpoint}/v20180820/jobs`, {
    method: "POST",
    headers,
    body: "<CreateJobRequest/>",
  });
  await create.body?.cancel();
  assert.ok(!create.ok, `CreateJob answered ${create.status}`);
  const describe = await fetch(`${moto.endpoint}/v20180820/jobs/0123`, { headers });
  await describe.body?.cancel();
  assert.ok(!describe.ok, `DescribeJob answered ${describe.status}`);
});

Deno.test("a batch restore writes its manifest create-only in STANDARD under the prefix, and asks CreateJob for exactly that object; another batch under the same token is refused", async () => {
  const { bucket, names, storage, target } = await archivedPacks(3);
  try {
    const double = batchJobsDouble(() => ({ status: "Active" }));
    const record = await startBatchRestore(storage, double.jobs, target, names, {
      tier: "bulk",
      days: 5,
      token: "0123456789ab",
    });
    assert.deepEqual(record, {
      jobId: "job-1",
      account: "123456789012",
      region: "us-east-1",
      manifest: "restore-batches/0123456789ab.csv",
      objects: 3,
      roleArn: ROLE,
    });
    const key = `${PREFIX}/restore-batches/0123456789ab.csv`;
    assert.equal(
      await text(bucket, key),
      names.map((n) => `${bucket},${PREFIX}/${n}\n`).join(""),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    assert.equal(head.StorageClass ?? "STANDARD", "STANDARD");
    const [request] = double.created;
    assert.deepEqual(request.Manifest, {
      Spec: { Format: "S3BatchOperations_CSV_20180820", Fields: ["Bucket", "Key"] },
      Location: {
        ObjectArn: `arn:aws:s3:::${bucket}/${key}`,
        ETag: head.ETag!.replaceAll('"', ""),
      },
    });
    assert.deepEqual(request.Operation, {
      S3InitiateRestoreObject: { ExpirationInDays: 5, GlacierJobTier: "BULK" },
    });
    assert.equal(request.AccountId, "123456789012");
    assert.equal(request.RoleArn, ROLE);
    assert.equal(request.ClientRequestToken, "0123456789ab");
    assert.deepEqual(request.Report, { Enabled: false });

    // The same token for other packs: the manifest exists with other bytes, the write is
    // refused (create-only) and no job is created. (The same packs again write nothing new and
    // send the same ClientRequestToken, which S3 answers with the job it made.)
    await assert.rejects(() =>
      startBatchRestore(storage, double.jobs, target, names.slice(1), {
        tier: "bulk",
        days: 5,
        token: "0123456789ab",
      })
    );
    assert.equal(double.created.length, 1);
  } finally {
    await storage.close();
  }
});

Deno.test("while the batch job runs no pack is requested one by one; once it ended, a pack it left archived is", async () => {
  const { bucket, names, storage, target } = await archivedPacks(2);
  try {
    let status: BatchStatus = { status: "Active", total: 2, succeeded: 0, failed: 0 };
    const double = batchJobsDouble(() => status);
    const seen: string[] = [];
    const { request, record } = batchRequester(storage, double.jobs, {
      start: (todo) =>
        startBatchRestore(storage, double.jobs, target, todo, {
          tier: "standard",
          days: 1,
          token: "00000000abcd",
        }),
      onStatus: (_r, s) => seen.push(s.status),
    });
    const options = { tier: "standard" as const, days: 1 };
    const restoreHeader = async (name: string) =>
      (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `${PREFIX}/${name}` }))).Restore;

    assert.equal(await request(await surveyPacks(storage, names), options), 2);
    assert.equal(double.created.length, 1);
    assert.equal(record()?.jobId, "job-1");
    assert.equal(await restoreHeader(names[0]), undefined, "the job, not this machine, requests");

    assert.equal(await request(await surveyPacks(storage, names), options), 0);
    assert.deepEqual(seen, ["Active"]);
    assert.equal(await restoreHeader(names[1]), undefined);

    status = { status: "Complete", total: 2, succeeded: 1, failed: 1 };
    assert.equal(await request(await surveyPacks(storage, names), options), 2);
    assert.deepEqual(seen, ["Active", "Complete"]);
    assert.match(await restoreHeader(names[1]) ?? "", /ongoing-request/);
    assert.equal(double.created.length, 1, "no second job");
    assert.deepEqual(double.described, ["job-1", "job-1"]);
  } finally {
    await storage.close();
  }
});

/** Survey states of `names`, all archived in DEEP_ARCHIVE (no store asked). */
function archivedStates(names: string[]): PackState[] {
  return names.map((name) => ({
    name,
    bytes: 1,
    storageClass: "DEEP_ARCHIVE",
    availability: { state: "archived" },
  } as PackState));
}

/** A store that only records the restore requests it is sent. */
function requestLog() {
  const asked: { name: string; version?: string; tier: string }[] = [];
  const storage = {
    requestRestore: (name: string, o: { tier: string; version?: string }) => {
      asked.push({ name, tier: o.tier, ...(o.version ? { version: o.version } : {}) });
      return Promise.resolve();
    },
  } as unknown as Storage;
  return { storage, asked };
}

Deno.test("a batch restore lists only unversioned packs in its manifest; a mirrored object, versioned or not, is requested one by one", async () => {
  const { storage, asked } = requestLog();
  const double = batchJobsDouble(() => ({ status: "Active" }));
  const given: string[][] = [];
  const pack = `packs/${"ab".repeat(32)}`;
  const { request } = batchRequester(storage, double.jobs, {
    start: (names) => {
      given.push(names);
      return Promise.resolve({
        jobId: "job-1",
        account: "123456789012",
        region: "us-east-1",
        manifest: "restore-batches/0123456789ab.csv",
        objects: names.length,
        roleArn: ROLE,
      });
    },
  });
  const states = archivedStates([pack, "home/a b.txt\u0000v1", "home/c.txt"]);
  assert.equal(await request(states, { tier: "bulk", days: 1 }), 3);
  assert.deepEqual(given, [[pack]]);
  assert.deepEqual(asked, [
    { name: "home/a b.txt", version: "v1", tier: "bulk" },
    { name: "home/c.txt", tier: "bulk" },
  ]);
});

Deno.test("a tier upgrade while the batch job runs asks for every pack at the faster tier, archived ones too", async () => {
  const { storage, asked } = requestLog();
  const double = batchJobsDouble(() => ({ status: "Active" }));
  const names = [`packs/${"01".repeat(32)}`, `packs/${"02".repeat(32)}`];
  const existing = {
    jobId: "job-1",
    account: "123456789012",
    region: "us-east-1",
    manifest: "restore-batches/0123456789ab.csv",
    objects: 2,
    roleArn: ROLE,
  };
  const { request } = batchRequester(storage, double.jobs, { existing });
  const states = archivedStates(names);
  states[1] = { ...states[1], availability: { state: "restoring" } } as PackState;
  assert.equal(await request(states, { tier: "standard", days: 1, upgrade: true }), 2);
  assert.deepEqual(asked.map((a) => a.name).sort(), names);
});

Deno.test("a batch job S3 Control cannot describe stops the resume with a message that says how to go on without it", async () => {
  const { storage, asked } = requestLog();
  const jobs: BatchJobs = {
    createJob: () => Promise.reject(new Error("not called")),
    describeJob: () => Promise.reject(new Error("NotFoundException: job not found")),
  };
  const existing = {
    jobId: "job-9",
    account: "123456789012",
    region: "us-east-1",
    manifest: "restore-batches/0123456789ab.csv",
    objects: 1,
    roleArn: ROLE,
  };
  const { request } = batchRequester(storage, jobs, { existing });
  await assert.rejects(
    () => request(archivedStates([`packs/${"03".repeat(32)}`]), { tier: "bulk", days: 1 }),
    /job-9.*NotFoundException.*--no-batch/s,
  );
  assert.deepEqual(asked, []);
});
