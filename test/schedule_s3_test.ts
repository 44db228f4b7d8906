/**
 * Scheduled tasks on an S3 repository (docs/schedules.md "S3 credentials"), through the real
 * CLI against moto (test/rig/moto.ts): `schedule add` requires the role's own profile; at each
 * run permafrost resolves that profile's keys from the shared AWS files (here temporary ones,
 * named by AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE in the subprocess's environment)
 * and hands the task only those, with no read permission on the files; a profile gone by run
 * time is a failed run saying so.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { loadSchedules } from "../host/schedule/schedule_file.ts";
import { sandboxFlags } from "../host/schedule/task_policy.ts";
import { awsEnv, cli, tempDir } from "./helpers.ts";
import { startMoto } from "./rig/moto.ts";
import { randomId } from "./storage_conformance.ts";

const moto = await startMoto();
addEventListener("unload", () => moto.kill());

const admin = { accessKeyId: "permafrost-test", secretAccessKey: "permafrost-test" };

Deno.test("a scheduled S3 backup runs with its profile's keys and cannot read ~/.aws", async () => {
  const root = await tempDir("pf-sched-s3-");
  const bucket = `pf-${randomId().slice(0, 20)}`;
  await new S3Client({
    region: "us-east-1",
    endpoint: moto.endpoint,
    forcePathStyle: true,
    credentials: admin,
  }).send(new CreateBucketCommand({ Bucket: bucket }));
  const repo = `s3://${bucket}/laptop`;
  const base = {
    ...await awsEnv(moto.endpoint),
    XDG_CONFIG_HOME: join(root, "config"),
    PERMAFROST_STATE_DIR: join(root, "state"),
  };
  const asAdmin = {
    ...base,
    AWS_ACCESS_KEY_ID: admin.accessKeyId,
    AWS_SECRET_ACCESS_KEY: admin.secretAccessKey,
  };
  const init = await cli(["init", "--repo", repo, "--kdf-memlimit", "8MiB"], asAdmin);
  assert.equal(init.code, 0, init.stderr);
  const key = join(root, "ingest.key");
  const exported = await cli(["key", "ingest", "--repo", repo, "--out", key], asAdmin);
  assert.equal(exported.code, 0, exported.stderr);
  const src = join(root, "src");
  fs.mkdirSync(src);
  fs.writeFileSync(join(src, "note.txt"), "hello\n");

  // The user's AWS files: an admin [default] and the ingest role's own profile.
  const credentials = join(root, "aws-credentials");
  const profiles = "[default]\naws_access_key_id = permafrost-test\n" +
    "aws_secret_access_key = permafrost-test\n";
  const ingest = "[pf-ingest]\naws_access_key_id = pf-ingest-key\n" +
    "aws_secret_access_key = pf-ingest-secret\n";
  fs.writeFileSync(credentials, profiles + ingest, { mode: 0o600 });
  const config = join(root, "aws-config");
  fs.writeFileSync(config, "[default]\nregion = us-east-1\n");
  const env = { ...base, AWS_SHARED_CREDENTIALS_FILE: credentials, AWS_CONFIG_FILE: config };
  const backup = ["backup", "--key-file", key, "--repo", repo, src];
  const add = (name: string, ...opts: string[]) =>
    cli(["schedule", "add", name, "--every", "daily", ...opts, "--", ...backup], env);

  const noProfile = await add("nightly");
  assert.equal(noProfile.code, 2, noProfile.stderr);
  assert.match(noProfile.stderr, /needs the role's own credentials: give --aws-profile NAME/);
  assert.match(noProfile.stderr, /ingest policy, docs\/s3\.md §3/);
  const unknown = await add("nightly", "--aws-profile", "pf-nobody");
  assert.equal(unknown.code, 2, unknown.stderr);
  assert.match(unknown.stderr, /AWS profile "pf-nobody" cannot be resolved/);
  const added = await add("nightly", "--aws-profile", "pf-ingest");
  assert.equal(added.code, 0, added.stderr);

  const run = await cli(["schedule", "run", "nightly"], env);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /schedule "nightly": exit 0: snapshot [0-9a-f]{8}: stats.files 1/);
  const snapshots = await cli(["snapshots", "--json", "--repo", repo], asAdmin);
  assert.equal(snapshots.code, 0, snapshots.stderr);
  assert.equal(JSON.parse(snapshots.stdout).length, 1);

  // The task's own permissions: reading the credentials file is denied.
  const [task] = loadSchedules(join(root, "config", "permafrost", "schedules.json"));
  assert.equal(task.awsProfile, "pf-ingest");
  const probe = join(root, "probe.ts");
  fs.writeFileSync(
    probe,
    `try { Deno.readTextFileSync(${JSON.stringify(credentials)}); console.log("allowed"); }
    catch (e) { console.log(e.name); }`,
  );
  const flags = sandboxFlags(task, {
    cache: base.PERMAFROST_CACHE_DIR,
    state: join(root, "state"),
  });
  const probed = await new Deno.Command(Deno.execPath(), {
    args: [...flags.filter((f) => f !== "--cached-only"), probe],
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "" },
  }).output();
  assert.equal(new TextDecoder().decode(probed.stdout).trim(), "NotCapable");

  // The profile removed from the files: the next run fails, saying which and why.
  fs.writeFileSync(credentials, profiles, { mode: 0o600 });
  const gone = await cli(["schedule", "run", "nightly"], env);
  assert.equal(gone.code, 1, gone.stderr);
  assert.match(gone.stdout, /exit 1: not started: AWS profile "pf-ingest" cannot be resolved/);
  assert.match(gone.stderr, / error schedule "nightly": run \w+ exited 1: not started/);
});
