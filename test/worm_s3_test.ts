/**
 * The `worm` engine and never-change files on S3, end to end: the real CLI against moto
 * (test/rig/moto.ts), as test/s3_flow_test.ts runs it. A worm backup puts its packs in
 * DEEP_ARCHIVE; a changed file is a finding whose restore command, after the cold-restore flow
 * (request, exit 4, `--resume`), gives the original back byte for byte, as does the newest
 * snapshot; a never-change glob under `dedup` finds a change the same way (docs/engines.md).
 *
 * One moto for the file, a fresh bucket per test.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { layout } from "../host/repository/layout.ts";
import { cli, randomBytes, tempDir } from "./helpers.ts";
import { RESTORE_MODEL } from "./rig/moto.ts";
import { motoS3 } from "./support/moto_s3.ts";

const { moto, s3, newBucket } = await motoS3();
const PREFIX = "scanner/archive";

/** A new bucket holding a repository at `s3://BUCKET/scanner/archive`, and a source folder. */
async function setup() {
  const { bucket, env } = await newBucket(PREFIX);
  const init = await cli(["init", "--kdf-memlimit", "8MiB", "--pack-size", "1MiB"], env);
  assert.equal(init.code, 0, init.stderr);
  const src = join(await tempDir(), "archive");
  fs.mkdirSync(join(src, "scans"), { recursive: true });
  fs.writeFileSync(join(src, "scans", "deed.tif"), randomBytes(700_000, 7));
  fs.writeFileSync(join(src, "scans", "map.tif"), randomBytes(900_000, 8));
  fs.writeFileSync(join(src, "letter.txt"), "the original letter");
  return { bucket, env, src };
}

/** The storage class of each pack under the repository's prefix. */
async function packClasses(bucket: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${PREFIX}/` }));
  return (out.Contents ?? [])
    .filter((o) => o.Key!.slice(PREFIX.length + 1).startsWith(layout.prefixes.pack))
    .map((o) => o.StorageClass!);
}

/**
 * Runs `restore ARGS` through the cold-restore flow: the first run requests the DEEP_ARCHIVE
 * packs and exits 4 (unless they are readable already), moto restores them at its next request,
 * and `--resume` restores. Returns the first run's exit status.
 */
async function coldRestore(env: Record<string, string>, args: string[]): Promise<number> {
  const first = await cli(["restore", ...args, "--json"], env);
  if (first.code === 0) return 0;
  assert.equal(first.code, 4, first.stderr);
  const { job } = JSON.parse(first.stdout);
  const done = await cli(["restore", "--resume", job], env);
  assert.equal(done.code, 0, done.stderr);
  return first.code;
}

Deno.test("a worm backup on S3 keeps its packs in DEEP_ARCHIVE, reports a changed file, and the cold restore of the newest snapshot and of the finding's command give the originals back byte for byte", async () => {
  await moto.setTransition(RESTORE_MODEL, null); // "immediate": restored at the next request
  const { bucket, env, src } = await setup();
  const first = await cli(["backup", "--engine", "worm", src, "--json"], env);
  assert.equal(first.code, 0, first.stderr);
  const firstId: string = JSON.parse(first.stdout).snapshot;
  const classes = await packClasses(bucket);
  assert.ok(classes.length > 0 && classes.every((c) => c === "DEEP_ARCHIVE"), `${classes}`);

  const originals = new Map(
    ["scans/deed.tif", "scans/map.tif", "letter.txt"].map((
      f,
    ) => [f, fs.readFileSync(join(src, f))]),
  );
  fs.writeFileSync(join(src, "scans", "deed.tif"), randomBytes(700_000, 9)); // same size
  const second = await cli(["backup", "--engine", "worm", src], env);
  assert.equal(second.code, 5, second.stderr);
  const command = second.stdout.match(
    /changed: ".*deed\.tif" \(original in snapshot [0-9a-f]{8}\): (permafrost restore (\S+) --target DIR)/,
  );
  assert.ok(command, second.stdout);
  assert.equal(command[2], `${firstId}:/archive/scans/deed.tif`);

  // The newest snapshot keeps the original of the changed file.
  const latest = await tempDir();
  assert.equal(await coldRestore(env, ["latest", "--target", latest]), 4, "packs were cold");
  for (const [f, bytes] of originals) {
    assert.deepEqual(fs.readFileSync(join(latest, "archive", f)), bytes, f);
  }
  // The finding's own command, as printed.
  const one = await tempDir();
  await coldRestore(env, [command[2], "--target", one]);
  assert.deepEqual(fs.readFileSync(join(one, "deed.tif")), originals.get("scans/deed.tif"));
});

Deno.test("--never-change on an S3 repository: a changed protected file is a finding in the backup's --json, exit 5, and in worm status; an unprotected change is none", async () => {
  const { env, src } = await setup();
  const args = ["backup", "--never-change", "scans/*.tif", src];
  const first = await cli(args, env);
  assert.equal(first.code, 0, first.stderr);

  fs.writeFileSync(join(src, "letter.txt"), "not protected: no glob names it");
  const quiet = await cli([...args, "--json"], env);
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.deepEqual(JSON.parse(quiet.stdout).findings, []);

  const map = join(src, "scans", "map.tif");
  const st = fs.statSync(map);
  fs.writeFileSync(map, randomBytes(900_000, 10));
  fs.utimesSync(map, st.atime, st.mtime); // only the content says it changed
  const status = await cli(["worm", "status", src, "--json"], env);
  assert.equal(status.code, 5, status.stderr);
  assert.deepEqual(
    JSON.parse(status.stdout).sources[0].findings.map((f: { kind: string; rel: string }) => [
      f.kind,
      f.rel,
    ]),
    [["changed", "scans/map.tif"]],
  );
  const changed = await cli([...args, "--json"], env);
  assert.equal(changed.code, 5, changed.stderr);
  const [finding] = JSON.parse(changed.stdout).findings;
  assert.equal(finding.rel, "scans/map.tif");
  assert.match(finding.restore, /^permafrost restore [0-9a-f]{64}:\/archive\/scans\/map\.tif/);
});
