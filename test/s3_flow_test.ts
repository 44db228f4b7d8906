/**
 * Permafrost on S3, end to end: the real CLI (as subprocesses, `cli()`) against moto
 * (test/rig/moto.ts), with the test's own S3 client looking at what moto holds. Backup puts
 * data packs in DEEP_ARCHIVE and metadata in STANDARD; restore requests, waits, resumes after a
 * restart and downloads, the way test/cold_restore_test.ts runs it on the local back end's
 * simulated cold mode; and, on a second moto that enforces IAM, the users holding the policies
 * of `identityPolicy` can do exactly what their role may.
 *
 * One moto for the file (and one with IAM enforcement), a fresh bucket per test. The CLI
 * starts in about a second, so each test runs it only a few times.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  RestoreObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { startPlugin } from "../host/plugin/sandbox.ts";
import { layout } from "../host/repository/layout.ts";
import { identityPolicy, type PolicyRole } from "../host/s3/policy.ts";
import { RoleHandle } from "../host/storage/role_handle.ts";
import { s3PluginDir } from "../host/storage/s3_location.ts";
import { ObjectExists } from "../plugins/sdk/errors.ts";
import { awsEnv, cli, describeTree, randomBytes, tempDir } from "./helpers.ts";
import { RESTORE_MODEL, startMoto } from "./rig/moto.ts";
import { MOTO_KEYS, motoS3 } from "./support/moto_s3.ts";

/** The test's own client, outside the sandbox, sees what moto holds. */
const { moto, s3, newBucket } = await motoS3();

function client(endpoint: string, credentials = MOTO_KEYS): S3Client {
  return new S3Client({ region: "us-east-1", endpoint, forcePathStyle: true, credentials });
}

const PREFIX = "laptop/home";
const json = (s: string) => JSON.parse(s);

/** Two folders of three ~700 KB random files each: six files in three or four 1 MiB packs. */
async function sourceTree(): Promise<{ src: string; name: string }> {
  const src = await tempDir();
  for (const d of ["a", "b"]) {
    fs.mkdirSync(join(src, d));
    for (let i = 0; i < 3; i++) {
      fs.writeFileSync(join(src, d, `f${i}`), randomBytes(700_000, d.charCodeAt(0) * 10 + i));
    }
  }
  return { src, name: src.split("/").pop()! };
}

/** A new bucket holding a repository at `s3://BUCKET/laptop/home` with one backup of a tree. */
async function setup(initFlags: string[] = []) {
  const { bucket, env } = await newBucket(PREFIX);
  const init = await cli(
    ["init", "--kdf-memlimit", "8MiB", "--pack-size", "1MiB", ...initFlags],
    env,
  );
  assert.equal(init.code, 0, init.stderr);
  const { src, name } = await sourceTree();
  const b = await cli(["backup", src], env);
  assert.equal(b.code, 0, b.stderr);
  return { bucket, env, src, name, state: env.PERMAFROST_STATE_DIR };
}

/** Every object under the repository's prefix: its name (without the prefix) and class. */
async function listed(bucket: string, prefix = PREFIX): Promise<Map<string, string>> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/` }));
  assert.ok(!out.IsTruncated);
  return new Map(
    (out.Contents ?? []).map((o) => [o.Key!.slice(prefix.length + 1), o.StorageClass!]),
  );
}

Deno.test("backup to s3:// stores packs in DEEP_ARCHIVE and the rest in STANDARD, as moto reports; snapshots and ls need only the hot tier", async () => {
  const { bucket, env, name } = await setup();
  const objects = await listed(bucket);
  const packs = [...objects.keys()].filter((n) => n.startsWith(layout.prefixes.pack));
  assert.ok(packs.length >= 3, [...objects.keys()].join("\n"));
  for (const [n, storageClass] of objects) {
    const hot = !n.startsWith(layout.prefixes.pack);
    assert.ok(
      /^(config|(keys|index|snapshots|meta|packs)\/[0-9a-f]{64})$/.test(n),
      `unexpected object "${n}"`,
    );
    assert.equal(storageClass, hot ? "STANDARD" : "DEEP_ARCHIVE", n);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `${PREFIX}/${n}` }));
    assert.equal(head.StorageClass ?? "STANDARD", hot ? "STANDARD" : "DEEP_ARCHIVE", n);
  }
  for (const kind of ["config", "keys/", "index/", "snapshots/", "meta/"]) {
    assert.ok([...objects.keys()].some((n) => n.startsWith(kind)), `no "${kind}" object`);
  }
  await assert.rejects(
    s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${PREFIX}/${packs[0]}` })),
    { name: "InvalidObjectState" },
  );

  const [snapshots, ls] = await Promise.all([
    cli(["snapshots", "--json"], env),
    cli(["ls", "latest"], env),
  ]);
  assert.equal(snapshots.code, 0, snapshots.stderr);
  assert.equal(json(snapshots.stdout).length, 1);
  assert.equal(json(snapshots.stdout)[0].stats.files, 6);
  assert.equal(ls.code, 0, ls.stderr);
  for (const f of ["a/f0", "a/f2", "b/f1"]) assert.match(ls.stdout, new RegExp(`/${name}/${f}\n`));
});

Deno.test("init --cold-class GLACIER stores the packs of later backups in GLACIER", async () => {
  const { bucket } = await setup(["--cold-class", "GLACIER"]);
  const classes = new Set<string>();
  for (const [n, storageClass] of await listed(bucket)) {
    if (n.startsWith(layout.prefixes.pack)) classes.add(storageClass);
    else assert.equal(storageClass, "STANDARD", n);
  }
  assert.deepEqual([...classes], ["GLACIER"]);
});

/** The saved job's pack names (restore-jobs/JOB.json). */
function jobPacks(state: string, job: string): string[] {
  return json(fs.readFileSync(join(state, "restore-jobs", `${job}.json`), "utf8")).packs;
}

Deno.test("restore from DEEP_ARCHIVE: requests and exits 4; a restore moto holds in progress reads as restoring after a restart; then --resume restores the tree byte for byte", async () => {
  const { bucket, env, src, name, state } = await setup();
  const target = await tempDir();
  const dry = await cli(["restore", "latest", "--dry-run", "--json"], env);
  assert.equal(dry.code, 0, dry.stderr);
  const archived = json(dry.stdout).cold.archived.packs;
  assert.ok(archived >= 3, dry.stdout);

  // Each request on a key is a tick: the first one after RestoreObject moves it in progress.
  await moto.setTransition(RESTORE_MODEL, { progression: "manual", times: 1 });
  try {
    const first = await cli(["restore", "latest", "--target", target, "--json"], env);
    assert.equal(first.code, 4, first.stderr);
    const out = json(first.stdout);
    assert.equal(out.waiting, true);
    assert.equal(out.requested, archived);
    assert.equal(out.resume, `permafrost restore --resume ${out.job}`);
    assert.deepEqual(fs.readdirSync(target), [], "nothing is written before the packs thaw");
    const keys = jobPacks(state, out.job).map((n) => `${PREFIX}/${n}`);
    assert.equal(keys.length, archived);
    for (const Key of keys) {
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key }));
      assert.equal(head.Restore, 'ongoing-request="true"', Key);
    }
    // Held in progress: reads still fail; a new process finds the job, sees the packs
    // restoring and asks for nothing again.
    await moto.setTransition(RESTORE_MODEL, { progression: "manual", times: 1_000_000 });
    for (const Key of keys) {
      await assert.rejects(s3.send(new GetObjectCommand({ Bucket: bucket, Key })), {
        name: "InvalidObjectState",
      });
    }
    const held = await cli(["restore", "--resume", out.job, "--json"], env);
    assert.equal(held.code, 4, held.stderr);
    assert.equal(json(held.stdout).requested, 0);
    assert.equal(json(held.stdout).cold.restoring.packs, archived);
    assert.deepEqual(fs.readdirSync(target), []);

    await moto.setTransition(RESTORE_MODEL, null); // "immediate": done at the next request
    const done = await cli(["restore", "--resume", out.job, "--json"], env);
    assert.equal(done.code, 0, done.stderr);
    assert.equal(json(done.stdout).cold.restored.packs, archived);
    assert.deepEqual(describeTree(join(target, name)), describeTree(src));
    assert.ok(!fs.existsSync(join(state, "restore-jobs", `${out.job}.json`)), "job removed");
  } finally {
    await moto.setTransition(RESTORE_MODEL, null);
  }
});

Deno.test("restoring one file from DEEP_ARCHIVE requests only the packs that hold it; --wait --poll 1 waits for a folder's packs, then restores it", async () => {
  const { bucket, env, src, name } = await setup();
  const all = await cli(["restore", "latest", "--dry-run", "--json"], env);
  assert.equal(all.code, 0, all.stderr);
  const archived = json(all.stdout).cold.archived.packs;

  const one = await cli(
    ["restore", `latest:/${name}/a/f1`, "--target", await tempDir(), "--json"],
    env,
  );
  assert.equal(one.code, 4, one.stderr);
  const requested = json(one.stdout).requested;
  assert.ok(requested >= 1 && requested <= 2, one.stdout);
  assert.ok(requested < archived, `${requested} of ${archived} packs requested`);
  let asked = 0;
  for (const [n] of await listed(bucket)) {
    if (!n.startsWith(layout.prefixes.pack)) continue;
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `${PREFIX}/${n}` }));
    if (head.Restore !== undefined) asked++;
  }
  assert.equal(asked, requested, "moto saw as many RestoreObject requests as reported");

  // One tick to start each new restore, one more to finish it: --wait sees them restoring.
  await moto.setTransition(RESTORE_MODEL, { progression: "manual", times: 1 });
  try {
    const target = await tempDir();
    const r = await cli(
      ["restore", `latest:/${name}/b`, "--target", target, "--wait", "--poll", "1"],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    const surveys = [...r.stderr.matchAll(/ (\d+)\/(\d+) packs readable/g)];
    assert.ok(surveys.length >= 2, r.stderr);
    assert.ok(Number(surveys[0][1]) < Number(surveys[0][2]), r.stderr);
    assert.deepEqual(describeTree(join(target, "b")), describeTree(join(src, "b")));
  } finally {
    await moto.setTransition(RESTORE_MODEL, null);
  }
});

// ---------------------------------------------------------------------------------------------
// IAM enforcement: a second moto that checks every request against IAM once its first
// unauthenticated actions (INITIAL_NO_AUTH_ACTION_COUNT) have made the bucket and the users.

const IAM_BUCKET = "pf-iam-enforced";
/** The repository the users' policies are for, and a second, fresh one for the ingest user. */
const IAM_PREFIX = "laptop";
const FRESH_PREFIX = "desktop";

/** One unauthenticated setup action: an IAM Query API call, or creating the bucket. */
type SetupAction = { iam: Record<string, string> } | { bucket: string };

/** The users, their inline policies (`identityPolicy`), and the bucket. */
function setupActions(): SetupAction[] {
  const policies: [PolicyRole, string][] = [
    ["ingest", IAM_PREFIX],
    ["ingest", FRESH_PREFIX],
    ["reader", IAM_PREFIX],
    ["admin", IAM_PREFIX],
  ];
  const users = [...new Set(policies.map(([role]) => role))];
  return [
    { bucket: IAM_BUCKET },
    ...users.flatMap((role) => [
      { iam: { Action: "CreateUser", UserName: `pf-${role}` } },
      { iam: { Action: "CreateAccessKey", UserName: `pf-${role}` } },
    ]),
    ...policies.map(([role, prefix]) => ({
      iam: {
        Action: "PutUserPolicy",
        UserName: `pf-${role}`,
        PolicyName: `permafrost-${role}-${prefix}`,
        PolicyDocument: JSON.stringify(identityPolicy(role, IAM_BUCKET, prefix)),
      },
    })),
  ];
}

type Keys = { accessKeyId: string; secretAccessKey: string };

/**
 * Starts moto with IAM enforced after exactly the setup actions, runs them, and writes the
 * users' keys as profiles `pf-ingest`, `pf-reader`, `pf-admin` into a credentials file.
 */
async function startIamMoto() {
  const actions = setupActions();
  const server = await startMoto({
    env: { INITIAL_NO_AUTH_ACTION_COUNT: String(actions.length) },
  });
  const keys: Record<string, Keys> = {};
  try {
    for (const action of actions) {
      if ("bucket" in action) {
        await client(server.endpoint).send(new CreateBucketCommand({ Bucket: action.bucket }));
        continue;
      }
      // IAM's Query API. moto picks the service from the credential scope and, while
      // authentication is still off, checks no signature.
      const res = await fetch(server.endpoint, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          authorization: "AWS4-HMAC-SHA256 Credential=setup/20250101/us-east-1/iam/" +
            "aws4_request, SignedHeaders=host, Signature=0",
        },
        body: new URLSearchParams({ ...action.iam, Version: "2010-05-08" }),
      });
      const text = await res.text();
      assert.ok(res.ok, `${action.iam.Action}: HTTP ${res.status} ${text}`);
      if (action.iam.Action === "CreateAccessKey") {
        const field = (f: string) => new RegExp(`<${f}>([^<]+)</${f}>`).exec(text)![1];
        keys[action.iam.UserName.slice(3)] = {
          accessKeyId: field("AccessKeyId"),
          secretAccessKey: field("SecretAccessKey"),
        };
      }
    }
  } catch (e) {
    await server.stop();
    throw e;
  }
  const dir = await tempDir();
  const credentials = join(dir, "credentials");
  fs.writeFileSync(
    credentials,
    Object.entries(keys).map(([role, k]) =>
      `[pf-${role}]\naws_access_key_id = ${k.accessKeyId}\n` +
      `aws_secret_access_key = ${k.secretAccessKey}\n`
    ).join(""),
  );
  fs.writeFileSync(join(dir, "config"), "");
  const env = {
    ...await awsEnv(server.endpoint),
    AWS_SHARED_CREDENTIALS_FILE: credentials,
    AWS_CONFIG_FILE: join(dir, "config"),
  };
  const as = (role: PolicyRole) => client(server.endpoint, keys[role]);
  return { server, keys, env, as };
}

const iam = await startIamMoto();
addEventListener("unload", () => iam.server.kill());

/** The repository location with a role's profile. */
const repoAs = (role: PolicyRole, prefix = IAM_PREFIX) =>
  `s3://${IAM_BUCKET}/${prefix}?profile=pf-${role}`;

let repository: Promise<string> | undefined;

/**
 * The repository at IAM_PREFIX, which the admin user creates (once, for whichever test needs it
 * first); resolves its ingest key file.
 */
function iamRepository(): Promise<string> {
  return repository ??= (async () => {
    const admin = { ...iam.env, PERMAFROST_REPO: repoAs("admin") };
    const init = await cli(["init", "--kdf-memlimit", "8MiB", "--pack-size", "1MiB"], admin);
    assert.equal(init.code, 0, init.stderr);
    const keyFile = join(await tempDir(), "ingest.key");
    const key = await cli(["key", "ingest", "--out", keyFile], admin);
    assert.equal(key.code, 0, key.stderr);
    return keyFile;
  })();
}

Deno.test("with IAM enforced, the ingest user backs up but cannot delete, overwrite or read packs, nor restore; the admin user deletes", async () => {
  const { env, as } = iam;
  const keyFile = await iamRepository();
  const ingest = { ...env, PERMAFROST_REPO: repoAs("ingest"), PERMAFROST_KEY_FILE: keyFile };
  const { src } = await sourceTree();
  const b = await cli(["backup", src], ingest);
  assert.equal(b.code, 0, b.stderr);

  const objects = await as("admin").send(
    new ListObjectsV2Command({ Bucket: IAM_BUCKET, Prefix: `${IAM_PREFIX}/` }),
  );
  const keyOf = (kind: string) => objects.Contents!.find((o) => o.Key!.includes(`/${kind}/`))!;
  const pack = keyOf("packs");
  const snapshot = keyOf("snapshots");
  const Bucket = IAM_BUCKET;
  const denied = { name: "AccessDenied" };
  const ingestS3 = as("ingest");
  await assert.rejects(ingestS3.send(new DeleteObjectCommand({ Bucket, Key: pack.Key })), denied);
  await assert.rejects(ingestS3.send(new GetObjectCommand({ Bucket, Key: pack.Key })), denied);
  await assert.rejects(ingestS3.send(new RestoreObjectCommand({ Bucket, Key: pack.Key })), denied);
  for (const o of [pack, snapshot]) {
    await assert.rejects(
      ingestS3.send(
        new PutObjectCommand({
          Bucket,
          Key: o.Key,
          Body: randomBytes(o.Size!, 9),
          IfNoneMatch: "*",
        }),
      ),
      (e: Error & { $metadata?: { httpStatusCode?: number } }) => {
        assert.equal(e.name, "PreconditionFailed");
        assert.equal(e.$metadata?.httpStatusCode, 412);
        return true;
      },
    );
  }

  // Through the plugin, as the host runs it for the ingest role: the same bytes again resolve
  // (a retried upload), other bytes are ObjectExists, also for a pack it may not read.
  const storage = new RoleHandle(
    await startPlugin({
      kind: "storage",
      dir: s3PluginDir,
      vars: { $endpoint: [new URL(iam.server.endpoint).host] },
      config: {
        bucket: IAM_BUCKET,
        keyPrefix: `${IAM_PREFIX}/`,
        region: "us-east-1",
        endpoint: iam.server.endpoint,
        pathStyle: true,
      },
      capabilities: { credentials: { get: () => iam.keys.ingest } },
    }),
    "ingest",
  );
  try {
    const name = (o: typeof pack) => o.Key!.slice(IAM_PREFIX.length + 1);
    const bytes = await as("reader").send(new GetObjectCommand({ Bucket, Key: snapshot.Key }));
    await storage.create(name(snapshot), await bytes.Body!.transformToByteArray());
    await assert.rejects(
      storage.create(name(snapshot), randomBytes(snapshot.Size!, 9)),
      ObjectExists,
    );
    await assert.rejects(storage.create(name(pack), randomBytes(pack.Size!, 9)), ObjectExists);
  } finally {
    await storage.close();
  }

  // The ingest machine's key cannot read what a restore needs, and says so.
  const restore = await cli(["restore", "latest", "--target", await tempDir()], ingest);
  assert.equal(restore.code, 1);
  assert.match(restore.stderr, /^permafrost: this key cannot read trees: it is an ingest/);

  // The reader may restore and read, not delete; the admin deletes.
  await as("reader").send(
    new RestoreObjectCommand({ Bucket, Key: pack.Key, RestoreRequest: { Days: 1 } }),
  );
  await assert.rejects(
    as("reader").send(new DeleteObjectCommand({ Bucket, Key: pack.Key })),
    denied,
  );
  await as("admin").send(new DeleteObjectCommand({ Bucket, Key: pack.Key }));
  await assert.rejects(
    as("admin").send(new HeadObjectCommand({ Bucket, Key: pack.Key })),
    { name: "NotFound" },
  );
});

Deno.test("admin-only operations run with ingest credentials say which request S3 refused, that the credentials lack the permission, and whose they need", async () => {
  const { env } = iam;
  await iamRepository();
  const [init, passwd] = await Promise.all([
    // a fresh prefix the ingest user may back up into, but not create
    cli(["init", "--kdf-memlimit", "8MiB"], {
      ...env,
      PERMAFROST_REPO: repoAs("ingest", FRESH_PREFIX),
    }),
    // the passphrase, with the ingest machine's credentials
    cli(["key", "passwd", "--kdf-memlimit", "8MiB"], {
      ...env,
      PERMAFROST_REPO: repoAs("ingest"),
      PERMAFROST_NEW_PASSWORD: "a new passphrase",
    }),
  ]);
  for (const r of [init, passwd]) {
    assert.equal(r.code, 1, r.stderr);
    assert.match(
      r.stderr,
      /^permafrost: PUT of object "keys\/[0-9a-f]{64}" was refused \(AccessDenied \(HTTP 403\): [^)]*\): the AWS credentials in use lack this permission; .*`init` and `key passwd` need the admin role's credentials \(AWS_PROFILE, or \?profile=NAME in the repository location\)\n$/,
    );
  }
});

Deno.test("with ingest credentials and the passphrase, forget and every gc stage refuse before touching anything", async () => {
  const { env } = iam;
  await iamRepository();
  const ingestCredentials = { ...env, PERMAFROST_REPO: repoAs("ingest") };
  for (
    const args of [
      ["forget", "--keep-last", "1"],
      ["gc", "compact", "--all", "--yes"],
      ["gc", "purge", "--grace", "0", "--accept-early-fee", "--yes"],
    ]
  ) {
    const r = await cli(args, ingestCredentials);
    assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /needs the admin role's storage credentials, and these may not delete/);
  }
});

Deno.test("the gc lifecycle on S3: forget, mark, compact (restoring from DEEP_ARCHIVE), purge; restores stay byte-exact", async () => {
  const { bucket, env, src, name } = await setup();
  // b's packs hold f0 and f1, then f2 (b ended its pack: restore locality). With f1 and f2
  // gone, one pack is all dead (dropped) and one half dead (repacked, from DEEP_ARCHIVE).
  fs.rmSync(join(src, "b", "f1"));
  fs.rmSync(join(src, "b", "f2"));
  fs.writeFileSync(join(src, "c"), randomBytes(300_000, 77));
  assert.equal((await cli(["backup", src], env)).code, 0);
  const gcEnv = { ...env, PERMAFROST_CONFIRM_USD: "1000" };
  assert.equal((await cli(["forget", "--keep-last", "1"], gcEnv)).code, 0);
  const mark = await cli(["gc", "mark", "--json"], gcEnv);
  assert.equal(mark.code, 0, mark.stderr);
  assert.ok(json(mark.stdout).tiers.cold.deadBytes > 1_000_000, mark.stdout);

  // The same compaction as a job in the bucket's region: a task definition running it.
  const job = await cli(["gc", "compact", "--all", "--emit-job", "ecs", "--json"], gcEnv);
  assert.equal(job.code, 0, job.stderr);
  const spec = json(job.stdout);
  assert.equal(spec.role, "admin");
  assert.deepEqual(spec.argv.slice(0, 3), ["gc", "compact", "--all"]);
  assert.equal(spec.definition.requiresCompatibilities[0], "FARGATE");
  const container = spec.definition.containerDefinitions[0];
  assert.ok(container.command.includes("compact"));
  assert.deepEqual(container.secrets.map((x: { name: string }) => x.name), ["PERMAFROST_PASSWORD"]);
  assert.ok(!JSON.stringify(spec).includes(env.AWS_SECRET_ACCESS_KEY), "no credential inline");

  const first = await cli(["gc", "compact", "--all", "--json"], gcEnv);
  assert.equal(first.code, 4, first.stderr); // data packs to repack are in DEEP_ARCHIVE
  const compact = await cli(["gc", "compact", "--all", "--json"], gcEnv);
  assert.equal(compact.code, 0, compact.stderr);
  const { result, drop, repack } = json(compact.stdout);
  assert.equal(result.retired, drop.length + repack.length);
  assert.ok(drop.length >= 1 && result.newPacks >= 1, compact.stdout);
  const before = await listed(bucket);
  for (const p of [...drop, ...repack]) assert.ok(before.has(`packs/${p.pack}`), "not deleted");
  for (const [n, storageClass] of before) {
    if (n.startsWith("packs/")) assert.equal(storageClass, "DEEP_ARCHIVE", n);
  }

  const purge = await cli(
    ["gc", "purge", "--grace", "0", "--accept-early-fee", "--yes", "--json"],
    gcEnv,
  );
  assert.equal(purge.code, 0, purge.stderr);
  assert.equal(json(purge.stdout).result.deletedPacks, result.retired);
  const after = await listed(bucket);
  for (const p of [...drop, ...repack]) {
    assert.ok(!after.has(`packs/${p.pack}`), `packs/${p.pack} deleted`);
    assert.ok(!after.has(`meta/${p.pack}`));
  }
  const check = await cli(["check"], gcEnv);
  assert.equal(check.code, 0, check.stdout + check.stderr);
  const target = await tempDir();
  const r = await cli(["restore", "latest", "--target", target, "--wait", "--poll", "1"], gcEnv);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(describeTree(join(target, name)), describeTree(src));
});
