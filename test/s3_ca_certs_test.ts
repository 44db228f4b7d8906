/**
 * S3 over HTTPS with `NODE_EXTRA_CA_CERTS` set, as behind a company proxy (issue 12, case 10),
 * through the real CLI: the endpoint is a TLS proxy in front of moto whose certificate only the
 * test CA (test/fixtures/tls) vouches for, so the backup works only if the S3 plugin's worker
 * may use the extra CA certificates, and trusts them.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { awsEnv, cli, describeTree, tempDir } from "./helpers.ts";
import { startMoto } from "./rig/moto.ts";
import { randomId } from "./storage_conformance.ts";

const tls = (name: string) => new URL(`./fixtures/tls/${name}`, import.meta.url).pathname;

const moto = await startMoto();
addEventListener("unload", () => moto.kill());

/** An HTTPS endpoint on 127.0.0.1 (the fixture certificate) that forwards every request to moto. */
function tlsProxy(): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: fs.readFileSync(tls("server.pem"), "utf8"),
    key: fs.readFileSync(tls("server.key"), "utf8"),
    onListen: () => {},
  }, async (req) => {
    const url = new URL(req.url);
    const res = await fetch(`${moto.endpoint}${url.pathname}${url.search}`, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      redirect: "manual",
    });
    return new Response(res.body, { status: res.status, headers: res.headers });
  });
}

Deno.test("with NODE_EXTRA_CA_CERTS set, the CLI backs up to and restores from S3 over HTTPS, trusting that CA", async () => {
  const proxy = tlsProxy();
  try {
    const bucket = `pf-${randomId().slice(0, 20)}`;
    const keys = { accessKeyId: "permafrost-test", secretAccessKey: "permafrost-test" };
    const s3 = new S3Client({
      region: "us-east-1",
      endpoint: moto.endpoint,
      forcePathStyle: true,
      credentials: keys,
    });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    s3.destroy();
    const endpoint = `https://127.0.0.1:${proxy.addr.port}`;
    const env = {
      ...await awsEnv(endpoint),
      AWS_ACCESS_KEY_ID: keys.accessKeyId,
      AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
      PERMAFROST_REPO: `s3://${bucket}/ca`,
      NODE_EXTRA_CA_CERTS: tls("ca.pem"),
    };
    const src = await tempDir();
    fs.writeFileSync(join(src, "hello.txt"), "hello over TLS\n");
    for (
      const args of [
        ["init", "--kdf-memlimit", "8MiB", "--cold-class", "STANDARD"],
        ["backup", src],
      ]
    ) {
      const r = await cli(args, env);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /allow-sys|Requires sys access/);
    }
    const target = await tempDir();
    const restored = await cli(["restore", "latest", "--target", target], env);
    assert.equal(restored.code, 0, restored.stderr);
    assert.deepEqual(
      describeTree(join(target, src.split("/").pop()!)),
      describeTree(src),
    );
  } finally {
    await proxy.shutdown();
  }
});
