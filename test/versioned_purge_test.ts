/**
 * The admin's deletes on a versioned bucket (docs/s3.md §5, docs/gc.md "Purge"): `forget` and
 * `gc purge` delete every version and delete marker of what they delete, so the space is freed
 * and `permafrost guard` finds nothing to bring back. The real CLI against moto.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { ListObjectVersionsCommand } from "@aws-sdk/client-s3";
import { cli, randomBytes, tempDir } from "./helpers.ts";
import { motoS3 } from "./support/moto_s3.ts";

const { s3, newBucket } = await motoS3();
const PREFIX = "laptop";

/** Every version and delete marker under the prefix: `key` to its versions, markers. */
async function versions(bucket: string) {
  const out = new Map<string, { versions: number; markers: number }>();
  let KeyMarker: string | undefined, VersionIdMarker: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectVersionsCommand({
        Bucket: bucket,
        Prefix: `${PREFIX}/`,
        KeyMarker,
        VersionIdMarker,
      }),
    );
    for (const v of page.Versions ?? []) {
      const e = out.get(v.Key!) ?? { versions: 0, markers: 0 };
      e.versions++;
      out.set(v.Key!, e);
    }
    for (const m of page.DeleteMarkers ?? []) {
      const e = out.get(m.Key!) ?? { versions: 0, markers: 0 };
      e.markers++;
      out.set(m.Key!, e);
    }
    KeyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    VersionIdMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (KeyMarker !== undefined);
  return out;
}

Deno.test("forget and gc purge on a versioned bucket leave no version or delete marker of what they delete, and the guard then finds nothing", async () => {
  const { bucket, env } = await newBucket(PREFIX, { versioning: "Enabled" });
  const init = await cli(["init", "--kdf-memlimit", "8MiB", "--pack-size", "1MiB"], env);
  assert.equal(init.code, 0, init.stderr);
  const src = await tempDir();
  fs.writeFileSync(join(src, "kept.txt"), "kept");
  fs.writeFileSync(join(src, "gone.bin"), randomBytes(2_500_000, 3));
  const first = await cli(["backup", src, "--json"], env);
  assert.equal(first.code, 0, first.stderr);
  fs.rmSync(join(src, "gone.bin"));
  const second = await cli(["backup", src], env);
  assert.equal(second.code, 0, second.stderr);
  const before = await versions(bucket);

  const forget = await cli(["forget", "--keep-last", "1", "--json"], env);
  assert.equal(forget.code, 0, forget.stderr);
  const forgotten = `${PREFIX}/snapshots/${JSON.parse(first.stdout).snapshot}`;
  assert.ok(before.has(forgotten));
  for (const step of [["gc", "mark"], ["gc", "compact"]]) {
    const out = await cli(step, env);
    assert.equal(out.code, 0, out.stderr);
  }
  const purge = await cli(
    ["gc", "purge", "--grace", "0", "--accept-early-fee", "--yes", "--json"],
    env,
  );
  assert.equal(purge.code, 0, purge.stderr);
  const purged = JSON.parse(purge.stdout).result;
  assert.ok(purged.deletedPacks >= 2, purge.stdout); // the 2.5 MB file filled whole packs

  const after = await versions(bucket);
  const gone = [...before.keys()].filter((k) => !after.has(k));
  assert.ok(gone.includes(forgotten), "the forgotten snapshot has no version left");
  assert.ok(gone.filter((k) => k.includes("/packs/")).length >= purged.deletedPacks);
  for (const [key, e] of after) {
    assert.deepEqual(e, { versions: 1, markers: 0 }, key);
  }

  const guard = await cli(["guard", "--dry-run", "--json"], env);
  assert.equal(guard.code, 0, guard.stderr);
  assert.deepEqual(JSON.parse(guard.stdout).changes, []);
});
