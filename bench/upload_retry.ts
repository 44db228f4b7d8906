/**
 * What a dropped connection costs an upload (docs/s3.md "Uploads", docs/cost-model.md §3.7):
 * the S3 store (`plugins/storage/s3/s3_store.ts`, in process, with the client settings of the
 * plugin's `mod.ts`) uploads one object to moto (test/rig/moto.ts) through a proxy that counts
 * the request bytes and, in the "cut" rounds, drops the connection once after `--cut` bytes.
 * Each method (one PutObject, parts of 8 MiB, parts of 16 MiB) runs `--rounds` times clean and
 * cut; the table gives the median wall time, the request bytes sent and the requests made.
 *
 * `deno run -A bench/upload_retry.ts [--size 64MiB] [--cut 32MiB] [--rounds 5] [--mbit 100]`
 *
 * `--mbit` holds the request bytes to that rate, as one uplink would (default: loopback, as
 * fast as moto takes them). The bytes are what any link would carry; the times are loopback's
 * with the rate imposed, without a real link's latency.
 *
 * @module
 */

import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { parseArgs } from "node:util";
import type { UploadRule } from "../plugins/sdk/mod.ts";
import { S3Store } from "../plugins/storage/s3/s3_store.ts";
import { startMoto } from "../test/rig/moto.ts";
import { startS3Proxy } from "../test/support/s3_proxy.ts";

const MiB = 2 ** 20;
const { values } = parseArgs({
  args: Deno.args,
  options: {
    size: { type: "string", default: "64" },
    cut: { type: "string", default: "32" },
    rounds: { type: "string", default: "5" },
    mbit: { type: "string" },
  },
});
const mib = (s: string) => Number(s.replace(/MiB$/i, "")) * MiB;
const size = mib(values.size);
const cutAt = mib(values.cut);
const rounds = Number(values.rounds);

const methods: [string, UploadRule][] = [
  ["one PutObject", { multipartThreshold: size, partSize: size }],
  ["parts of 8 MiB", { multipartThreshold: 5 * MiB, partSize: 8 * MiB }],
  ["parts of 16 MiB", { multipartThreshold: 5 * MiB, partSize: 16 * MiB }],
];

const moto = await startMoto();
const mbitPerS = values.mbit === undefined ? undefined : Number(values.mbit);
const proxy = startS3Proxy(moto.endpoint, { mbitPerS });
const keys = { accessKeyId: "bench", secretAccessKey: "bench" };
// As plugins/storage/s3/mod.ts configures it.
const client = new S3Client({
  region: "us-east-1",
  endpoint: proxy.endpoint,
  forcePathStyle: true,
  credentials: keys,
  maxAttempts: 1,
  requestChecksumCalculation: "WHEN_REQUIRED",
  responseChecksumValidation: "WHEN_REQUIRED",
  requestHandler: { connectionTimeout: 10_000, requestTimeout: 600_000 },
});
await client.send(new CreateBucketCommand({ Bucket: "bench" }));
// Incompressible bytes (xorshift32), as encrypted packs are.
const data = new Uint8Array(size);
for (let i = 0, x = 2463534242; i < size; i++) {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  data[i] = x & 0xff;
}

interface Row {
  method: string;
  cut: boolean;
  ms: number;
  sentMiB: number;
  requests: number;
}
const rows: Row[] = [];
try {
  for (const [method, upload] of methods) {
    const store = new S3Store(client, { bucket: "bench", keyPrefix: "", upload });
    for (const cut of [false, true]) {
      const runs: Row[] = [];
      for (let r = 0; r < rounds; r++) {
        const name = `packs/${crypto.randomUUID().replaceAll("-", "").repeat(2)}`;
        const sent0 = proxy.sentBytes();
        const requests0 = proxy.requests.length;
        const cuts0 = proxy.cuts();
        if (cut) proxy.cutAfter(cutAt);
        const t0 = performance.now();
        await store.create(name, data.slice(), { storageClass: "DEEP_ARCHIVE" });
        const ms = performance.now() - t0;
        if (cut && proxy.cuts() !== cuts0 + 1) throw new Error("the connection was not cut");
        runs.push({
          method,
          cut,
          ms,
          sentMiB: (proxy.sentBytes() - sent0) / MiB,
          requests: proxy.requests.length - requests0,
        });
      }
      const mid = (f: (r: Row) => number) => runs.map(f).sort((a, b) => a - b)[runs.length >> 1];
      rows.push({
        method,
        cut,
        ms: mid((r) => r.ms),
        sentMiB: mid((r) => r.sentMiB),
        requests: mid((r) => r.requests),
      });
    }
  }
} finally {
  await proxy.close();
  await moto.stop();
}

console.log(
  `${size / MiB} MiB object, ${rounds} rounds each, median; "cut": one connection dropped after ` +
    `${cutAt / MiB} MiB of request bytes; ${mbitPerS ? `${mbitPerS} Mbit/s` : "loopback"}`,
);
console.log("| method | link | ms | request MiB sent | requests |");
console.log("|---|---|---:|---:|---:|");
for (const r of rows) {
  console.log(
    `| ${r.method} | ${r.cut ? "cut" : "clean"} | ${r.ms.toFixed(0)} | ${
      r.sentMiB.toFixed(1)
    } | ${r.requests} |`,
  );
}
