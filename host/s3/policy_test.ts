import assert from "node:assert/strict";
import { ingestMayCreate, ingestMayRead, layout } from "../repository/layout.ts";
import { evaluate, type S3Request } from "../../test/support/s3_policy_eval.ts";
import { S3InputError } from "./location.ts";
import {
  bucketPolicy,
  identityPolicy,
  type PolicyDocument,
  type PolicyRole,
  policyRoles,
  policySize,
  policySizeLimits,
} from "./policy.ts";

const ID = "ab".repeat(32);
/** One name of every kind the layout knows, and a stray one. */
const names = [
  layout.config(),
  layout.key(ID),
  layout.index(ID),
  layout.snapshot(ID),
  layout.pack(ID),
  layout.metaCopy(ID),
  "stray/object",
];
const B = "pf-test-bucket";
const ACCOUNT = "arn:aws:iam::123456789012";
const INGEST = `${ACCOUNT}:user/pf-ingest`;
const READER = `${ACCOUNT}:user/pf-reader`;
const ADMIN = `${ACCOUNT}:user/pf-admin`;
/** Request keys of a create with and without `If-None-Match: *`. */
const conditional = { "s3:if-none-match": "*", "s3:ObjectCreationOperation": "true" };
const unconditional = { "s3:ObjectCreationOperation": "true" };
const uploadPart = { "s3:ObjectCreationOperation": "false" };

function req(
  action: string,
  key: string,
  extra: Partial<S3Request> = {},
  prefix = "laptop/",
): S3Request {
  return { action, resource: `arn:aws:s3:::${B}/${prefix}${key}`, ...extra };
}

const variants: { prefix: string; keyPrefix: string }[] = [
  { prefix: "", keyPrefix: "" },
  { prefix: "laptop", keyPrefix: "laptop/" },
  { prefix: "/hosts/laptop/", keyPrefix: "hosts/laptop/" },
];

Deno.test("every identity policy is valid JSON with unique alphanumeric Sids and no Principal", () => {
  for (const role of policyRoles) {
    for (const { prefix } of variants) {
      for (const options of [{}, { versioned: true }, { bypassGovernance: true }]) {
        const doc = identityPolicy(role, B, prefix, options);
        assert.deepEqual(JSON.parse(JSON.stringify(doc)), doc);
        assert.equal(doc.Version, "2012-10-17");
        const sids = doc.Statement.map((s) => s.Sid);
        assert.equal(new Set(sids).size, sids.length, `${role}: ${sids}`);
        for (const s of doc.Statement) {
          assert.match(s.Sid, /^[A-Za-z0-9]+$/);
          assert.equal(s.Principal, undefined);
          assert.ok(s.Action.length > 0 && s.Resource.length > 0);
          for (const a of s.Action) assert.match(a, /^s3:[A-Za-z]+$/);
        }
      }
    }
  }
});

Deno.test("every resource of every identity policy lies under the prefix (or is the bucket)", () => {
  for (const role of policyRoles) {
    for (const { prefix, keyPrefix } of variants) {
      const doc = identityPolicy(role, B, prefix, { bypassGovernance: true });
      for (const s of doc.Statement) {
        for (const r of s.Resource) {
          assert.ok(
            r === `arn:aws:s3:::${B}` || r.startsWith(`arn:aws:s3:::${B}/${keyPrefix}`),
            `${role} statement ${s.Sid} names ${r}`,
          );
          if (r === `arn:aws:s3:::${B}` && keyPrefix !== "") {
            assert.deepEqual(s.Condition, { StringLike: { "s3:prefix": [`${keyPrefix}*`] } });
          }
        }
      }
    }
  }
});

Deno.test("the ingest policy allows no delete, no restore, and no read of packs or meta", () => {
  for (const { prefix, keyPrefix } of variants) {
    const doc = identityPolicy("ingest", B, prefix);
    const allowed = doc.Statement.filter((s) => s.Effect === "Allow").flatMap((s) => s.Action);
    assert.deepEqual(allowed.filter((a) => /Delete|Restore|Bypass|\*/.test(a)), []);
    const everything = `arn:aws:s3:::${B}/${keyPrefix}*`;
    for (const s of doc.Statement.filter((s) => s.Action.includes("s3:GetObject"))) {
      for (const r of s.Resource) {
        assert.doesNotMatch(r, /\/(packs|meta)\//);
        assert.notEqual(r, everything);
      }
    }
  }
});

Deno.test("ingest may create and read exactly what layout.ts says, and nothing outside the prefix", () => {
  const doc = identityPolicy("ingest", B, "laptop");
  for (const name of names) {
    const put = evaluate(req("s3:PutObject", name, { context: conditional }), doc);
    assert.equal(put === "allow", ingestMayCreate(name), `PutObject ${name}: ${put}`);
    const get = evaluate(req("s3:GetObject", name), doc);
    assert.equal(get === "allow", ingestMayRead(name), `GetObject ${name}: ${get}`);
    for (const action of ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:RestoreObject"]) {
      assert.notEqual(evaluate(req(action, name), doc), "allow", `${action} ${name}`);
    }
    assert.notEqual(evaluate(req("s3:GetObject", name, {}, "other/"), doc), "allow");
    assert.notEqual(evaluate(req("s3:GetObject", name, {}, "laptop2/"), doc), "allow");
  }
});

Deno.test("ingest and reader cannot create an object without If-None-Match, even in multipart", () => {
  for (const role of ["ingest", "reader"] as const) {
    const doc = identityPolicy(role, B, "laptop");
    const pack = layout.pack(ID);
    assert.equal(evaluate(req("s3:PutObject", pack, { context: conditional }), doc), "allow");
    // PutObject or CompleteMultipartUpload without the header matches no allow
    assert.equal(
      evaluate(req("s3:PutObject", pack, { context: unconditional }), doc),
      "implicit-deny",
    );
    // CreateMultipartUpload and UploadPart cannot carry the header and stay allowed
    assert.equal(evaluate(req("s3:PutObject", pack, { context: uploadPart }), doc), "allow");
    for (const action of ["s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]) {
      assert.equal(evaluate(req(action, pack), doc), "allow", `${role} ${action}`);
    }
  }
});

Deno.test("identity policies only allow, so a store that ignores conditions still lets roles work", () => {
  const moto = { ignoreConditions: true };
  for (const role of policyRoles) {
    const doc = identityPolicy(role, B, "laptop", { bypassGovernance: true });
    assert.deepEqual(doc.Statement.filter((s) => s.Effect !== "Allow"), [], role);
  }
  const ingest = identityPolicy("ingest", B, "laptop");
  for (const name of names) {
    const put = evaluate(req("s3:PutObject", name), ingest, undefined, moto);
    assert.equal(put === "allow", ingestMayCreate(name), `PutObject ${name}`);
    const get = evaluate(req("s3:GetObject", name), ingest, undefined, moto);
    assert.equal(get === "allow", ingestMayRead(name), `GetObject ${name}`);
    assert.equal(evaluate(req("s3:DeleteObject", name), ingest, undefined, moto), "implicit-deny");
  }
  const admin = identityPolicy("admin", B, "laptop");
  assert.equal(evaluate(req("s3:DeleteObject", layout.pack(ID)), admin, undefined, moto), "allow");
});

Deno.test("listing is allowed only for keys under the prefix", () => {
  for (const role of policyRoles) {
    const doc = identityPolicy(role, B, "laptop");
    const list = (prefix?: string) =>
      evaluate({
        action: "s3:ListBucket",
        resource: `arn:aws:s3:::${B}`,
        context: prefix === undefined ? {} : { "s3:prefix": prefix },
      }, doc);
    assert.equal(list("laptop/"), "allow");
    assert.equal(list("laptop/packs/"), "allow");
    assert.equal(list("laptop2/"), "implicit-deny");
    assert.equal(list(""), "implicit-deny");
    assert.equal(list(), "implicit-deny");
  }
  const root = identityPolicy("ingest", B);
  assert.equal(root.Statement[0].Condition, undefined);
});

Deno.test("the reader reads and restores everything but cannot delete or write keys", () => {
  const doc = identityPolicy("reader", B, "laptop");
  for (const name of names) {
    assert.equal(evaluate(req("s3:GetObject", name), doc), "allow", name);
    assert.notEqual(evaluate(req("s3:DeleteObject", name), doc), "allow", name);
    const put = evaluate(req("s3:PutObject", name, { context: conditional }), doc);
    assert.equal(put === "allow", ingestMayCreate(name), `PutObject ${name}`);
  }
  assert.equal(evaluate(req("s3:RestoreObject", layout.pack(ID)), doc), "allow");
});

Deno.test("the admin deletes, writes config and keys, and deletes versions only when asked", () => {
  const plain = identityPolicy("admin", B, "laptop");
  const versioned = identityPolicy("admin", B, "laptop", { versioned: true });
  const locked = identityPolicy("admin", B, "laptop", { bypassGovernance: true });
  for (const name of names) {
    assert.equal(evaluate(req("s3:DeleteObject", name), plain), "allow", name);
    assert.equal(evaluate(req("s3:GetObject", name), plain), "allow", name);
    assert.equal(evaluate(req("s3:DeleteObjectVersion", name), plain), "implicit-deny");
    assert.equal(evaluate(req("s3:DeleteObjectVersion", name), versioned), "allow");
    assert.equal(evaluate(req("s3:BypassGovernanceRetention", name), versioned), "implicit-deny");
    assert.equal(evaluate(req("s3:BypassGovernanceRetention", name), locked), "allow");
    assert.equal(evaluate(req("s3:DeleteObjectVersion", name), locked), "allow");
  }
  for (const name of [layout.config(), layout.key(ID)]) {
    assert.equal(evaluate(req("s3:PutObject", name, { context: conditional }), plain), "allow");
    assert.equal(evaluate(req("s3:PutObject", name, { context: unconditional }), plain), "allow");
  }
  const listVersions = {
    action: "s3:ListBucketVersions",
    resource: `arn:aws:s3:::${B}`,
    context: { "s3:prefix": "laptop/" },
  };
  assert.equal(evaluate(listVersions, plain), "implicit-deny");
  assert.equal(evaluate(listVersions, versioned), "allow");
});

Deno.test("each role is a superset of the one before it", () => {
  const probes: S3Request[] = names.flatMap((name) =>
    [
      "s3:GetObject",
      "s3:RestoreObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
    ].map((action) => req(action, name)).concat([
      req("s3:PutObject", name, { context: conditional }),
    ])
  );
  const docs = policyRoles.map((r) => identityPolicy(r, B, "laptop"));
  for (const probe of probes) {
    const allowed = docs.map((d) => evaluate(probe, d) === "allow");
    assert.ok(!allowed[0] || allowed[1], `ingest but not reader: ${JSON.stringify(probe)}`);
    assert.ok(!allowed[1] || allowed[2], `reader but not admin: ${JSON.stringify(probe)}`);
  }
});

Deno.test("identity policies for a 40-character bucket and a 30-character prefix fit one IAM user", () => {
  for (const role of policyRoles) {
    for (const [bucket, prefix] of [["b".repeat(40), "p".repeat(30)], ["b".repeat(63), ""]]) {
      const doc = identityPolicy(role, bucket, prefix, { bypassGovernance: true });
      assert.ok(policySize(doc) <= policySizeLimits.userInline, `${role}: ${policySize(doc)}`);
    }
  }
  const spaced = identityPolicy("admin", B, "laptop");
  assert.equal(policySize(spaced), JSON.stringify(spaced).length);
  assert.ok(policySize(spaced) < JSON.stringify(spaced, null, 2).length);
});

Deno.test("identityPolicy() refuses an unknown role and a bad bucket with S3InputError", () => {
  assert.throws(() => identityPolicy("root" as PolicyRole, B), S3InputError);
  assert.throws(() => identityPolicy("ingest", "Bad_Bucket"), /only lowercase letters/);
  assert.throws(() => identityPolicy("ingest", B, "a*b"), /contains "\*"/);
});

const principals = { ingestPrincipals: [INGEST], adminPrincipals: [ADMIN] };

Deno.test("the bucket policy denies deletes to everyone but the admins, whatever they hold", () => {
  const bucket = bucketPolicy(B, "laptop", principals);
  const admin = identityPolicy("admin", B, "laptop", { versioned: true });
  for (const name of names) {
    for (const action of ["s3:DeleteObject", "s3:DeleteObjectVersion"]) {
      // a non-admin that was (wrongly) given the admin identity policy
      for (const who of [INGEST, READER, `${ACCOUNT}:role/other`, undefined]) {
        const r = req(action, name, { principalArn: who });
        assert.equal(evaluate(r, admin, bucket), "deny", `${who} ${action} ${name}`);
      }
      assert.equal(evaluate(req(action, name, { principalArn: ADMIN }), admin, bucket), "allow");
    }
  }
});

Deno.test("the bucket policy denies writes without If-None-Match to everyone but the admins", () => {
  const bucket = bucketPolicy(B, "laptop", principals);
  const reader = identityPolicy("reader", B, "laptop");
  const admin = identityPolicy("admin", B, "laptop");
  const pack = layout.pack(ID);
  for (const who of [INGEST, READER]) {
    const put = (context: Record<string, string>) =>
      evaluate(req("s3:PutObject", pack, { principalArn: who, context }), reader, bucket);
    assert.equal(put(conditional), "allow");
    assert.equal(put(uploadPart), "allow");
    assert.equal(put(unconditional), "deny");
  }
  const adminPut = req("s3:PutObject", pack, { principalArn: ADMIN, context: unconditional });
  assert.equal(evaluate(adminPut, admin, bucket), "allow");
});

Deno.test("the bucket policy keeps config and keys admin-only and pack data from ingest", () => {
  const bucket = bucketPolicy(B, "laptop", principals);
  const admin = identityPolicy("admin", B, "laptop");
  const ingest = identityPolicy("ingest", B, "laptop");
  for (const name of [layout.config(), layout.key(ID)]) {
    const put = (who: string) =>
      req("s3:PutObject", name, { principalArn: who, context: conditional });
    assert.equal(evaluate(put(READER), admin, bucket), "deny");
    assert.equal(evaluate(put(ADMIN), admin, bucket), "allow");
    // hot reads still work for ingest through the bucket policy
    assert.equal(
      evaluate(req("s3:GetObject", name, { principalArn: INGEST }), ingest, bucket),
      "allow",
    );
  }
  for (const name of [layout.pack(ID), layout.metaCopy(ID)]) {
    for (const action of ["s3:GetObject", "s3:GetObjectVersion", "s3:RestoreObject"]) {
      const r = req(action, name, { principalArn: INGEST });
      assert.equal(evaluate(r, admin, bucket), "deny", `${action} ${name}`);
    }
    // the same requests from a reader pass the bucket policy
    const reader = identityPolicy("reader", B, "laptop");
    const get = req("s3:GetObject", name, { principalArn: READER });
    assert.equal(evaluate(get, reader, bucket), "allow");
    if (name.startsWith("packs/")) {
      assert.equal(evaluate({ ...get, action: "s3:RestoreObject" }, reader, bucket), "allow");
    }
  }
});

Deno.test("the bucket policy is valid JSON, names only objects under the prefix, and has unique Sids", () => {
  for (const { prefix, keyPrefix } of variants) {
    const doc = bucketPolicy(B, prefix, {
      ingestPrincipals: [INGEST, `${ACCOUNT}:role/pf-ingest-fleet`],
      adminPrincipals: [ADMIN],
    });
    assert.deepEqual(JSON.parse(JSON.stringify(doc)), doc);
    const sids = doc.Statement.map((s) => s.Sid);
    assert.equal(new Set(sids).size, sids.length);
    for (const s of doc.Statement) {
      assert.equal(s.Effect, "Deny", `${s.Sid} grants nothing`);
      assert.ok(s.Principal !== undefined);
      for (const r of s.Resource) assert.ok(r.startsWith(`arn:aws:s3:::${B}/${keyPrefix}`), r);
    }
    assert.ok(policySize(doc) < policySizeLimits.bucket);
  }
});

Deno.test("bucketPolicy() refuses principals it cannot use, saying why", () => {
  const refuses = (p: Partial<typeof principals>, message: RegExp) =>
    assert.throws(() => bucketPolicy(B, "", { ...principals, ...p }), (e: Error) => {
      assert.ok(e instanceof S3InputError, `${e}`);
      assert.match(e.message, message);
      return true;
    });
  refuses({ adminPrincipals: [] }, /at least one admin principal/);
  refuses({ ingestPrincipals: [] }, /at least one ingest principal/);
  refuses({ adminPrincipals: ["pf-admin"] }, /not an IAM user or role ARN/);
  refuses({ ingestPrincipals: [`${ACCOUNT}:user/*`] }, /wildcard/);
  refuses({ ingestPrincipals: [ADMIN] }, /both admin and ingest/);
  refuses({ ingestPrincipals: [`${ACCOUNT}:root`] }, /whole account/);
  refuses(
    { ingestPrincipals: ["arn:aws-cn:iam::123456789012:user/cn"] },
    /partition "aws-cn", the bucket in "aws"/,
  );
});

Deno.test("bucketPolicy() takes its partition from the principals", () => {
  const doc = bucketPolicy(B, "", {
    ingestPrincipals: ["arn:aws-cn:iam::123456789012:user/i"],
    adminPrincipals: ["arn:aws-cn:iam::123456789012:user/a"],
  });
  for (const s of doc.Statement) {
    for (const r of s.Resource) assert.ok(r.startsWith(`arn:aws-cn:s3:::${B}/`), r);
  }
});

Deno.test("an unknown condition operator fails the test evaluator instead of passing", () => {
  const doc: PolicyDocument = {
    Version: "2012-10-17",
    Statement: [{
      Sid: "X",
      Effect: "Allow",
      Action: ["s3:GetObject"],
      Resource: ["*"],
      Condition: { IpAddress: { "aws:SourceIp": "10.0.0.0/8" } },
    }],
  };
  assert.throws(() => evaluate(req("s3:GetObject", "config"), doc), /does not know/);
});

Deno.test("the reader and the admin may list interrupted uploads under the prefix; ingest may not", () => {
  const listUploads = (doc: ReturnType<typeof identityPolicy>, prefix: string) =>
    evaluate({
      action: "s3:ListBucketMultipartUploads",
      resource: `arn:aws:s3:::${B}`,
      context: { "s3:prefix": prefix },
    }, doc);
  assert.equal(listUploads(identityPolicy("ingest", B, "laptop"), "laptop/"), "implicit-deny");
  for (const role of ["reader", "admin"] as const) {
    const doc = identityPolicy(role, B, "laptop");
    assert.equal(listUploads(doc, "laptop/"), "allow", role);
    assert.equal(listUploads(doc, "laptop2/"), "implicit-deny", role);
  }
});

Deno.test("with a versioned mirror the bucket policy lets ingest and reader write mirror/* without If-None-Match, and nothing else, and still denies them deletes there", () => {
  const bucket = bucketPolicy(B, "laptop", { ...principals, versionedMirror: true });
  const plain = bucketPolicy(B, "laptop", principals);
  const mirrored = layout.mirror("site", "index.html");
  for (const role of ["ingest", "reader"] as const) {
    const who = role === "ingest" ? INGEST : READER;
    const identity = identityPolicy(role, B, "laptop", { mirror: true, versioned: true });
    const put = (name: string, doc = bucket) =>
      evaluate(
        req("s3:PutObject", name, { principalArn: who, context: unconditional }),
        identity,
        doc,
      );
    assert.equal(put(mirrored), "allow", role);
    assert.equal(put(mirrored, plain), "deny", `${role}: the plain bucket policy denies it`);
    // Every repository name stays denied outright; a name outside the layout is left to the
    // identity policies, which grant it nothing.
    for (const name of names) {
      assert.equal(
        put(name),
        name === "stray/object" ? "implicit-deny" : "deny",
        `${role} ${name}`,
      );
    }
    for (const action of ["s3:DeleteObject", "s3:DeleteObjectVersion"]) {
      const r = req(action, mirrored, { principalArn: who });
      assert.equal(
        evaluate(r, identityPolicy("admin", B, "laptop", { versioned: true }), bucket),
        "deny",
      );
    }
  }
  const adminPut = req("s3:PutObject", layout.pack(ID), {
    principalArn: ADMIN,
    context: unconditional,
  });
  assert.equal(evaluate(adminPut, identityPolicy("admin", B, "laptop"), bucket), "allow");
});
