import assert from "node:assert/strict";
import { cli } from "./helpers.ts";

// `s3 policy` needs no repository: point PERMAFROST_REPO nowhere to prove it.
const env = { PERMAFROST_REPO: "/nonexistent/permafrost-repo", PERMAFROST_PASSWORD: "" };
const ADMIN = "arn:aws:iam::123456789012:user/pf-admin";
const INGEST = "arn:aws:iam::123456789012:user/pf-ingest";

Deno.test("s3 policy --role prints an identity policy for each role, under the prefix", async () => {
  for (const role of ["ingest", "reader", "admin"]) {
    const r = await cli(
      ["s3", "policy", "--role", role, "--bucket", "my-bucket", "--prefix", "pc"],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.Version, "2012-10-17");
    const actions = doc.Statement.filter((s: any) => s.Effect === "Allow").flatMap((s: any) =>
      s.Action
    );
    assert.equal(actions.includes("s3:DeleteObject"), role === "admin", role);
    assert.equal(actions.includes("s3:RestoreObject"), role !== "ingest", role);
    for (const s of doc.Statement) {
      for (const res of s.Resource) assert.match(res, /^arn:aws:s3:::my-bucket(\/pc\/|$)/);
    }
  }
});

Deno.test("s3 policy --versioned and --bypass-governance extend the admin policy", async () => {
  const r = await cli([
    "s3",
    "policy",
    "--role",
    "admin",
    "--bucket",
    "my-bucket",
    "--bypass-governance",
  ], env);
  assert.equal(r.code, 0, r.stderr);
  const actions = JSON.parse(r.stdout).Statement.flatMap((s: any) => s.Action);
  for (
    const a of ["s3:DeleteObjectVersion", "s3:ListBucketVersions", "s3:BypassGovernanceRetention"]
  ) {
    assert.ok(actions.includes(a), a);
  }
});

Deno.test("s3 policy --bucket-policy denies deletes to all but the admins", async () => {
  const r = await cli([
    "s3",
    "policy",
    "--bucket-policy",
    "--bucket",
    "my-bucket",
    "--prefix",
    "/pc/",
    "--ingest-principal",
    INGEST,
    "--ingest-principal",
    "arn:aws:iam::123456789012:role/pf-ingest-fleet",
    "--admin-principal",
    ADMIN,
  ], env);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  const deletes = doc.Statement.find((s: any) => s.Action.includes("s3:DeleteObject"));
  assert.equal(deletes.Effect, "Deny");
  assert.equal(deletes.Principal, "*");
  assert.deepEqual(deletes.Condition, { ArnNotLike: { "aws:PrincipalArn": [ADMIN] } });
  assert.deepEqual(deletes.Resource, ["arn:aws:s3:::my-bucket/pc/*"]);
  const ingest = doc.Statement.find((s: any) => s.Principal?.AWS);
  assert.equal(ingest.Principal.AWS.length, 2);
});

Deno.test("s3 policy reports usage mistakes on one line with status 2", async () => {
  const cases: [string[], RegExp][] = [
    [["s3"], /^permafrost: s3 needs a command: use "s3 policy"/],
    [["s3", "policy", "--role", "ingest"], /needs --bucket BUCKET/],
    [["s3", "policy", "--bucket", "my-bucket"], /needs --role ingest\|reader\|admin/],
    [["s3", "policy", "--role", "owner", "--bucket", "my-bucket"], /--role must be one of/],
    [["s3", "policy", "--role", "ingest", "--bucket", "My_Bucket"], /only lowercase letters/],
    [["s3", "policy", "--role", "ingest", "--bucket", "b-1", "--prefix", "a*"], /contains "\*"/],
    [["s3", "policy", "--role", "ingest", "--bucket", "b-1", "--versioned"], /only the admin/],
    [
      ["s3", "policy", "--bucket-policy", "--bucket", "b-1", "--admin-principal", ADMIN],
      /needs --ingest-principal/,
    ],
    [
      [
        "s3",
        "policy",
        "--bucket-policy",
        "--bucket",
        "b-1",
        "--ingest-principal",
        INGEST,
        "--admin-principal",
        "admin",
      ],
      /not an IAM user or role ARN/,
    ],
    [
      [
        "s3",
        "policy",
        "--bucket-policy",
        "--role",
        "admin",
        "--bucket",
        "b-1",
        "--ingest-principal",
        INGEST,
        "--admin-principal",
        ADMIN,
      ],
      /--role belongs to identity policies/,
    ],
  ];
  for (const [args, message] of cases) {
    const r = await cli(args, env);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, message);
    assert.match(r.stderr, /run "permafrost s3 --help" for usage/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  }
});

Deno.test("s3 policy notes on stderr when a policy is too big for one user's inline policies", async () => {
  const r = await cli([
    "s3",
    "policy",
    "--role",
    "admin",
    "--bucket",
    "b".repeat(63),
    "--prefix",
    "p".repeat(100),
  ], env);
  assert.equal(r.code, 0, r.stderr);
  JSON.parse(r.stdout);
  assert.match(r.stderr, /more than the 2048 .*aws iam create-policy/);
});

Deno.test("s3 --help prints the help text", async () => {
  const r = await cli(["s3", "--help"], env);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^permafrost s3: IAM policies/);
  assert.match(r.stdout, /--bucket-policy/);
});
