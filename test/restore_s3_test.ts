/**
 * `restore --target s3://BUCKET/PREFIX/` through the CLI against moto (docs/s3.md "Restoring
 * into S3"): every file an object byte for byte with its metadata, the manifest, subtrees and
 * single files, large files in parts, refusal of a key holding something else, and a rerun
 * that resumes. The repository is a local folder: the target's writer is the same from home
 * and in a job. Then `restore --in-region` against moto's ECS: the thaw from home, and the
 * launch of the job that runs the same restore (moto runs no container: docs/in-region.md §7).
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { basename, join } from "node:path";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { cli, randomBytes, tempDir, writeSampleTree } from "./helpers.ts";
import {
  CreateClusterCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
} from "@aws-sdk/client-ecs";
import { defaultSubnet, MOTO_KEYS, motoS3 } from "./support/moto_s3.ts";

const { moto, s3, newBucket, env: motoEnv } = await motoS3();

/** A local repository with the sample tree and a 12 MiB file backed up, and a bucket. */
async function setUp() {
  const { bucket } = await newBucket("unused");
  const repo = join(await tempDir(), "repo");
  // 5 MiB parts: the 12 MiB file goes up in three.
  const env = { ...await motoEnv(), PERMAFROST_REPO: repo, PERMAFROST_S3_PART_SIZE: "5242880" };
  assert.equal((await cli(["init", "--kdf-memlimit", "8MiB"], env)).code, 0);
  const src = await tempDir();
  writeSampleTree(src);
  fs.writeFileSync(join(src, "big/large.bin"), randomBytes(12 << 20, 3));
  const b = await cli(["backup", src], env);
  assert.equal(b.code, 0, b.stderr);
  return { bucket, env, src, top: basename(src) };
}

const fixture = await setUp();

async function get(bucket: string, key: string) {
  const o = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return { bytes: await o.Body!.transformToByteArray(), metadata: o.Metadata ?? {} };
}

async function keys(bucket: string, prefix: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

/** Every regular file under `root`, by its path relative to it. */
function filesOf(root: string, rel = ""): string[] {
  return fs.readdirSync(join(root, rel), { withFileTypes: true }).flatMap((e) => {
    const r = rel === "" ? e.name : `${rel}/${e.name}`;
    return e.isDirectory() ? filesOf(root, r) : e.isFile() ? [r] : [];
  });
}

Deno.test("restore --target s3:// writes every file as an object byte for byte, with its mode and mtime, and the manifest of what S3 cannot hold", async () => {
  const { bucket, env, src, top } = fixture;
  const r = await cli(["restore", "latest", "--target", `s3://${bucket}/all/`], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`to s3://${bucket}/all/`));
  const files = filesOf(src);
  assert.deepEqual(
    await keys(bucket, "all/"),
    [
      ...files.map((f) => `all/${top}/${f.replace("\n", "%0A")}`),
      "all/.permafrost-restore.json",
    ].sort(),
  );
  for (const f of files) {
    const { bytes, metadata } = await get(bucket, `all/${top}/${f.replace("\n", "%0A")}`);
    assert.deepEqual(bytes, new Uint8Array(fs.readFileSync(join(src, f))), f);
    const st = fs.statSync(join(src, f), { bigint: true });
    assert.equal(
      metadata["permafrost-mode"],
      (Number(st.mode) & 0o7777).toString(8).padStart(4, "0"),
    );
    assert.equal(metadata["permafrost-mtime"], String(st.mtimeNs), f);
  }
  const manifest = JSON.parse(
    new TextDecoder().decode((await get(bucket, "all/.permafrost-restore.json")).bytes),
  );
  assert.equal(manifest.version, 1);
  assert.deepEqual(
    manifest.symlinks.map((s: { path: string; target: string }) => [s.path, s.target]).sort(),
    [[`${top}/dangling`, "/nonexistent/target"], [`${top}/link-to-hello`, "hello.txt"]],
  );
  assert.ok(manifest.dirs.some((d: { path: string }) => d.path === `${top}/emptydir`));
  assert.equal(manifest.hardlinks.length, 1);
  assert.deepEqual(
    new Set([manifest.hardlinks[0].path, manifest.hardlinks[0].to]),
    new Set([`${top}/docs/readme.md`, `${top}/hardlink.md`]),
  );
});

Deno.test("restore --target s3:// of a large file sends it in parts, and S3 keeps the SHA-256 of each", async () => {
  const { bucket, env, src, top } = fixture;
  const r = await cli(
    ["restore", `latest:/${top}/big/large.bin`, "--target", `s3://${bucket}/large`],
    env,
  );
  assert.equal(r.code, 0, r.stderr);
  const head = await s3.send(
    new HeadObjectCommand({ Bucket: bucket, Key: "large/large.bin", PartNumber: 1 }),
  );
  assert.equal(head.PartsCount, 3);
  assert.deepEqual(
    (await get(bucket, "large/large.bin")).bytes,
    new Uint8Array(fs.readFileSync(join(src, "big/large.bin"))),
  );
});

Deno.test("restore --target s3:// of a subtree keys its files under the subtree's name, and of one file the file alone", async () => {
  const { bucket, env, top } = fixture;
  assert.equal(
    (await cli(["restore", `latest:/${top}/docs`, "--target", `s3://${bucket}/sub`], env)).code,
    0,
  );
  assert.deepEqual(await keys(bucket, "sub/"), [
    "sub/.permafrost-restore.json",
    "sub/docs/deep/nested/file.txt",
    "sub/docs/readme.md",
    "sub/docs/script.sh",
    "sub/docs/secret.txt",
  ]);
  assert.equal(
    (await cli(["restore", `latest:/${top}/hello.txt`, "--target", `s3://${bucket}/one`], env))
      .code,
    0,
  );
  assert.deepEqual(await keys(bucket, "one/"), ["one/.permafrost-restore.json", "one/hello.txt"]);
  assert.equal(
    new TextDecoder().decode((await get(bucket, "one/hello.txt")).bytes),
    "hello, world\n",
  );
});

Deno.test("restore --target s3:// refuses a prefix where a key holds other content, naming it, and writes nothing", async () => {
  const { bucket, env, top } = fixture;
  await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: `taken/${top}/hello.txt`, Body: "other" }),
  );
  const r = await cli(["restore", "latest", "--target", `s3://${bucket}/taken/`], env);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /already has 1 object this restore .*"taken\/.*\/hello.txt".*never overwrites.*Nothing was written/,
  );
  assert.deepEqual(await keys(bucket, "taken/"), [`taken/${top}/hello.txt`]);
});

Deno.test("a rerun of a restore into S3 writes only what is missing and the manifest, and skips what is there", async () => {
  const { bucket, env, src, top } = fixture;
  assert.equal(
    (await cli(["restore", "latest", "--target", `s3://${bucket}/again/`], env)).code,
    0,
  );
  const before = await s3.send(
    new HeadObjectCommand({ Bucket: bucket, Key: `again/${top}/hello.txt` }),
  );
  // As if the first run stopped after some files: one file and the manifest are not there.
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `again/${top}/docs/readme.md` }));
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: "again/.permafrost-restore.json" }));
  const r = await cli(["restore", "latest", "--target", `s3://${bucket}/again/`], env);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    (await get(bucket, `again/${top}/docs/readme.md`)).bytes,
    new Uint8Array(fs.readFileSync(join(src, "docs/readme.md"))),
  );
  assert.ok((await keys(bucket, "again/")).includes("again/.permafrost-restore.json"));
  const after = await s3.send(
    new HeadObjectCommand({ Bucket: bucket, Key: `again/${top}/hello.txt` }),
  );
  assert.equal(after.ETag, before.ETag);
  assert.equal(after.LastModified?.getTime(), before.LastModified?.getTime());
  // A third run finds everything there: it writes nothing and succeeds.
  assert.equal(
    (await cli(["restore", "latest", "--target", `s3://${bucket}/again/`], env)).code,
    0,
  );
});

Deno.test("restore --target-class is refused for a folder target and for an unknown class", async () => {
  const { env, bucket } = fixture;
  const folder = await cli([
    "restore",
    "latest",
    "--target",
    await tempDir(),
    "--target-class",
    "GLACIER",
  ], env);
  assert.equal(folder.code, 2);
  assert.match(folder.stderr, /--target-class is the storage class of a restore into S3/);
  const odd = await cli([
    "restore",
    "latest",
    "--target",
    `s3://${bucket}/x/`,
    "--target-class",
    "COLD",
  ], env);
  assert.equal(odd.code, 2);
  assert.match(odd.stderr, /--target-class is one of STANDARD, .*not "COLD"/);
});

Deno.test("restore --launch or --instance-profile without --in-region is refused, not ignored", async () => {
  const { env, bucket } = fixture;
  for (const flag of [["--launch", "ec2"], ["--instance-profile", "pf"]]) {
    const r = await cli(["restore", "latest", "--target", `s3://${bucket}/y/`, ...flag], env);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`${flag[0]} configures the job of --in-region`));
  }
});

Deno.test("restore --in-region thaws from home, then launches the restore into S3 as a job that runs it with --json, and follows it to its exit code", async () => {
  const { bucket, location, env: bucketEnv } = await newBucket("laptop");
  const ecs = new ECSClient({
    region: "us-east-1",
    endpoint: moto.endpoint,
    credentials: MOTO_KEYS,
  });
  const cluster = `pf-${crypto.randomUUID().slice(0, 8)}`;
  await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
  const env = {
    ...bucketEnv,
    PERMAFROST_ECS_ENDPOINT: moto.endpoint,
    PERMAFROST_LOGS_ENDPOINT: moto.endpoint,
    PERMAFROST_JOB_EXECUTION_ROLE: "arn:aws:iam::123456789012:role/pf-exec",
  };
  assert.equal((await cli(["init", "--kdf-memlimit", "8MiB", "--pack-size", "1MiB"], env)).code, 0);
  const src = await tempDir();
  fs.writeFileSync(join(src, "f"), randomBytes(300_000, 7));
  assert.equal((await cli(["backup", src], env)).code, 0);
  const target = `s3://${bucket}/restored/`;
  const launch = [
    "--in-region",
    "--job-role",
    "arn:aws:iam::123456789012:role/permafrost-reader-job",
    "--cluster",
    cluster,
    "--subnet",
    await defaultSubnet(moto),
    "--poll",
    "1",
    "--yes",
  ];

  const folder = await cli(["restore", "latest", "--target", await tempDir(), ...launch], env);
  assert.equal(folder.code, 2);
  assert.match(folder.stderr, /--in-region writes the restore into S3 .*--target s3:\/\/BUCKET/);

  // The packs are in Deep Archive: the thaw is requested from here, and nothing is launched.
  const first = await cli(["restore", "latest", "--target", target, ...launch], env);
  assert.equal(first.code, 4, first.stderr);
  const job = /restore --resume ([0-9a-f]{12}) --in-region/.exec(first.stdout)?.[1];
  assert.ok(job, first.stdout);
  assert.equal((await ecs.send(new ListTasksCommand({ cluster }))).taskArns?.length, 0);

  // moto restores at once: the resume finds every pack readable and launches the job.
  const r = await cli(["restore", "--resume", job, ...launch], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /at home \(internet egress\):.*\n.*in us-east-1 \(Fargate job\):/);
  assert.match(r.stderr, /launching permafrost-restore-[0-9a-f]+ \(2 vCPU, 4 GB\) in us-east-1/);
  assert.match(r.stdout, /stopped: exit code 0/);
  const snapshot =
    (await cli(["snapshots", "--json"], env)).stdout.match(/"id": "([0-9a-f]{64})"/)![1];
  const [arn] = (await ecs.send(new ListTasksCommand({ cluster }))).taskArns!;
  const task = (await ecs.send(new DescribeTasksCommand({ cluster, tasks: [arn] }))).tasks![0];
  const definition = await ecs.send(
    new DescribeTaskDefinitionCommand({ taskDefinition: task.taskDefinitionArn }),
  );
  const job_argv = [
    "restore",
    `${snapshot}:/`,
    "--target",
    target,
    "--to",
    "region",
    "--yes",
    "--repo",
    `${location}?region=us-east-1`,
  ];
  assert.deepEqual(definition.taskDefinition?.containerDefinitions?.[0].command, job_argv);
  assert.deepEqual(task.overrides?.containerOverrides?.[0].command, [...job_argv, "--json"]);
  // Once the job succeeded, the restore job that thawed its packs is done.
  const again = await cli(["restore", "--resume", job, ...launch], env);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /there is no restore job/);
});

/** Every pack file of the local repository at `repo`, largest first. */
function packsOf(repo: string): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    for (const e of fs.readdirSync(p, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(p, e.name));
      else out.push(join(p, e.name));
    }
  };
  walk(join(repo, "packs"));
  return out.sort((a, b) => fs.statSync(b).size - fs.statSync(a).size);
}

Deno.test("restore --target s3:// of a file whose pack is corrupt fails, leaving neither its object, nor a multipart upload, nor the manifest", async () => {
  const { bucket } = await newBucket("unused");
  const repo = join(await tempDir(), "repo");
  const env = { ...await motoEnv(), PERMAFROST_REPO: repo, PERMAFROST_S3_PART_SIZE: "5242880" };
  assert.equal((await cli(["init", "--kdf-memlimit", "8MiB"], env)).code, 0);
  const src = await tempDir();
  fs.writeFileSync(join(src, "large.bin"), randomBytes(12 << 20, 5));
  assert.equal((await cli(["backup", src], env)).code, 0);
  const [victim] = packsOf(repo);
  const bytes = fs.readFileSync(victim);
  bytes[bytes.length - 4096] ^= 0xff; // in a late frame: the first parts go up before it is read
  fs.chmodSync(victim, 0o644);
  fs.writeFileSync(victim, bytes);

  const r = await cli(["restore", "latest", "--target", `s3://${bucket}/bad/`], env);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /writing ".*large.bin" to s3:\/\/.*failed/);
  assert.deepEqual(await keys(bucket, "bad/"), []);
  const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  assert.deepEqual(uploads.Uploads ?? [], []);
});

Deno.test("a restore into S3 does not skip an object that holds the same bytes with other metadata: it refuses it", async () => {
  const { bucket } = await newBucket("unused");
  const repo = join(await tempDir(), "repo");
  const env = { ...await motoEnv(), PERMAFROST_REPO: repo };
  assert.equal((await cli(["init", "--kdf-memlimit", "8MiB"], env)).code, 0);
  const src = await tempDir();
  fs.writeFileSync(join(src, "f.txt"), "same bytes\n");
  fs.chmodSync(join(src, "f.txt"), 0o644);
  assert.equal((await cli(["backup", src], env)).code, 0);
  const first = await cli(["restore", "latest", "--target", `s3://${bucket}/p/`], env);
  assert.equal(first.code, 0, first.stderr);
  // As if that run had stopped before its manifest, and the next one restores a later snapshot
  // where only the file's mode changed.
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: "p/.permafrost-restore.json" }));
  fs.chmodSync(join(src, "f.txt"), 0o600);
  assert.equal((await cli(["backup", src], env)).code, 0);
  const r = await cli(["restore", "latest", "--target", `s3://${bucket}/p/`], env);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /already has 1 object .*other content, metadata or class.*f\.txt/);
  assert.deepEqual(await keys(bucket, "p/"), [`p/${basename(src)}/f.txt`]);
});

Deno.test("a rerun of a restore into S3 with --target-class DEEP_ARCHIVE finds its archived manifest finished without reading it", async () => {
  const { bucket, env, top } = fixture;
  const into = ["--target", `s3://${bucket}/cold/`, "--target-class", "DEEP_ARCHIVE"];
  const first = await cli(["restore", `latest:/${top}/docs`, ...into], env);
  assert.equal(first.code, 0, first.stderr);
  const manifest = await s3.send(
    new HeadObjectCommand({ Bucket: bucket, Key: "cold/.permafrost-restore.json" }),
  );
  assert.equal(manifest.StorageClass, "DEEP_ARCHIVE");
  const again = await cli(["restore", `latest:/${top}/docs`, ...into], env);
  assert.equal(again.code, 0, again.stderr);
});

Deno.test("restore --target s3:// --estimate prices the objects it writes and a month of their storage, in the target class", async () => {
  const { bucket, env } = fixture;
  const into = (target: string, ...more: string[]) =>
    cli(["restore", "latest", "--target", target, ...more, "--estimate"], env);
  const s3 = await into(`s3://${bucket}/est/`, "--target-class", "STANDARD_IA");
  assert.equal(s3.code, 0, s3.stderr);
  assert.match(s3.stdout, /PUT requests, STANDARD_IA/);
  assert.match(s3.stdout, /storage, STANDARD_IA/);
  const folder = await into(await tempDir());
  assert.equal(folder.code, 0, folder.stderr);
  assert.doesNotMatch(folder.stdout, /PUT requests/);
  assert.deepEqual(await keys(bucket, "est/"), []);
});

Deno.test("restore --target s3:// refuses a prefix inside the repository's, or holding it, and writes nothing", async () => {
  const { bucket, location, env } = await newBucket("laptop");
  assert.equal((await cli(["init", "--kdf-memlimit", "8MiB"], env)).code, 0);
  const src = await tempDir();
  fs.mkdirSync(join(src, "snapshots"));
  fs.writeFileSync(join(src, "snapshots/note.txt"), "plaintext\n");
  assert.equal((await cli(["backup", src], env)).code, 0);
  const before = await keys(bucket, "");
  for (const target of [`${location}/`, `s3://${bucket}/`]) {
    const r = await cli(["restore", `latest:/${basename(src)}/snapshots`, "--target", target], env);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /overlaps the repository .*restore into a prefix outside it/);
  }
  assert.deepEqual(await keys(bucket, ""), before);
});

Deno.test("a rerun of a restore into S3 with another --target-class refuses the objects of the first class instead of skipping them", async () => {
  const { bucket, env, top } = fixture;
  const into = ["--target", `s3://${bucket}/klass/`];
  const first = await cli(["restore", `latest:/${top}/hello.txt`, ...into], env);
  assert.equal(first.code, 0, first.stderr);
  const r = await cli(
    ["restore", `latest:/${top}/hello.txt`, ...into, "--target-class", "STANDARD_IA"],
    env,
  );
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /already has 2 objects .*or class.*"klass\/hello.txt"/);
});
