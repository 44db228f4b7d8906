/**
 * How the `s3` storage plugin uploads (plugins/sdk/upload_plan.ts, docs/s3.md "Uploads"),
 * against moto (test/rig/moto.ts) through a proxy that names every request and can drop a
 * connection mid-upload (test/support/s3_proxy.ts): objects go up by the path the rule picks,
 * land byte for byte, stay create-only on both paths, and a dropped connection costs a PutObject
 * what it had sent and a part only its own bytes. And a backup's estimate counts exactly the
 * upload requests the real backup then makes.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import { join } from "node:path";
import {
  CreateBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { startPlugin } from "../host/plugin/sandbox.ts";
import { layout } from "../host/repository/layout.ts";
import { s3PluginDir } from "../host/storage/s3_location.ts";
import { ObjectExists } from "../plugins/sdk/errors.ts";
import { defaultUploadRule, type UploadRule } from "../plugins/sdk/upload_plan.ts";
import { expectedETag, unquote } from "../plugins/storage/s3/etag.ts";
import { awsEnv, cli, randomBytes, tempDir } from "./helpers.ts";
import { startMoto } from "./rig/moto.ts";
import { randomId } from "./storage_conformance.ts";
import { startS3Proxy } from "./support/s3_proxy.ts";

const moto = await startMoto();
const proxy = startS3Proxy(moto.endpoint);
addEventListener("unload", () => moto.kill());

const MiB = 2 ** 20;
const keys = { accessKeyId: "permafrost-test", secretAccessKey: "permafrost-test" };
/** The test's own client, straight to moto, to see what it holds. */
const s3 = new S3Client({
  region: "us-east-1",
  endpoint: moto.endpoint,
  forcePathStyle: true,
  credentials: keys,
});
/** A link that drops connections: each request carries at most 8 MiB (s3_config.ts). */
const flaky: UploadRule = { multipartThreshold: 16 * MiB, partSize: 8 * MiB };

async function freshBucket(): Promise<string> {
  const bucket = `pf-${randomId().slice(0, 20)}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

/** The s3 plugin on `bucket`, reaching moto through the proxy, with `upload` as its rule. */
function s3Plugin(bucket: string, upload?: UploadRule) {
  return startPlugin({
    kind: "storage",
    dir: s3PluginDir,
    vars: { $endpoint: [new URL(proxy.endpoint).host] },
    config: {
      bucket,
      keyPrefix: "",
      region: "us-east-1",
      endpoint: proxy.endpoint,
      pathStyle: true,
      ...(upload ?? {}),
    },
    capabilities: { credentials: { get: () => keys } },
  });
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** The operations of the requests `fn` makes through the proxy. */
async function requestsOf(fn: () => Promise<unknown>): Promise<string[]> {
  const from = proxy.requests.length;
  await fn();
  return proxy.requests.slice(from).map((r) => r.operation);
}

/** What uploading one object of `size` bytes by `plan` looks like on the wire. */
function expectedRequests(size: number, rule: UploadRule): string[] {
  const parts = size > rule.multipartThreshold ? Math.ceil(size / rule.partSize) : 0;
  return parts === 0
    ? ["PutObject"]
    : ["CreateMultipartUpload", ...Array(parts).fill("UploadPart"), "CompleteMultipartUpload"];
}

for (const [what, rule] of [["default", defaultUploadRule], ["flaky-link", flaky]] as const) {
  Deno.test(`s3 (${what} rule): a 20 MiB and a 70 MiB object land byte-exact by the path the rule picks; a second create of the key is refused`, async () => {
    const bucket = await freshBucket();
    const h = await s3Plugin(bucket, rule === defaultUploadRule ? undefined : rule);
    try {
      for (const size of [20 * MiB, 70 * MiB]) {
        const name = layout.pack(randomId());
        const data = randomBytes(size, size);
        const sent = await requestsOf(() =>
          h.call("create", name, data.slice(), { storageClass: "STANDARD" })
        );
        assert.deepEqual(sent, expectedRequests(size, rule), `${size} bytes`);
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: name }));
        assert.equal(unquote(head.ETag), expectedETag(data, rule));
        assert.equal(/-\d+$/.test(unquote(head.ETag)!), sent.length > 1, "ETag of parts");
        assert.equal(sha256(await h.call<Uint8Array>("read", name)), sha256(data));

        // The same bytes again: resolves (a retried create). Other bytes: S3 refuses the
        // write (412 on PutObject or on CompleteMultipartUpload) and the object stays.
        await h.call("create", name, data.slice(), { storageClass: "STANDARD" });
        const other = data.slice();
        other[size >> 1] ^= 1;
        const refused = await requestsOf(() =>
          assert.rejects(
            h.call("create", name, other, { storageClass: "STANDARD" }),
            ObjectExists,
          )
        );
        assert.deepEqual(
          refused.slice(0, sent.length),
          sent,
          "the refused create went up by the same path",
        );
        const after = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: name }));
        assert.equal(after.ETag, head.ETag, "the object holds the first bytes still");
      }
      const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      assert.deepEqual(uploads.Uploads ?? [], [], "refused uploads are aborted");
    } finally {
      await h.close();
    }
  });
}

Deno.test("s3: a connection dropped mid-upload costs a PutObject the bytes it had sent, and a part only its own", async () => {
  const bucket = await freshBucket();
  const size = 20 * MiB;
  const cut = 10 * MiB;
  const heads = 64 << 10; // request heads and the requests besides the upload, at most
  const cases: [UploadRule, number][] = [
    [defaultUploadRule, size + cut],
    [flaky, size + flaky.partSize],
  ];
  for (const [rule, most] of cases) {
    const h = await s3Plugin(bucket, rule === defaultUploadRule ? undefined : rule);
    try {
      const name = layout.pack(randomId());
      const data = randomBytes(size, 7);
      const cuts = proxy.cuts();
      const from = proxy.sentBytes();
      proxy.cutAfter(cut);
      await h.call("create", name, data.slice(), { storageClass: "STANDARD" });
      const sent = proxy.sentBytes() - from;
      assert.equal(proxy.cuts(), cuts + 1, "the connection was dropped");
      assert.ok(sent > size && sent <= most + heads, `${sent} bytes sent for ${size}`);
      if (rule === defaultUploadRule) assert.ok(sent >= size + cut, `${sent}: all it had sent`);
      assert.equal(sha256(await h.call<Uint8Array>("read", name)), sha256(data));
    } finally {
      await h.close();
    }
  }
});

Deno.test("backup --estimate counts exactly the upload requests the backup then makes, parts and PutObjects", async () => {
  const bucket = await freshBucket();
  const env = {
    ...await awsEnv(proxy.endpoint),
    AWS_ACCESS_KEY_ID: keys.accessKeyId,
    AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
    PERMAFROST_REPO: `s3://${bucket}/laptop`,
  };
  // Packs of 100 MiB: the first data pack is over the 96 MiB threshold (2 parts), the rest of
  // the file goes into a small one (a PutObject), and so does everything else.
  const init = await cli(["init", "--kdf-memlimit", "8MiB", "--pack-size", "100MiB"], env);
  assert.equal(init.code, 0, init.stderr);
  const src = await tempDir();
  fs.writeFileSync(join(src, "big"), randomBytes(110 * MiB, 3));

  const estimate = await cli(["backup", "--estimate", "--json", src], env);
  assert.equal(estimate.code, 0, estimate.stderr);
  const plan = JSON.parse(estimate.stdout).plan;
  const items: { what: string; quantity: number; unit: string }[] =
    JSON.parse(estimate.stdout).items;

  const uploads = new Set([
    "PutObject",
    "CreateMultipartUpload",
    "UploadPart",
    "CompleteMultipartUpload",
  ]);
  const made = await requestsOf(async () => {
    const b = await cli(["backup", src], env);
    assert.equal(b.code, 0, b.stderr);
  });
  const uploadRequests = made.filter((op) => uploads.has(op));
  const count = (op: string) => uploadRequests.filter((o) => o === op).length;
  assert.equal(count("CreateMultipartUpload"), 1, made.join(" "));
  assert.equal(count("UploadPart"), 2);
  assert.equal(plan.put_requests, uploadRequests.length);
  // The lines price the same requests: the parts and their create at STANDARD rates, the
  // completion and every PutObject at their object's class.
  const thousands = items
    .filter((i) => i.unit === "1,000 requests")
    .reduce((n, i) => n + i.quantity, 0);
  assert.ok(Math.abs(thousands * 1000 - uploadRequests.length) < 1e-6, `${thousands}`);
  const parts = items.find((i) => /multipart create \+ 2 parts each/.test(i.what));
  assert.equal(parts?.quantity, 3 / 1000);
});
