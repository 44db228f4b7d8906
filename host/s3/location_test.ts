import assert from "node:assert/strict";
import {
  bucketArn,
  checkBucketName,
  normalizePrefix,
  objectArn,
  S3InputError,
  s3Location,
} from "./location.ts";
import { parsePrincipal } from "./principal.ts";

function refuses(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: Error) => {
    assert.ok(e instanceof S3InputError, `${e}`);
    assert.match(e.message, message);
    return true;
  });
}

Deno.test("checkBucketName() accepts names S3 accepts", () => {
  for (const name of ["abc", "my-backups", "my.backups.2024", "a".repeat(63), "0pf-9"]) {
    checkBucketName(name);
  }
});

Deno.test("checkBucketName() names the rule a bad bucket name breaks", () => {
  refuses(() => checkBucketName("ab"), /"ab" must be 3 to 63 characters/);
  refuses(() => checkBucketName("a".repeat(64)), /3 to 63 characters/);
  refuses(() => checkBucketName("My-Bucket"), /only lowercase letters, digits/);
  refuses(() => checkBucketName("my_bucket"), /only lowercase letters, digits/);
  refuses(() => checkBucketName("-bucket"), /begin and end with a letter or a digit/);
  refuses(() => checkBucketName("bucket."), /begin and end with a letter or a digit/);
  refuses(() => checkBucketName("my..bucket"), /two adjacent dots/);
  refuses(() => checkBucketName("192.168.5.4"), /IP address/);
  refuses(() => checkBucketName("xn--bucket"), /must not start with "xn--"/);
  refuses(() => checkBucketName("sthree-bucket"), /must not start with "sthree-"/);
  refuses(() => checkBucketName("amzn-s3-demo-bucket"), /must not start with "amzn-s3-demo-"/);
  refuses(() => checkBucketName("bucket-s3alias"), /must not end with "-s3alias"/);
  refuses(() => checkBucketName("bucket--ol-s3"), /must not end with "--ol-s3"/);
  refuses(() => checkBucketName("s3://bucket/prefix"), /is a URL: give the bucket's name alone/);
});

Deno.test("normalizePrefix() drops outer slashes and keeps inner ones", () => {
  assert.equal(normalizePrefix(""), "");
  assert.equal(normalizePrefix("/"), "");
  assert.equal(normalizePrefix("laptop"), "laptop");
  assert.equal(normalizePrefix("/some/prefix/"), "some/prefix");
  assert.equal(normalizePrefix("Host_1/v(2)/it's-ok!"), "Host_1/v(2)/it's-ok!");
});

Deno.test("normalizePrefix() refuses characters that would act as wildcards or variables", () => {
  refuses(() => normalizePrefix("a/*"), /contains "\*"/);
  refuses(() => normalizePrefix("a?"), /contains "\?"/);
  refuses(() => normalizePrefix("${aws:username}"), /contains "\$"/);
  refuses(() => normalizePrefix("with space"), /contains " "/);
  refuses(() => normalizePrefix("a//b"), /empty part/);
  refuses(() => normalizePrefix("a/../b"), /a "\.\." part/);
  refuses(() => normalizePrefix("x".repeat(513)), /longer than 512/);
});

Deno.test("objectArn() puts layout names under the prefix, or at the root without one", () => {
  const loc = s3Location("my-bucket", "/some/prefix/");
  assert.equal(loc.keyPrefix, "some/prefix/");
  assert.equal(bucketArn(loc), "arn:aws:s3:::my-bucket");
  assert.equal(objectArn(loc, "packs/*"), "arn:aws:s3:::my-bucket/some/prefix/packs/*");
  const root = s3Location("my-bucket");
  assert.equal(root.keyPrefix, "");
  assert.equal(objectArn(root, "config"), "arn:aws:s3:::my-bucket/config");
  assert.equal(objectArn(s3Location("b-cn", "", "aws-cn"), "*"), "arn:aws-cn:s3:::b-cn/*");
  refuses(() => s3Location("my-bucket", "", "mars" as never), /partition "mars"/);
});

Deno.test("parsePrincipal() accepts IAM users, roles (with paths) and an account's root", () => {
  assert.deepEqual(parsePrincipal("arn:aws:iam::123456789012:user/pf-ingest"), {
    arn: "arn:aws:iam::123456789012:user/pf-ingest",
    partition: "aws",
    account: "123456789012",
    kind: "user",
  });
  assert.equal(parsePrincipal("arn:aws:iam::123456789012:role/backup/pf-admin").kind, "role");
  assert.equal(parsePrincipal("arn:aws-cn:iam::123456789012:root").kind, "root");
});

Deno.test("parsePrincipal() says what a usable ARN looks like", () => {
  refuses(() => parsePrincipal("pf-admin"), /not an IAM user or role ARN .*aws iam get-user/);
  refuses(() => parsePrincipal("arn:aws:iam::123:user/x"), /not an IAM user or role ARN/);
  refuses(() => parsePrincipal("arn:aws:iam::123456789012:user/*"), /has a wildcard/);
  refuses(
    () => parsePrincipal("arn:aws:sts::123456789012:assumed-role/admin/session"),
    /is a session; give the role's ARN/,
  );
  refuses(() => parsePrincipal("arn:aws:iam::123456789012:group/admins"), /not an IAM user/);
  refuses(() => parsePrincipal("arn:moon:iam::123456789012:user/x"), /partition "moon"/);
});
