import assert from "node:assert/strict";
import { jobSpec } from "./job_spec.ts";
import type { RestorePlan } from "./restore_plan.ts";
import {
  checkTargetOutsideRepository,
  keyOf,
  plannedObjects,
  restoreManifest,
} from "./restore_s3_target.ts";

const file = (size: number) => ({
  name: "x",
  type: "file" as const,
  mode: 0o644,
  mtime: "0",
  size,
  content: size ? ["a".repeat(64)] : [],
});

function plan(entries: RestorePlan["entries"]): RestorePlan {
  return {
    snapshot: "s",
    path: "/",
    entries,
    packs: [],
    files: entries.length,
    dirs: 0,
    bytes: 0,
    readBytes: 0,
    packBytes: 0,
  };
}

Deno.test("a file's key is its path under the prefix, with control characters as %XX and listed in the manifest", () => {
  assert.equal(keyOf("out/", "a/b c.txt"), "out/a/b c.txt");
  assert.equal(keyOf("out/", "line\nbreak\x7f"), "out/line%0Abreak%7F");
  const p = plan([{ rel: "line\nbreak", node: file(1) }, { rel: "plain", node: file(1) }]);
  assert.deepEqual(restoreManifest(p).renamed, [{ path: "line\nbreak", key: "line%0Abreak" }]);
});

Deno.test("a restore into S3 refuses two files that would share a key, a file named as the manifest, and mirrored files", () => {
  assert.throws(
    () =>
      plannedObjects(plan([{ rel: "a\nb", node: file(1) }, { rel: "a%0Ab", node: file(1) }]), ""),
    /would both be the key "a%0Ab"/,
  );
  assert.throws(
    () => plannedObjects(plan([{ rel: ".permafrost-restore.json", node: file(1) }]), "p/"),
    /where the restore writes its manifest/,
  );
  const mirror = { key: "mirror/x", sha256: "0".repeat(64), class: "STANDARD" as const };
  assert.throws(
    () => plannedObjects(plan([{ rel: "m", node: { ...file(0), mirror } }]), "p/"),
    /mirrored objects/,
  );
});

Deno.test("the task role of an in-region restore into S3 may list, read and write the target prefix, and nothing more of its bucket", () => {
  const spec = jobSpec({
    kind: "ecs",
    argv: ["restore", "latest:/", "--target", "s3://out-bucket/restored/", "--yes"],
    repo: "s3://repo-bucket/laptop?region=eu-west-1",
    env: () => undefined,
  });
  assert.equal(spec.role, "reader");
  const added = spec.taskPolicy.Statement.filter((s) => s.Sid.includes("RestoreTarget"));
  assert.deepEqual(added, [
    {
      Sid: "ListRestoreTarget",
      Effect: "Allow",
      Action: ["s3:ListBucket"],
      Resource: ["arn:aws:s3:::out-bucket"],
      Condition: { StringLike: { "s3:prefix": ["restored/*"] } },
    },
    {
      Sid: "WriteRestoreTarget",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
      Resource: ["arn:aws:s3:::out-bucket/restored/*"],
    },
  ]);
  const restoreToFolder = jobSpec({
    kind: "ecs",
    argv: ["restore", "latest:/", "--target", "/tmp/x", "--yes"],
    repo: "s3://repo-bucket/laptop?region=eu-west-1",
    env: () => undefined,
  });
  assert.ok(!restoreToFolder.taskPolicy.Statement.some((s) => s.Sid.includes("RestoreTarget")));
});

Deno.test("a target in S3 overlapping the repository is refused, a sibling prefix or another bucket is not", () => {
  const env = (name: string) => name === "AWS_REGION" ? "us-east-1" : undefined;
  const check = (target: string) => checkTargetOutsideRepository("s3://pf-b/laptop", target, env);
  for (
    const inside of ["s3://pf-b/laptop/", "s3://pf-b/laptop/restored", "s3://pf-b", "s3://pf-b/"]
  ) {
    assert.throws(() => check(inside), /overlaps the repository s3:\/\/pf-b\/laptop\//, inside);
  }
  for (const outside of ["s3://pf-b/laptop-restored/", "s3://pf-b/lap", "s3://pf-c/laptop/"]) {
    check(outside);
  }
  checkTargetOutsideRepository("s3://pf-b/laptop", "/tmp/folder", env);
});
