import assert from "node:assert/strict";
import { createHash, createHmac, type Hash, type Hmac } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import { checkedBody } from "./body_check.ts";
import {
  EMPTY_SHA256,
  SignatureError,
  signRequest,
  STREAMING_PAYLOAD,
  verifySignature,
} from "./sigv4.ts";

/**
 * The examples of the AWS documentation (S3 API reference, "Signature Calculations for the
 * Authorization Header: Transferring Payload in a Single Chunk", "... in Multiple Chunks
 * (Chunked Upload)", and "Authenticating Requests: Using Query Parameters"): bucket
 * `examplebucket`, us-east-1, 2013-05-24.
 */
const EXAMPLE = {
  id: "AKIAIOSFODNN7EXAMPLE",
  secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  now: new Date("2013-05-24T00:00:00Z"),
  scope: "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request",
};
const secretOf = (id: string) => id === EXAMPLE.id ? EXAMPLE.secret : undefined;

function example(
  method: string,
  url: string,
  headers: Record<string, string>,
  signature: string,
) {
  const signed = Object.keys(headers).map((h) => h.toLowerCase()).sort().join(";");
  return {
    method,
    url,
    headers: new Headers({
      ...headers,
      authorization: `AWS4-HMAC-SHA256 Credential=${EXAMPLE.scope},SignedHeaders=${signed},` +
        `Signature=${signature}`,
    }),
  };
}

const virtualHost = { host: "examplebucket.s3.amazonaws.com", "x-amz-date": "20130524T000000Z" };

Deno.test("verifySignature accepts the AWS documentation's GET Object example", async () => {
  const req = example("GET", "/test.txt", {
    ...virtualHost,
    range: "bytes=0-9",
    "x-amz-content-sha256": EMPTY_SHA256,
  }, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  const v = await verifySignature(req, secretOf, EXAMPLE.now);
  assert.equal(v.accessKeyId, EXAMPLE.id);
  assert.deepEqual(v.payload, { kind: "sha256", hex: EMPTY_SHA256 });
});

Deno.test("verifySignature accepts the AWS documentation's PUT Object example and reports the signed body hash", async () => {
  const hex = createHash("sha256").update("Welcome to Amazon S3.").digest("hex");
  const req = example("PUT", "/test%24file.text", {
    ...virtualHost,
    date: "Fri, 24 May 2013 00:00:00 GMT",
    "x-amz-storage-class": "REDUCED_REDUNDANCY",
    "x-amz-content-sha256": hex,
  }, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
  const v = await verifySignature(req, secretOf, EXAMPLE.now);
  assert.deepEqual(v.payload, { kind: "sha256", hex });
});

Deno.test("verifySignature accepts the AWS documentation's GET Bucket lifecycle and list examples (query canonicalisation)", async () => {
  const headers = { ...virtualHost, "x-amz-content-sha256": EMPTY_SHA256 };
  await verifySignature(
    example(
      "GET",
      "/?lifecycle",
      headers,
      "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
    ),
    secretOf,
    EXAMPLE.now,
  );
  await verifySignature(
    example(
      "GET",
      "/?max-keys=2&prefix=J",
      headers,
      "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
    ),
    secretOf,
    EXAMPLE.now,
  );
});

Deno.test("verifySignature accepts the AWS documentation's presigned URL example until it expires", async () => {
  const url = "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256" +
    "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request" +
    "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host" +
    "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
  const req = { method: "GET", url, headers: new Headers({ host: virtualHost.host }) };
  const v = await verifySignature(req, secretOf, new Date("2013-05-24T23:59:59Z"));
  assert.deepEqual(v.payload, { kind: "unsigned" });
  await assert.rejects(
    verifySignature(req, secretOf, new Date("2013-05-25T00:00:01Z")),
    (e) => e instanceof SignatureError && e.code === "AccessDenied" && /expired/.test(e.message),
  );
});

Deno.test("checkedBody decodes the AWS documentation's chunked upload example, verifying each chunk signature", async () => {
  const req = example("PUT", "/examplebucket/chunkObject.txt", {
    host: "s3.amazonaws.com",
    "x-amz-date": "20130524T000000Z",
    "x-amz-storage-class": "REDUCED_REDUNDANCY",
    "x-amz-content-sha256": STREAMING_PAYLOAD,
    "content-encoding": "aws-chunked",
    "x-amz-decoded-content-length": "66560",
    "content-length": "66824",
  }, "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9");
  const v = await verifySignature(req, secretOf, EXAMPLE.now);
  assert.equal(v.payload.kind, "streaming");
  const chunk = (size: number, sig: string) => [
    new TextEncoder().encode(`${size.toString(16)};chunk-signature=${sig}\r\n`),
    new Uint8Array(size).fill(0x61),
    new TextEncoder().encode("\r\n"),
  ];
  const wire = [
    ...chunk(65536, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"),
    ...chunk(1024, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"),
    ...chunk(0, "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"),
  ];
  const body = await new Response(checkedBody(new Blob(wire).stream(), v.payload, 66560)).bytes();
  assert.equal(body.byteLength, 66560);
  assert.ok(body.every((b) => b === 0x61));

  // The same body with one byte changed in the second chunk: the decoder refuses it.
  wire[4] = new Uint8Array(1024).fill(0x61);
  wire[4][7] = 0x62;
  await assert.rejects(
    new Response(checkedBody(new Blob(wire).stream(), v.payload, 66560)).bytes(),
    (e) => e instanceof SignatureError && e.code === "SignatureDoesNotMatch",
  );
});

Deno.test("checkedBody refuses a body whose SHA-256 is not the signed one, and holds its last piece back until the end", async () => {
  const hex = createHash("sha256").update("right").digest("hex");
  const stream = checkedBody(
    new Blob(["wrong"]).stream(),
    { kind: "sha256", hex },
    5,
  );
  const reader = stream.getReader();
  await assert.rejects(reader.read(), { code: "XAmzContentSHA256Mismatch" });
  const ok = checkedBody(new Blob(["right"]).stream(), { kind: "sha256", hex }, 5);
  assert.equal(await new Response(ok).text(), "right");
  await assert.rejects(
    new Response(checkedBody(new Blob(["righ"]).stream(), { kind: "sha256", hex }, 5)).text(),
    { code: "IncompleteBody" },
  );
});

/** The hash constructor the SDK's signer takes (the SDK's own wraps the same node:crypto). */
class Sha256 {
  #h: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#h = secret === undefined
      ? createHash("sha256")
      : createHmac("sha256", typeof secret === "string" ? secret : toBytes(secret));
  }
  update(data: Uint8Array | string) {
    this.#h.update(data);
  }
  digest() {
    return Promise.resolve(new Uint8Array(this.#h.digest()));
  }
  reset() {}
}

function toBytes(b: ArrayBuffer | ArrayBufferView): Uint8Array {
  return ArrayBuffer.isView(b)
    ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
    : new Uint8Array(b);
}

/** One request for {@link sdkSigned}. */
interface Plain {
  method: string;
  path: string;
  query?: Record<string, string>;
  body?: string;
}

/** Signs a request as the AWS SDK does (@smithy/signature-v4, the SDK's own signer). */
async function sdkSigned(
  request: Plain,
  options: { presign?: number; secret?: string; date?: Date } = {},
) {
  const signer = new SignatureV4({
    service: "s3",
    region: "eu-west-1",
    credentials: { accessKeyId: EXAMPLE.id, secretAccessKey: options.secret ?? EXAMPLE.secret },
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: true,
  });
  const body = request.body ?? "";
  const req = {
    method: request.method,
    protocol: "http:",
    hostname: "127.0.0.1",
    port: 9000,
    path: request.path,
    query: request.query ?? {},
    headers: {
      host: "127.0.0.1:9000",
      "x-amz-content-sha256": createHash("sha256").update(body).digest("hex"),
      "x-amz-meta-label": "a label",
    },
    body,
  };
  const date = options.date ?? new Date();
  const signed = options.presign !== undefined
    ? await signer.presign(req, { expiresIn: options.presign, signingDate: date })
    : await signer.sign(req, { signingDate: date });
  // Percent-encoded as the SDK sends it (URLSearchParams would write a space as "+").
  const query = Object.entries(signed.query as Record<string, string>)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
  return {
    method: signed.method,
    url: signed.path + (query ? `?${query}` : ""),
    headers: new Headers(signed.headers as Record<string, string>),
  };
}

Deno.test("verifySignature accepts what the AWS SDK's signer signs: header and presigned, keys with odd characters, queries", async () => {
  const now = new Date();
  const requests: Plain[] = [
    { method: "PUT", path: "/bucket/laptop/packs/ab~cd%20e", body: "some bytes" },
    {
      method: "GET",
      path: "/bucket",
      query: { "list-type": "2", prefix: "laptop/home/", "continuation-token": "a+b/c=" },
    },
    { method: "POST", path: "/bucket/laptop/index/x", query: { uploads: "" } },
  ];
  for (const r of requests) {
    const v = await verifySignature(await sdkSigned(r), secretOf, now);
    assert.equal(v.region, "eu-west-1");
    await verifySignature(await sdkSigned(r, { presign: 60 }), secretOf, now);
  }
});

Deno.test("verifySignature refuses a wrong secret, an unknown key, a tampered request, a stale date, an expired presign and an unsigned x-amz header", async () => {
  const now = new Date();
  const put = { method: "PUT", path: "/bucket/laptop/packs/x", body: "bytes" };
  const code = (c: string) => (e: unknown) => e instanceof SignatureError && e.code === c;
  await assert.rejects(
    verifySignature(await sdkSigned(put, { secret: "not the secret" }), secretOf, now),
    code("SignatureDoesNotMatch"),
  );
  await assert.rejects(
    verifySignature(await sdkSigned(put), () => undefined, now),
    code("InvalidAccessKeyId"),
  );
  const tampered = await sdkSigned(put);
  tampered.url = tampered.url.replace("packs/x", "packs/y");
  await assert.rejects(verifySignature(tampered, secretOf, now), code("SignatureDoesNotMatch"));
  const old = new Date(now.getTime() - 16 * 60 * 1000);
  await assert.rejects(
    verifySignature(await sdkSigned(put, { date: old }), secretOf, now),
    code("RequestTimeTooSkewed"),
  );
  await assert.rejects(
    verifySignature(await sdkSigned(put, { presign: 60, date: old }), secretOf, now),
    code("AccessDenied"),
  );
  const smuggled = await sdkSigned(put);
  smuggled.headers.set("x-amz-copy-source", "bucket/laptop/config");
  await assert.rejects(verifySignature(smuggled, secretOf, now), code("AccessDenied"));
  await assert.rejects(
    verifySignature({ method: "GET", url: "/bucket/x", headers: new Headers() }, secretOf, now),
    code("AccessDenied"),
  );
});

Deno.test("signRequest signs what verifySignature accepts (the gateway's forwarded requests)", async () => {
  const url = new URL(
    "http://127.0.0.1:9000/bucket/laptop/packs/a%2Bb?uploadId=x%2Fy&partNumber=3",
  );
  const headers = signRequest(
    { method: "PUT", url, headers: { "x-amz-meta-sha256": "00" }, payloadHash: "UNSIGNED-PAYLOAD" },
    { accessKeyId: EXAMPLE.id, secretAccessKey: EXAMPLE.secret, sessionToken: "token" },
    "us-east-1",
  );
  const v = await verifySignature(
    { method: "PUT", url: url.pathname + url.search, headers: new Headers(headers) },
    secretOf,
  );
  assert.deepEqual(v.payload, { kind: "unsigned" });
});
