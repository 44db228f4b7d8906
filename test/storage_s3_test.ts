/**
 * The `s3` storage back end against a real moto server (test/rig/moto.ts): the shared
 * conformance suite with its cold group, then what only S3 has: the class moto reports,
 * holding a restore in progress, the sandbox's one endpoint, retries. How objects go up (one
 * PutObject or parts) and stay create-only on both paths: test/s3_uploads_test.ts.
 *
 * The host resolves credentials from the environment (the standard AWS chain): this file sets
 * dummy keys, which moto accepts, and turns the instance metadata lookup off, so the chain
 * never leaves the machine. They are harmless to other test files sharing the process.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { layout } from "../host/repository/layout.ts";
import { startPlugin } from "../host/plugin/sandbox.ts";
import { openStorage } from "../host/storage/open.ts";
import { s3PluginDir } from "../host/storage/s3_location.ts";
import type { Storage } from "../host/storage/storage.ts";
import { NeedsRestore, TransientError } from "../plugins/sdk/errors.ts";
import { defaultUploadRule } from "../plugins/sdk/upload_plan.ts";
import { expectedETag, unquote } from "../plugins/storage/s3/etag.ts";
import { RESTORE_MODEL, startMoto } from "./rig/moto.ts";
import { randomBytes, randomId, storageConformance } from "./storage_conformance.ts";

Deno.env.set("AWS_ACCESS_KEY_ID", "permafrost-test");
Deno.env.set("AWS_SECRET_ACCESS_KEY", "permafrost-test");
Deno.env.set("AWS_EC2_METADATA_DISABLED", "true");
Deno.env.delete("AWS_PROFILE");

const moto = await startMoto();
addEventListener("unload", () => moto.kill());

/** The test's own client, outside the sandbox, to see what moto holds. */
const s3 = new S3Client({
  region: "us-east-1",
  endpoint: moto.endpoint,
  forcePathStyle: true,
  credentials: { accessKeyId: "permafrost-test", secretAccessKey: "permafrost-test" },
});

const PREFIX = "laptop/home";

/** A new bucket, and the location of a repository in it. */
async function freshBucket(): Promise<{ bucket: string; location: string }> {
  const bucket = `pf-${randomId().slice(0, 20)}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return { bucket, location: `s3://${bucket}/${PREFIX}?endpoint=${moto.endpoint}` };
}

storageConformance(
  "s3 (moto)",
  async () => {
    const { bucket, location } = await freshBucket();
    const storage = await openStorage(location, "admin", { create: true });
    return {
      storage,
      reopen: () => openStorage(location, "admin"),
      cleanup: async () => {},
      interruptWrite: (size) => startUpload(bucket, layout.pack(randomId()), size),
      enableVersions: async () => {
        await s3.send(
          new PutBucketVersioningCommand({
            Bucket: bucket,
            VersioningConfiguration: { Status: "Enabled" },
          }),
        );
      },
    };
  },
  // moto checks If-None-Match, then writes: not atomic (test/rig/moto.ts). Real S3 is.
  {
    cold: { restoreDelaySeconds: 0 },
    racyCreateOnly: true,
    labels: "all",
    strays: true,
    fixedStrayTime: true,
    versions: true,
  },
);

/** What a create killed during a multipart upload leaves: the upload, with one part. */
async function startUpload(bucket: string, name: string, size: number): Promise<void> {
  const Key = `${PREFIX}/${name}`;
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key }));
  await s3.send(
    new UploadPartCommand({
      Bucket: bucket,
      Key,
      UploadId,
      PartNumber: 1,
      Body: randomBytes(size),
    }),
  );
}

/** Runs `fn` on a fresh repository (admin role) in a fresh bucket. */
async function withRepo(
  fn: (s: Storage, bucket: string) => Promise<void>,
): Promise<void> {
  const { bucket, location } = await freshBucket();
  const s = await openStorage(location, "admin", { create: true });
  try {
    await fn(s, bucket);
  } finally {
    await s.close();
  }
}

Deno.test("s3: a DEEP_ARCHIVE create is stored under the prefix in DEEP_ARCHIVE, as moto reports it", async () => {
  await withRepo(async (s, bucket) => {
    const n = layout.pack(randomId());
    const data = randomBytes(1000);
    await s.create(n, data.slice(), { storageClass: "DEEP_ARCHIVE" });
    const key = `${PREFIX}/${n}`;
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    assert.equal(head.StorageClass, "DEEP_ARCHIVE");
    assert.match(head.Metadata?.sha256 ?? "", /^[0-9a-f]{64}$/);
    assert.equal(unquote(head.ETag), expectedETag(data, defaultUploadRule));
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    assert.deepEqual(listed.Contents?.map((o) => [o.Key, o.StorageClass]), [[key, "DEEP_ARCHIVE"]]);
    await assert.rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })), {
      name: "InvalidObjectState",
    });
    await assert.rejects(s.read(n), (e: Error) => {
      assert.ok(e instanceof NeedsRestore, `${e}`);
      assert.match(e.message, new RegExp(`"${n}" is archived \\(DEEP_ARCHIVE\\)`));
      return true;
    });
  });
});

Deno.test("s3: a restore held in progress by moto's state manager reads as restoring, then restored", async () => {
  await withRepo(async (s) => {
    const n = layout.pack(randomId());
    const data = randomBytes(50_000);
    await s.create(n, data.slice(), { storageClass: "DEEP_ARCHIVE" });
    // Each request on the key is one tick: the first HEAD after RestoreObject starts it.
    await moto.setTransition(RESTORE_MODEL, { progression: "manual", times: 1 });
    try {
      assert.deepEqual((await s.stat(n))?.availability, { state: "archived" });
      await s.requestRestore(n, { tier: "standard", days: 3 });
      assert.deepEqual((await s.stat(n))?.availability, { state: "restoring" });
      await moto.setTransition(RESTORE_MODEL, { progression: "manual", times: 1_000_000 });
      assert.deepEqual((await s.stat(n))?.availability, { state: "restoring" });
      await assert.rejects(s.read(n, { offset: 0, length: 10 }), NeedsRestore);
      await s.requestRestore(n, { tier: "bulk", days: 3 }); // while in progress: resolves
      assert.deepEqual((await s.stat(n))?.availability, { state: "restoring" });
      await moto.setTransition(RESTORE_MODEL, null); // back to "immediate": done
      const stat = await s.stat(n);
      assert.equal(stat?.availability.state, "restored");
      const until = stat?.availability.state === "restored"
        ? Date.parse(stat.availability.until)
        : 0;
      const days = (until - Date.now()) / 86_400_000;
      assert.ok(days > 2.9 && days <= 3, `restored for ${days} days, not 3`);
      assert.deepEqual(await s.read(n), data);
      assert.deepEqual(await s.read(n, { offset: 49_000, length: 1000 }), data.subarray(49_000));
    } finally {
      await moto.setTransition(RESTORE_MODEL, null);
    }
  });
});

Deno.test("s3: openStorage() with create names a bucket that does not exist", async () => {
  const location = `s3://pf-no-such-bucket-${randomId().slice(0, 8)}?endpoint=${moto.endpoint}`;
  await assert.rejects(
    openStorage(location, "admin", { create: true }),
    (e: Error) => e instanceof Deno.errors.NotFound && /bucket "pf-no-such-bucket-/.test(e.message),
  );
});

/** Starts the s3 plugin directly, allowed to reach `allowed`, configured to talk to `endpoint`. */
function startS3Plugin(bucket: string, allowed: string, endpoint: string, retry?: object) {
  return startPlugin({
    kind: "storage",
    dir: s3PluginDir,
    vars: { $endpoint: [allowed] },
    config: {
      bucket,
      keyPrefix: "",
      region: "us-east-1",
      endpoint,
      pathStyle: true,
      ...(retry ? { retry } : {}),
    },
    capabilities: {
      credentials: { get: () => ({ accessKeyId: "permafrost-test", secretAccessKey: "x" }) },
    },
  });
}

Deno.test("the s3 storage worker may reach only its endpoint, and has no AWS keys in its env", async () => {
  const { bucket } = await freshBucket();
  const motoHost = new URL(moto.endpoint).host;
  const other = Deno.listen({ hostname: "127.0.0.1", port: 0 }); // would accept, if allowed
  const otherHost = `127.0.0.1:${other.addr.port}`;
  const h = await startS3Plugin(bucket, motoHost, `http://${otherHost}`);
  try {
    assert.deepEqual(h.permissions.net, [motoHost]);
    assert.equal(h.permissions.read, false);
    assert.equal(h.permissions.write, false);
    assert.equal(h.permissions.run, false);
    const env = h.permissions.env as string[];
    for (const secret of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]) {
      assert.ok(!env.includes(secret), `the worker may read ${secret}`);
    }
    assert.deepEqual(h.capabilities, ["credentials"]);
    await assert.rejects(h.call("list", ""), Deno.errors.NotCapable);
    await assert.rejects(h.call("stat", "config"), Deno.errors.NotCapable);
  } finally {
    await h.close();
    other.close();
  }
  const ok = await startS3Plugin(bucket, motoHost, moto.endpoint);
  try {
    assert.deepEqual(await ok.call("list", ""), []);
  } finally {
    await ok.close();
  }
});

Deno.test("s3: an endpoint that refuses connections ends in TransientError once the retries are used up", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const host = `127.0.0.1:${closed.addr.port}`;
  closed.close();
  const h = await startS3Plugin("pf-unreachable", host, `http://${host}`, {
    attempts: 3,
    baseMs: 1,
    maxMs: 5,
  });
  try {
    await assert.rejects(h.call("stat", "config"), (e: Error) => {
      assert.ok(e instanceof TransientError, `${e}`);
      assert.match(e.message, /HEAD of object "config" failed 3 times \(last: .*ECONNREFUSED/);
      return true;
    });
  } finally {
    await h.close();
  }
});
