/**
 * The `vm-delta` engine end to end, through the real CLI: a sparse disk image backed up four
 * times with small in-place writes between the backups (a database page, a log's tail), on a
 * local repository and on S3 served by moto (test/rig/moto.ts, the cold-restore flow as
 * test/worm_s3_test.ts runs it). A later backup stores only the blocks written; a restore of an
 * old version and of the newest gives each back byte for byte, and sparse; the one blob of
 * zeros every hole shares is read once.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { layout } from "../host/repository/layout.ts";
import { awsEnv, cli, randomBytes, tempDir } from "./helpers.ts";
import { RESTORE_MODEL, startMoto } from "./rig/moto.ts";

const MiB = 1 << 20;
const SIZE = 48 * MiB;
const BLOCK = 64 << 10;

/** A sparse image: a few MiB of data at scattered offsets, holes elsewhere. */
function writeImage(path: string): void {
  const fd = fs.openSync(path, "w");
  try {
    fs.ftruncateSync(fd, SIZE);
    fs.writeSync(fd, randomBytes(MiB, 1), 0, MiB, 0); // boot sector and superblock area
    fs.writeSync(fd, randomBytes(3 * MiB, 2), 0, 3 * MiB, 8 * MiB); // files
    fs.writeSync(fd, randomBytes(2 * MiB, 3), 0, 2 * MiB, 30 * MiB); // a database
    fs.writeSync(fd, randomBytes(256 << 10, 4), 0, 256 << 10, 40 * MiB); // a log
  } finally {
    fs.closeSync(fd);
  }
}

/** What a running guest writes between two backups: one database page, and the log's tail. */
function smallWrites(path: string, round: number): void {
  const fd = fs.openSync(path, "r+");
  try {
    fs.writeSync(fd, randomBytes(4096, 100 + round), 0, 4096, 30 * MiB + round * 40_960);
    const tail = randomBytes(3000, 200 + round);
    fs.writeSync(fd, tail, 0, tail.length, 40 * MiB + (256 << 10) + round * 3000);
  } finally {
    fs.closeSync(fd);
  }
}

/** Backs up `src` with vm-delta four times, writing a little in between; the snapshots. */
async function fourVersions(src: string, env: Record<string, string>) {
  const image = join(src, "disk.img");
  writeImage(image);
  const versions: { id: string; bytes: Buffer; newBytes: number }[] = [];
  for (let round = 0; round < 4; round++) {
    if (round > 0) smallWrites(image, round);
    const out = await cli(["backup", "--engine", "vm-delta", src, "--json"], env);
    assert.equal(out.code, 0, out.stderr);
    const r = JSON.parse(out.stdout);
    assert.equal(r.engine, "vm-delta");
    versions.push({ id: r.snapshot, bytes: fs.readFileSync(image), newBytes: r.stats.newBytes });
  }
  return versions;
}

/** Restores `snapshot` to a new folder; the image there and the restore's --json. */
async function restore(snapshot: string, env: Record<string, string>, cold = false) {
  const target = await tempDir();
  let out = await cli(["restore", snapshot, "--target", target, "--json"], env);
  if (cold && out.code === 4) {
    out = await cli(["restore", "--resume", JSON.parse(out.stdout).job, "--json"], env);
  }
  assert.equal(out.code, 0, out.stderr);
  return { path: join(target, "src", "disk.img"), json: JSON.parse(out.stdout) };
}

/** The restored image is the version byte for byte, and sparse: its holes are holes. */
function assertSameAndSparse(path: string, expected: Buffer, what: string): void {
  assert.ok(fs.readFileSync(path).equals(expected), `${what}: not byte-identical`);
  const st = Deno.statSync(path);
  assert.equal(st.size, SIZE);
  assert.ok(st.blocks! * 512 < 10 * MiB, `${what}: ${st.blocks! * 512} bytes allocated`);
}

Deno.test("vm-delta on a local repository: a later backup stores only the blocks written, and the restore of an old and of the newest version is byte-identical and sparse, the zeros' pack read once", async () => {
  const env = {
    PERMAFROST_REPO: join(await tempDir(), "repo"),
    PERMAFROST_CACHE_DIR: await tempDir(),
    PERMAFROST_STATE_DIR: await tempDir(),
  };
  const init = await cli(["init", "--kdf-memlimit", "8MiB", "--pack-size", "4MiB"], env);
  assert.equal(init.code, 0, init.stderr);
  const src = join(await tempDir(), "src");
  fs.mkdirSync(src);
  const versions = await fourVersions(src, env);
  assert.ok(versions[0].newBytes >= 6 * MiB, `first: ${versions[0].newBytes}`);
  for (const v of versions.slice(1)) {
    // One page and a log tail: at most three 64 KiB blocks (the tail may straddle two).
    assert.ok(v.newBytes > 0 && v.newBytes <= 3 * BLOCK, `later backup stored ${v.newBytes}`);
  }
  for (const [i, v] of [[1, versions[1]], [3, versions[3]]] as const) {
    const { path, json } = await restore(v.id, env);
    assertSameAndSparse(path, v.bytes, `version ${i}`);
    // The blob of zeros fills 600-odd blocks of the image: its frame is read once.
    assert.ok(json.readBytes <= json.packBytes, `${json.readBytes} > ${json.packBytes}`);
  }
});

Deno.test("vm-delta on S3 (moto): packs in DEEP_ARCHIVE, and the cold restore of an old and of the newest version is byte-identical and sparse", async () => {
  const moto = await startMoto();
  try {
    await moto.setTransition(RESTORE_MODEL, null); // restored at the next request
    const credentials = { accessKeyId: "permafrost-test", secretAccessKey: "permafrost-test" };
    const s3 = new S3Client({
      region: "us-east-1",
      endpoint: moto.endpoint,
      forcePathStyle: true,
      credentials,
    });
    const bucket = `pf-vm-${crypto.randomUUID().slice(0, 8)}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const env = {
      ...await awsEnv(moto.endpoint),
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      PERMAFROST_REPO: `s3://${bucket}/vm`,
    };
    const init = await cli(["init", "--kdf-memlimit", "8MiB", "--pack-size", "4MiB"], env);
    assert.equal(init.code, 0, init.stderr);
    const src = join(await tempDir(), "src");
    fs.mkdirSync(src);
    const versions = await fourVersions(src, env);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "vm/" }));
    const packs = (listed.Contents ?? []).filter((o) =>
      o.Key!.slice("vm/".length).startsWith(layout.prefixes.pack)
    );
    assert.ok(packs.length > 0 && packs.every((o) => o.StorageClass === "DEEP_ARCHIVE"));
    for (const [i, v] of [[0, versions[0]], [3, versions[3]]] as const) {
      const { path } = await restore(v.id, env, true);
      assertSameAndSparse(path, v.bytes, `version ${i}`);
    }
    s3.destroy();
  } finally {
    moto.kill();
  }
});
