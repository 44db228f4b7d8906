/**
 * The IAM policies that give each role (docs/security.md §1, docs/s3.md §3) exactly its storage
 * rights on S3, and the bucket policy that holds even when an identity gets more than its role.
 * Pure functions returning JSON-ready documents; docs/s3.md explains how to attach them.
 *
 * | role   | may                                                                              |
 * |--------|----------------------------------------------------------------------------------|
 * | ingest | list the prefix; create `packs/`, `meta/`, `index/`, `snapshots/`; read `config`, `keys/`, `index/`, `snapshots/` |
 * | reader | ingest's creates; read everything under the prefix; request restores of `packs/` |
 * | admin  | reader's rights; create `config` and `keys/`; delete (versions too if `versioned`) |
 *
 * What each role may create and read comes from `ingestMayCreate`/`ingestMayRead`
 * (host/repository/layout.ts, docs/format.md §2), through the name prefixes below.
 *
 * Create-only writes: ingest and reader policies allow `s3:PutObject` only on requests that
 * carry `If-None-Match` (condition key `s3:if-none-match` present) or that do not create the
 * object (`s3:ObjectCreationOperation` false: CreateMultipartUpload and UploadPart, which
 * cannot carry the header), the form of AWS's own example in
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes-enforce.html.
 * A create without the header matches no allow and is denied. The bucket policy adds the same
 * rule as an explicit deny, which no other identity policy can override. Allows (rather than
 * denies) in identity policies also keep them usable on stores that ignore conditions: moto
 * treats a condition it does not evaluate as met, which turns a conditional deny into a deny of
 * every write, but a conditional allow into a plain allow. The admin is exempt: it can delete
 * anyway, and server-side copies (which a bucket that enforces conditional writes refuses) stay
 * possible for in-region admin jobs.
 *
 * Mirrors (`mirror`: the `sync` engine, docs/engines.md): every role may also ask the bucket's
 * versioning (`s3:GetBucketVersioning`, before any upload), create `mirror/*` like backup
 * objects, read the mirror's readable manifests (ingest) or every version (reader), and
 * request restores of mirrored objects. On a `versioned` bucket a mirror's objects are written
 * as new versions of their keys, without `If-None-Match` (the bucket keeps the old ones):
 * ingest and reader may then put `mirror/*` unconditionally and list versions. Without
 * `mirror` none of this is granted.
 *
 * @module
 */

import { layout } from "../repository/layout.ts";
import {
  bucketArn,
  objectArn,
  type Partition,
  S3InputError,
  type S3Location,
  s3Location,
} from "./location.ts";
import { parsePrincipal } from "./principal.ts";

/** One statement of a policy document. `Principal` appears only in bucket policies. */
export interface PolicyStatement {
  /** Unique in its document, letters and digits only, named for what it allows or denies. */
  Sid: string;
  Effect: "Allow" | "Deny";
  Principal?: "*" | { AWS: string[] };
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** An IAM policy document, ready for `JSON.stringify`. */
export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

export type PolicyRole = "ingest" | "reader" | "admin";
export const policyRoles: readonly PolicyRole[] = ["ingest", "reader", "admin"];

/** Options of `identityPolicy`. */
export interface IdentityPolicyOptions {
  /**
   * The bucket keeps versions (S3 Versioning or Object Lock): the admin may then also list
   * versions and delete them (`s3:ListBucketVersions`, `s3:DeleteObjectVersion`), which purging
   * needs, since a plain delete there only adds a delete marker.
   */
  versioned?: boolean;
  /**
   * Object Lock in governance mode: the admin may delete locked versions before their
   * retention ends (`s3:BypassGovernanceRetention`; the request must also say so). Implies
   * `versioned`.
   */
  bypassGovernance?: boolean;
  /** The repository holds a `sync` mirror (see the module doc). */
  mirror?: boolean;
  partition?: Partition;
}

/** Options of `bucketPolicy`. */
export interface BucketPolicyPrincipals {
  /** IAM users or roles holding ingest credentials: denied reading pack data at all. */
  ingestPrincipals: string[];
  /** IAM users or roles that may delete and write without `If-None-Match`. At least one. */
  adminPrincipals: string[];
  /**
   * The repository holds a `sync` mirror written as versions (`s3 policy --mirror
   * --versioned`): the deny of writes without `If-None-Match` then leaves out `mirror/*`,
   * whose objects ingest and reader write as new versions, unconditionally. Deletes stay the
   * admins' there too.
   */
  versionedMirror?: boolean;
  partition?: Partition;
}

/** IAM's size quotas, in characters other than whitespace (IAM does not count whitespace). */
export const policySizeLimits = {
  /** All inline policies of one IAM user together. */
  userInline: 2048,
  /** All inline policies of one IAM role together. */
  roleInline: 10240,
  /** One customer managed policy. */
  managed: 6144,
  /** A bucket policy (20 KB). */
  bucket: 20480,
} as const;

/** A document's size as IAM counts it against `policySizeLimits`. */
export function policySize(doc: PolicyDocument): number {
  return JSON.stringify(doc).replace(/\s/g, "").length;
}

// Object names by what they hold (docs/format.md §2); `*` matches any id.
const { pack, meta, index, snapshot, key } = layout.prefixes;
const backupWrites = [pack + "*", meta + "*", index + "*", snapshot + "*"];
const hotReads = [layout.config(), key + "*", index + "*", snapshot + "*"];
const adminOnlyWrites = [layout.config(), key + "*"];
const packData = [pack + "*", meta + "*"];
const coldObjects = [pack + "*"];
const mirrorWrites = [layout.prefixes.mirror + "*"];
const mirrorManifests = [layout.prefixes.mirror + "*/.permafrost/*"];

/**
 * The identity policy for `role` on `s3://bucket/prefix`, for `aws iam put-user-policy`
 * (or `put-role-policy`, or `create-policy`). Throws `S3InputError` for a bucket name S3
 * refuses or a prefix that cannot appear in an ARN. Every resource lies under the prefix, and
 * listing is limited to keys under it. Its statements, in order: listing, creating
 * ({@link createStatements}), aborting uploads, reading ({@link readStatements}) and, for the
 * admin, deleting ({@link deleteStatements}).
 */
export function identityPolicy(
  role: PolicyRole,
  bucket: string,
  prefix = "",
  options: IdentityPolicyOptions = {},
): PolicyDocument {
  if (!policyRoles.includes(role)) {
    throw new S3InputError(`role "${role}" is not one of ${policyRoles.join(", ")}`);
  }
  const loc = s3Location(bucket, prefix, options.partition);
  const objects = (names: string[]) => names.map((n) => objectArn(loc, n));
  const versioned = options.versioned === true || options.bypassGovernance === true;
  const mirror = options.mirror === true;
  return {
    Version: "2012-10-17",
    Statement: [
      listStatement(loc, versioned && (role === "admin" || mirror), role !== "ingest"),
      ...(mirror
        ? [{
          Sid: "GetBucketVersioning",
          Effect: "Allow" as const,
          Action: ["s3:GetBucketVersioning"],
          Resource: [bucketArn(loc)],
        }]
        : []),
      ...createStatements(role, objects, mirror, versioned),
      {
        // The whole prefix, to keep the policy small: these act only on an upload whose id the
        // caller knows, and grant no right to list uploads to learn one.
        Sid: "AbortOrListUploadParts",
        Effect: "Allow",
        Action: ["s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
        Resource: objects(["*"]),
      },
      ...readStatements(role, objects, mirror),
      ...(role === "admin" ? deleteStatements(versioned, options, objects) : []),
    ],
  };
}

/** Object ARNs under the repository's prefix, from names relative to it. */
type ObjectArns = (names: string[]) => string[];

/**
 * Creating objects: the admin creates any repository object, unconditionally; ingest and
 * reader create backup objects only with `If-None-Match`, or by parts (see the module).
 */
function createStatements(
  role: PolicyRole,
  objects: ObjectArns,
  mirror: boolean,
  versioned: boolean,
): PolicyStatement[] {
  const mirrors = mirror ? mirrorWrites : [];
  if (role === "admin") {
    return [{
      Sid: "CreateRepositoryObjects",
      Effect: "Allow",
      Action: ["s3:PutObject"],
      Resource: objects([...adminOnlyWrites, ...backupWrites, ...mirrors]),
    }];
  }
  const creates = objects([...backupWrites, ...mirrors]);
  const versions: PolicyStatement[] = mirror && versioned
    ? [{
      Sid: "PutMirrorVersions",
      Effect: "Allow",
      Action: ["s3:PutObject"],
      Resource: objects(mirrorWrites),
    }]
    : [];
  return [
    ...versions,
    {
      Sid: "CreateBackupObjectsIfNoneMatch",
      Effect: "Allow",
      Action: ["s3:PutObject"],
      Resource: creates,
      Condition: { Null: { "s3:if-none-match": "false" } },
    },
    {
      Sid: "UploadBackupObjectParts",
      Effect: "Allow",
      Action: ["s3:PutObject"],
      Resource: creates,
      Condition: { Bool: { "s3:ObjectCreationOperation": "false" } },
    },
  ];
}

/** Reading: ingest reads the hot metadata only; reader and admin read everything and restore. */
function readStatements(role: PolicyRole, objects: ObjectArns, mirror: boolean): PolicyStatement[] {
  if (role === "ingest") {
    return [{
      Sid: "ReadHotMetadata",
      Effect: "Allow",
      Action: ["s3:GetObject"],
      Resource: objects([...hotReads, ...(mirror ? mirrorManifests : [])]),
    }];
  }
  return [
    {
      Sid: "ReadRepository",
      Effect: "Allow",
      Action: mirror ? ["s3:GetObject", "s3:GetObjectVersion"] : ["s3:GetObject"],
      Resource: objects(["*"]),
    },
    {
      Sid: "RequestRestores",
      Effect: "Allow",
      Action: ["s3:RestoreObject"],
      Resource: objects([...coldObjects, ...(mirror ? mirrorWrites : [])]),
    },
  ];
}

/**
 * The admin's deletes: objects, and their versions when `versioned`; with `bypassGovernance`,
 * also locked versions in governance mode.
 */
function deleteStatements(
  versioned: boolean,
  options: IdentityPolicyOptions,
  objects: ObjectArns,
): PolicyStatement[] {
  const statements: PolicyStatement[] = [{
    Sid: versioned ? "DeleteObjectsAndVersions" : "DeleteObjects",
    Effect: "Allow",
    Action: versioned ? ["s3:DeleteObject", "s3:DeleteObjectVersion"] : ["s3:DeleteObject"],
    Resource: objects(["*"]),
  }];
  if (options.bypassGovernance) {
    statements.push({
      Sid: "BypassGovernanceRetention",
      Effect: "Allow",
      Action: ["s3:BypassGovernanceRetention"],
      Resource: objects(["*"]),
    });
  }
  return statements;
}

/**
 * The bucket policy for a repository at `s3://bucket/prefix`. It grants nothing (identity
 * policies do); it denies, whatever identity policies say:
 * - to everyone but the admin principals: creating an object under the prefix without
 *   `If-None-Match` (with `versionedMirror`, every repository object but `mirror/*`, which is
 *   written as versions), deleting objects or versions, and writing `config` or `keys/`;
 * - to the ingest principals: reading or restoring pack data (`packs/`, `meta/`).
 *
 * Admins are matched by `aws:PrincipalArn` with `ArnNotLike`, which is true when the key is
 * absent, so anonymous requests are denied too. Not for moto: it ignores a bucket policy's
 * principals and conditions, so every statement here would deny everyone (test this policy
 * with `test/support/s3_policy_eval.ts` instead). Throws `S3InputError` for bad input: no admin,
 * no ingest principal, an ARN that is not a user or role, one principal in both lists, or a
 * principal in another partition than the bucket.
 */
export function bucketPolicy(
  bucket: string,
  prefix: string,
  principals: BucketPolicyPrincipals,
): PolicyDocument {
  const { admins, ingest, partition } = checkedBucketPrincipals(principals);
  const loc = s3Location(bucket, prefix, partition);
  const objects = (names: string[]) => names.map((n) => objectArn(loc, n));
  const exceptAdmins = { ArnNotLike: { "aws:PrincipalArn": admins.map((a) => a.arn) } };
  const unconditional = denyUnconditionalWrites(loc);
  if (principals.versionedMirror === true) {
    // Every name the repository has but a mirror's (docs/format.md §2): IAM cannot except one
    // prefix from a `Resource` wildcard.
    const { mirror: _, ...others } = layout.prefixes;
    unconditional.Resource = objects([
      layout.config(),
      ...Object.values(others).map((p) => p + "*"),
    ]);
  }
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyWritesWithoutIfNoneMatchExceptAdmins",
        Effect: "Deny",
        Principal: "*",
        Action: unconditional.Action,
        Resource: unconditional.Resource,
        Condition: { ...unconditional.Condition, ...exceptAdmins },
      },
      {
        Sid: "DenyDeletesExceptAdmins",
        Effect: "Deny",
        Principal: "*",
        Action: ["s3:DeleteObject", "s3:DeleteObjectVersion"],
        Resource: objects(["*"]),
        Condition: exceptAdmins,
      },
      {
        Sid: "DenyConfigAndKeyWritesExceptAdmins",
        Effect: "Deny",
        Principal: "*",
        Action: ["s3:PutObject"],
        Resource: objects(adminOnlyWrites),
        Condition: exceptAdmins,
      },
      {
        Sid: "DenyIngestReadingPackData",
        Effect: "Deny",
        Principal: { AWS: ingest.map((p) => p.arn) },
        Action: ["s3:GetObject", "s3:GetObjectVersion", "s3:RestoreObject"],
        Resource: objects(packData),
      },
    ],
  };
}

/**
 * `s3:ListBucket` (and `s3:ListBucketVersions`) limited to keys under the prefix; with
 * `uploads`, also `s3:ListBucketMultipartUploads` (the reader's `check` and the admin's `gc
 * purge` list the uploads interrupted backups left: the storage contract's strays).
 */
function listStatement(loc: S3Location, versions: boolean, uploads: boolean): PolicyStatement {
  const statement: PolicyStatement = {
    Sid: versions ? "ListRepositoryAndVersions" : "ListRepository",
    Effect: "Allow",
    Action: [
      "s3:ListBucket",
      ...(versions ? ["s3:ListBucketVersions"] : []),
      ...(uploads ? ["s3:ListBucketMultipartUploads"] : []),
    ],
    Resource: [bucketArn(loc)],
  };
  if (loc.keyPrefix !== "") {
    statement.Condition = { StringLike: { "s3:prefix": [loc.keyPrefix + "*"] } };
  }
  return statement;
}

/**
 * Denies requests that would create an object under the prefix without `If-None-Match`:
 * `s3:if-none-match` absent (`Null` true) on a request that creates the object
 * (`s3:ObjectCreationOperation` true: PutObject, CompleteMultipartUpload, CopyObject), leaving
 * CreateMultipartUpload and UploadPart, which cannot carry the header, alone.
 */
function denyUnconditionalWrites(loc: S3Location): PolicyStatement {
  return {
    Sid: "DenyWritesWithoutIfNoneMatch",
    Effect: "Deny",
    Action: ["s3:PutObject"],
    Resource: [objectArn(loc, "*")],
    Condition: {
      Null: { "s3:if-none-match": "true" },
      Bool: { "s3:ObjectCreationOperation": "true" },
    },
  };
}

/**
 * The bucket policy's principals, parsed, and the partition: `S3InputError` (see
 * {@link bucketPolicy}) unless there is an admin and an ingest principal, each a user or role
 * (an ingest principal not a whole account), none in both lists, all in the one partition.
 */
function checkedBucketPrincipals(principals: BucketPolicyPrincipals) {
  const admins = checkedPrincipals(principals.adminPrincipals, "admin");
  const ingest = checkedPrincipals(principals.ingestPrincipals, "ingest");
  const partition = principals.partition ?? admins[0].partition;
  for (const p of [...admins, ...ingest]) {
    if (p.partition !== partition) {
      throw new S3InputError(
        `principal "${p.arn}" is in partition "${p.partition}", the bucket in "${partition}"`,
      );
    }
  }
  for (const p of ingest) {
    if (admins.some((a) => a.arn === p.arn)) {
      throw new S3InputError(
        `principal "${p.arn}" is listed as both admin and ingest; give each role its own user`,
      );
    }
    if (p.kind === "root") {
      throw new S3InputError(
        `ingest principal "${p.arn}" is a whole account; name the ingest user or role instead`,
      );
    }
  }
  return { admins, ingest, partition };
}

function checkedPrincipals(arns: string[] | undefined, role: "admin" | "ingest") {
  const list = [...new Set(arns ?? [])];
  if (list.length === 0) {
    throw new S3InputError(
      `the bucket policy needs at least one ${role} principal (the ARN of the ${role} IAM user or role)`,
    );
  }
  return list.map(parsePrincipal);
}
