/**
 * `permafrost gateway` end to end: moto (test/rig/moto.ts) holds the bucket, the gateway runs
 * as the real CLI in front of it with moto's keys, and clients reach it with a key from
 * `permafrost gateway key add`: the CLI backing up through it, and a raw S3 client
 * (@aws-sdk/client-s3, and the SDK's own signer for presigned URLs and hand-made requests)
 * trying everything an ingest client must not do.
 *
 * One moto and one bucket for the file; the raw client's tests share one gateway (random keys
 * under its prefix), the backup has a gateway of its own for its repository.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import http from "node:http";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { SignatureV4 } from "@smithy/signature-v4";
import { awsEnv, cli, tempDir, writeSampleTree } from "./helpers.ts";
import { randomId } from "./storage_conformance.ts";
import { MOTO_KEYS, motoS3 } from "./support/moto_s3.ts";

const { moto, s3: direct, newBucket, env: motoEnv } = await motoS3();
const PREFIX = "fleet";
const { bucket: BUCKET } = await newBucket(PREFIX);

/** The gateway's own environment: moto's keys, and a state folder for its keys. */
const gatewayEnv = await motoEnv();

const added = await cli(["gateway", "key", "add", "laptop", "--json"], gatewayEnv);
assert.equal(added.code, 0, added.stderr);
const gatewayKey = JSON.parse(added.stdout) as { id: string; secret: string };
const gatewayCreds = { accessKeyId: gatewayKey.id, secretAccessKey: gatewayKey.secret };

/** The gateway of the raw client's tests. */
const gateway = await startGateway(PREFIX);

/**
 * Starts `permafrost gateway` for the repository at `prefix` on port 0 and reads its address
 * from what it prints.
 */
async function startGateway(prefix: string): Promise<{ url: string; stderr: () => string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--quiet",
      new URL("../host/cli/main.ts", import.meta.url).pathname,
      "gateway",
      "--repo",
      `s3://${BUCKET}/${prefix}`,
      "--listen",
      "127.0.0.1:0",
    ],
    env: { NO_COLOR: "1", ...gatewayEnv },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  addEventListener("unload", () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  });
  let errors = "";
  child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (t) => void (errors += t) }),
  ).catch(() => {});
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/^clients: .*$/m.test(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  reader.releaseLock();
  // Let the test process end while the gateway runs; the unload handler kills it.
  child.unref();
  const url = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/m.exec(text)?.[1];
  assert.ok(url, `the gateway printed no address:\n${text}\n${errors}`);
  return { url, stderr: () => errors };
}

/** A raw S3 client of the gateway, with the gateway key (or other credentials). */
function viaGateway(credentials = gatewayCreds, extra: Record<string, unknown> = {}): S3Client {
  return new S3Client({
    region: "us-east-1",
    endpoint: gateway.url,
    forcePathStyle: true,
    credentials,
    maxAttempts: 1,
    requestChecksumCalculation: "WHEN_REQUIRED",
    ...extra,
  });
}

const id = () => randomId();
const text = (s: string) => new TextEncoder().encode(s);
const refused = (code: string) => (e: unknown) => (e as { name?: string }).name === code;
const status = (n: number) => (e: unknown) =>
  (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === n;

async function motoBody(key: string): Promise<string> {
  const out = await direct.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return await out.Body!.transformToString();
}

Deno.test("init (admin, direct), then backup and snapshots through the gateway with a gateway key and an ingest key file", async () => {
  const prefix = `laptop-${id().slice(0, 8)}`;
  const laptopGateway = await startGateway(prefix);
  const admin = await motoEnv(`s3://${BUCKET}/${prefix}`);
  const init = await cli(["init", "--kdf-memlimit", "8MiB", "--pack-size", "1MiB"], admin);
  assert.equal(init.code, 0, init.stderr);
  const keyFile = `${await tempDir()}/ingest.key`;
  const key = await cli(["key", "ingest", "--out", keyFile], admin);
  assert.equal(key.code, 0, key.stderr);

  const ingest = {
    ...await awsEnv(moto.endpoint),
    AWS_ACCESS_KEY_ID: gatewayKey.id,
    AWS_SECRET_ACCESS_KEY: gatewayKey.secret,
    PERMAFROST_REPO: `s3://${BUCKET}/${prefix}?endpoint=${laptopGateway.url}`,
    PERMAFROST_KEY_FILE: keyFile,
  };
  const src = await tempDir();
  writeSampleTree(src);
  const backup = await cli(["backup", src], ingest);
  assert.equal(backup.code, 0, backup.stderr);
  const again = await cli(["backup", src], ingest);
  assert.equal(again.code, 0, again.stderr);
  const snapshots = await cli(["snapshots", "--json"], ingest);
  assert.equal(snapshots.code, 0, snapshots.stderr);
  assert.equal(JSON.parse(snapshots.stdout).length, 2);

  // What the gateway wrote is in moto, packs in the cold class.
  const listed = await direct.send(
    new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${prefix}/packs/` }),
  );
  assert.ok((listed.Contents ?? []).length > 0);
  for (const o of listed.Contents ?? []) assert.equal(o.StorageClass, "DEEP_ARCHIVE", o.Key);

  // The passphrase, directly, reads back what went through the gateway.
  const check = await cli(["check"], admin);
  assert.equal(check.code, 0, check.stderr + check.stdout);
});

Deno.test("an overwrite through the gateway is refused even when the client sends no If-None-Match", async () => {
  const s3 = viaGateway();
  const key = `${PREFIX}/snapshots/${id()}`;
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: text("first") }));
  await assert.rejects(
    s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: text("second") })),
    refused("PreconditionFailed"),
  );
  assert.equal(await motoBody(key), "first");
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  assert.equal(await got.Body!.transformToString(), "first");
});

Deno.test("a multipart upload through the gateway creates a key once; completing a second one over it is refused; abort is allowed", async () => {
  const s3 = viaGateway();
  const key = `${PREFIX}/packs/${id()}`;
  const upload = async (body: string) => {
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, StorageClass: "DEEP_ARCHIVE" }),
    );
    const part = await s3.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId,
        PartNumber: 1,
        Body: text(body),
      }),
    );
    return { UploadId, parts: [{ PartNumber: 1, ETag: part.ETag }] };
  };
  const first = await upload("one part");
  await s3.send(
    new CompleteMultipartUploadCommand({
      Bucket: BUCKET,
      Key: key,
      UploadId: first.UploadId,
      MultipartUpload: { Parts: first.parts },
    }),
  );
  const second = await upload("another part");
  await assert.rejects(
    s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: key,
        UploadId: second.UploadId,
        MultipartUpload: { Parts: second.parts },
      }),
    ),
    refused("PreconditionFailed"),
  );
  await s3.send(
    new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId: second.UploadId }),
  );
  const head = await direct.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
  assert.equal(head.ContentLength, "one part".length);
});

Deno.test("the gateway refuses deletes, copies, bulk deletes, config and keys/ writes, pack reads, versions, and bucket-level calls", async () => {
  const s3 = viaGateway();
  const snapshot = `${PREFIX}/snapshots/${id()}`;
  const pack = `${PREFIX}/packs/${id()}`;
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: snapshot, Body: text("s") }));
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: pack, Body: text("p") }));
  const denied = refused("AccessDenied");
  await assert.rejects(s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: snapshot })), denied);
  await assert.rejects(
    s3.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: snapshot }] } })),
    denied,
  );
  await assert.rejects(
    s3.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: `${PREFIX}/snapshots/${id()}`,
        CopySource: `${BUCKET}/${snapshot}`,
      }),
    ),
    denied,
  );
  for (const name of ["config", `keys/${id()}`, "notes.txt"]) {
    await assert.rejects(
      s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}/${name}`, Body: text("x") })),
      denied,
      name,
    );
  }
  await assert.rejects(
    s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: `elsewhere/packs/${id()}`, Body: text("x") }),
    ),
    denied,
  );
  await assert.rejects(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: pack })), denied);
  await assert.rejects(
    s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}/meta/${id()}` })),
    denied,
  );
  await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: pack })), status(403));
  await assert.rejects(
    s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: snapshot, VersionId: "v1" })),
    denied,
  );
  await assert.rejects(
    s3.send(new ListObjectVersionsCommand({ Bucket: BUCKET, Prefix: `${PREFIX}/` })),
    denied,
  );
  await assert.rejects(s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: "" })), denied);
  await assert.rejects(
    s3.send(
      new PutBucketVersioningCommand({
        Bucket: BUCKET,
        VersioningConfiguration: { Status: "Suspended" },
      }),
    ),
    refused("NotImplemented"),
  );
  // Everything above left the bucket as it was.
  assert.equal(await motoBody(snapshot), "s");
  assert.equal(await motoBody(pack), "p");
  const listed = await s3.send(
    new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${PREFIX}/snapshots/` }),
  );
  assert.ok(listed.Contents?.some((o) => o.Key === snapshot));
  assert.match(gateway.stderr(), /refused: DELETE .*AccessDenied/);
});

Deno.test("the gateway refuses a wrong secret, an unknown key, a request signed 20 minutes ago, and an expired presigned URL", async () => {
  const key = `${PREFIX}/snapshots/${id()}`;
  await viaGateway().send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: text("s") }));
  const get = new GetObjectCommand({ Bucket: BUCKET, Key: key });
  await assert.rejects(
    viaGateway({ ...gatewayCreds, secretAccessKey: "not-the-secret" }).send(get),
    refused("SignatureDoesNotMatch"),
  );
  await assert.rejects(
    viaGateway({ accessKeyId: "PFGWNOSUCHKEY0000000", secretAccessKey: "x" }).send(get),
    refused("InvalidAccessKeyId"),
  );
  await assert.rejects(
    viaGateway(gatewayCreds, { systemClockOffset: -20 * 60 * 1000 }).send(get),
    refused("RequestTimeTooSkewed"),
  );
  // moto's own keys are not the gateway's.
  await assert.rejects(viaGateway(MOTO_KEYS).send(get), refused("InvalidAccessKeyId"));

  const fresh = await fetch(await presigned(key, new Date(), 60));
  assert.equal(fresh.status, 200);
  assert.equal(await fresh.text(), "s");
  const expired = await fetch(await presigned(key, new Date(Date.now() - 120_000), 60));
  assert.equal(expired.status, 403);
  assert.match(
    await expired.text(),
    /<Code>AccessDenied<\/Code><Message>the presigned URL expired/,
  );
});

Deno.test("an upload whose body is not the one it signed is refused, and nothing is stored", async () => {
  const key = `${PREFIX}/index/${id()}`;
  const response = await sendSigned("PUT", key, {
    signedBody: "the bytes the client signed",
    sentBody: "the bytes an attacker put!!",
  });
  assert.equal(response.status, 400, response.body);
  assert.match(response.body, /<Code>XAmzContentSHA256Mismatch<\/Code>/);
  await assert.rejects(
    direct.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })),
    status(404),
  );
  const honest = await sendSigned("PUT", key, { signedBody: "same", sentBody: "same" });
  assert.equal(honest.status, 200, honest.body);
  assert.equal(await motoBody(key), "same");
});

Deno.test("virtual-hosted addressing (bucket in the host name) reaches the same objects", async () => {
  const key = `${PREFIX}/snapshots/${id()}`;
  await viaGateway().send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: text("vh") }));
  const got = await sendSigned("GET", key, { virtualHost: true });
  assert.equal(got.status, 200, got.body);
  assert.equal(got.body, "vh");
});

Deno.test('a key with an encoded slash around ".." cannot reach keys/ or another prefix', async () => {
  const planted = id();
  for (
    const sneaky of [
      `mirror/..%2Fkeys%2F${planted}`,
      `mirror/x/..%2F..%2F..%2Fother%2Fkeys%2F${planted}`,
    ]
  ) {
    const put = await sendSigned("PUT", `${PREFIX}/${sneaky}`, {
      signedBody: "a planted key",
      sentBody: "a planted key",
    });
    assert.equal(put.status, 403, put.body);
    assert.match(put.body, /<Code>AccessDenied<\/Code>/);
  }
  for (const where of [`${PREFIX}/keys/${planted}`, `other/keys/${planted}`]) {
    await assert.rejects(
      direct.send(new HeadObjectCommand({ Bucket: BUCKET, Key: where })),
      status(404),
      where,
    );
  }
});

Deno.test("a query parameter sent twice is refused, so a PUT cannot pass as UploadPart without If-None-Match", async () => {
  const key = `${PREFIX}/snapshots/${id()}`;
  await viaGateway().send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: text("first") }));
  const twice = await sendSigned("PUT", key, {
    signedBody: "second",
    sentBody: "second",
    query: [["partNumber", "1"], ["partNumber", "1"]],
  });
  assert.equal(twice.status, 403, twice.body);
  assert.equal(await motoBody(key), "first");
  const listing = await sendSigned("GET", "", {
    query: [["list-type", "2"], ["prefix", `${PREFIX}/`], ["prefix", ""]],
  });
  assert.equal(listing.status, 403, listing.body);
});

/** The hash the SDK's signer takes (node:crypto). */
class Sha256 {
  #h: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#h = secret === undefined ? createHash("sha256") : createHmac(
      "sha256",
      typeof secret === "string"
        ? secret
        : ArrayBuffer.isView(secret)
        ? new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength)
        : new Uint8Array(secret),
    );
  }
  update(data: Uint8Array | string) {
    this.#h.update(data);
  }
  digest() {
    return Promise.resolve(new Uint8Array(this.#h.digest()));
  }
  reset() {}
}

const signer = new SignatureV4({
  service: "s3",
  region: "us-east-1",
  credentials: gatewayCreds,
  sha256: Sha256,
  uriEscapePath: false,
});
const gatewayHost = new URL(gateway.url).host;

/** A presigned GET of `key` through the gateway, made by the SDK's signer. */
async function presigned(key: string, signingDate: Date, expiresIn: number): Promise<string> {
  const req = await signer.presign({
    method: "GET",
    protocol: "http:",
    hostname: "127.0.0.1",
    port: Number(new URL(gateway.url).port),
    path: `/${BUCKET}/${key}`,
    query: {},
    // As @aws-sdk/s3-request-presigner does: S3 reads presigned bodies as unsigned.
    headers: { host: gatewayHost, "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
  }, { expiresIn, signingDate });
  const query = Object.entries(req.query as Record<string, string>)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
  return `${gateway.url}${req.path}?${query}`;
}

/**
 * A request signed by the SDK's signer and sent with node:http (which lets the test choose the
 * Host header and send other bytes than it signed).
 */
async function sendSigned(
  method: string,
  key: string,
  options: {
    signedBody?: string;
    sentBody?: string;
    virtualHost?: boolean;
    /** The query, each parameter as sent (a name twice is sent twice). */
    query?: [string, string][];
  },
): Promise<{ status: number; body: string }> {
  const host = options.virtualHost
    ? `${BUCKET}.gateway.test:${new URL(gateway.url).port}`
    : gatewayHost;
  const path = options.virtualHost ? `/${key}` : `/${BUCKET}/${key}`;
  const sent = options.sentBody ?? "";
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of options.query ?? []) {
    const had = query[k];
    query[k] = had === undefined ? v : [had, v].flat();
  }
  const search = (options.query ?? []).map(([k, v]) => v === "" ? k : `${k}=${v}`).join("&");
  const signed = await signer.sign({
    method,
    protocol: "http:",
    hostname: host,
    path,
    query,
    headers: {
      host,
      "x-amz-content-sha256": createHash("sha256").update(options.signedBody ?? "").digest("hex"),
      ...(method === "PUT" ? { "content-length": String(Buffer.byteLength(sent)) } : {}),
    },
  });
  return await new Promise((resolve, reject) => {
    const req = http.request({
      host: "127.0.0.1",
      port: Number(new URL(gateway.url).port),
      method,
      path: search === "" ? path : `${path}?${search}`,
      headers: signed.headers,
    }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => body += c);
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end(method === "PUT" ? sent : undefined);
  });
}
