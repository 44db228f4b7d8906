/**
 * `rebuild --in-region --launch ec2` through the CLI against moto (S3, EC2, IAM and CloudWatch
 * Logs, test/rig/moto.ts): the command plans, starts one instance and prints its id and the
 * command that terminates it, follows it to `terminated`, shows the progress line of its log and
 * exits with the status its exit line told, reporting its EC2 and EBS cost against the estimate.
 * moto runs no user data: the test writes what the instance would into the log stream and
 * terminates it as its shutdown would (docs/in-region.md §7).
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import {
  DescribeInstanceAttributeCommand,
  EC2Client,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import { cli, randomBytes, spawnCli, tempDir } from "./helpers.ts";
import { MOTO_KEYS, motoS3 } from "./support/moto_s3.ts";
import { ec2Prices } from "../host/cost/ec2_job.ts";

const { moto, newBucket } = await motoS3();
const region = "us-east-1";
const ec2 = new EC2Client({ region, endpoint: moto.endpoint, credentials: MOTO_KEYS });
const logs = new CloudWatchLogsClient({ region, endpoint: moto.endpoint, credentials: MOTO_KEYS });
addEventListener("unload", () => {
  ec2.destroy();
  logs.destroy();
});

/** An instance profile in moto's IAM, through IAM's query API. */
async function instanceProfile(name: string): Promise<void> {
  const r = await fetch(moto.endpoint, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: "AWS4-HMAC-SHA256 Credential=permafrost-test/20261207/us-east-1/iam/" +
        "aws4_request, SignedHeaders=host, Signature=0",
    },
    body: `Action=CreateInstanceProfile&InstanceProfileName=${name}&Version=2010-05-08`,
  });
  assert.ok(r.ok, await r.text());
}

/** Reads `stream` until `pattern` matches what was read; the match and a reader of the rest. */
async function readUntil(stream: ReadableStream<Uint8Array>, pattern: RegExp) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`ended without ${pattern}: ${text}`);
    text += value;
    const m = pattern.exec(text);
    if (m) {
      const rest = (async () => {
        for (;;) {
          const next = await reader.read();
          if (next.done) return text;
          text += next.value;
        }
      })();
      return { match: m, rest };
    }
  }
}

Deno.test("rebuild --in-region --launch ec2 starts an instance, follows it to terminated with its progress, and exits with the status of its log's exit line and its EC2 cost; without an instance profile it is refused", async () => {
  const { env: bucketEnv } = await newBucket("laptop");
  const env = {
    ...bucketEnv,
    PERMAFROST_EC2_ENDPOINT: moto.endpoint,
    PERMAFROST_LOGS_ENDPOINT: moto.endpoint,
  };
  assert.equal((await cli(["init", "--kdf-memlimit", "8MiB", "--pack-size", "1MiB"], env)).code, 0);
  const src = await tempDir();
  fs.writeFileSync(join(src, "f"), randomBytes(300_000, 7));
  assert.equal((await cli(["backup", src], env)).code, 0);

  const args = [
    "rebuild",
    "--yes",
    "--in-region",
    "--launch",
    "ec2",
    "--job-role",
    "arn:aws:iam::123456789012:role/permafrost-admin-job",
    "--poll",
    "1",
  ];
  const refused = await cli(args, env);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /--instance-profile NAME/);

  // Without --in-region, --launch and --instance-profile would be ignored: refused instead.
  for (
    const wrong of [["rebuild", "--launch", "ec2"], ["gc", "compact", "--instance-profile", "pf"]]
  ) {
    const r = await cli([...wrong, "--yes"], env);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /choose where --in-region runs the job/);
  }

  const profile = `pf-${crypto.randomUUID().slice(0, 8)}`;
  await instanceProfile(profile);
  const child = spawnCli([...args, "--instance-profile", profile], env);
  const stdout = new Response(child.stdout).text();
  const { match, rest } = await readUntil(child.stderr, /instance (i-[0-9a-f]+) started/);
  const id = match[1];
  const stream = `permafrost-rebuild/permafrost/${id}`;
  // What the instance would write: the driver's lines, then the script's exit line.
  await logs.send(new CreateLogGroupCommand({ logGroupName: "/permafrost/jobs" })).catch(() => {});
  await logs.send(
    new CreateLogStreamCommand({ logGroupName: "/permafrost/jobs", logStreamName: stream }),
  );
  const line = (o: unknown) => JSON.stringify(o);
  await logs.send(
    new PutLogEventsCommand({
      logGroupName: "/permafrost/jobs",
      logStreamName: stream,
      logEvents: [
        line({
          type: "progress",
          phase: "rebuild",
          files_done: 2,
          files_total: 2,
          bytes_done: 2 ** 20,
          bytes_total: 2 ** 20,
          errors: 0,
          elapsed_s: 3,
          current: null,
          final: true,
        }),
        line({ segments: 1, indexedPacks: 2 }),
        line({ type: "exit", code: 3, instance: id }),
      ].map((message, i) => ({ timestamp: Date.now() + i, message })),
    }),
  );
  await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
  const status = await child.status;
  const stderr = await rest;
  const out = await stdout;

  assert.equal(status.code, 3, stderr);
  // The job's own command line keeps none of the launcher's flags.
  const data = await ec2.send(
    new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: "userData" }),
  );
  const script = new TextDecoder().decode(
    Uint8Array.from(atob(data.UserData!.Value!), (c) => c.charCodeAt(0)),
  );
  const run = script.replaceAll(" \\\n  ", " ").split("\n").find((l) => l.startsWith("docker run"));
  assert.ok(run?.includes(" rebuild --yes "), script);
  assert.ok(!/--launch|--instance-profile|--in-region/.test(run!), run);
  assert.match(
    stderr,
    /launching permafrost-rebuild on EC2 m7i\.large \(2 vCPU, 8 GiB; 8 GiB gp3\)/,
  );
  assert.ok(
    stderr.includes(`aws ec2 terminate-instances --instance-ids ${id} --region ${region}`),
    stderr,
  );
  assert.match(stderr, /instance running\n/);
  assert.match(stderr, /rebuild 2\/2 packs {2}0\.0\/0\.0 GiB {2}done/);
  assert.match(stderr, /instance terminated/);
  assert.match(out, new RegExp(`instance ${id} terminated: exit code 3`));
  assert.match(out, /its result: segments=1 indexedPacks=2/);
  assert.match(out, /EC2 m7i\.large and EBS \$[0-9.]+ \(estimated: \$[0-9.]+ to \$[0-9.]+ on m7i/);
  // The expectation is billed as the run is: 60 s at least of the instance, and its volume.
  const least = Number(out.match(/estimated: \$([0-9.]+) to/)![1]);
  const hour = ec2Prices(region).instances.find((i) => i.type === "m7i.large")!.hour;
  assert.ok(least >= Math.round(hour / 60 * 1e4) / 1e4, out);
});
