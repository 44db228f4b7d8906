import { type Partition, S3InputError } from "../s3/location.ts";
import {
  bucketPolicy,
  identityPolicy,
  type PolicyDocument,
  type PolicyRole,
  policyRoles,
  policySize,
  policySizeLimits,
} from "../s3/policy.ts";
import { type Context, UsageError } from "./context.ts";
import type { CommandGroup } from "./options.ts";

/** `s3 policy`: prints JSON whatever is asked, so no `--json`; opens no repository. */
export const s3Commands: CommandGroup = {
  subcommands: {
    policy: {
      options: {
        bucket: { type: "string" },
        prefix: { type: "string" },
        partition: { type: "string" },
        role: { type: "string" },
        versioned: { type: "boolean" },
        mirror: { type: "boolean" },
        "bypass-governance": { type: "boolean" },
        "bucket-policy": { type: "boolean" },
        "admin-principal": { type: "string", multiple: true },
        "ingest-principal": { type: "string", multiple: true },
      },
      run: cmdS3Policy,
    },
  },
  refuse: (sub) =>
    new UsageError(
      `${sub === undefined ? "s3 needs a command" : `unknown s3 command "${sub}"`}: ` +
        `use "s3 policy"`,
    ),
};

/**
 * `s3 policy`: prints the IAM identity policy of a role, or the bucket policy, as JSON on
 * stdout (docs/s3.md). Needs no repository and no passphrase. Input S3 or IAM would refuse is
 * a usage error (exit 2); a policy too large for one user's inline policies is printed with a
 * note on stderr.
 */
function cmdS3Policy(ctx: Context): Promise<number> {
  const rest = ctx.positionals;
  if (rest.length > 0) throw new UsageError(`s3 policy takes no arguments, got "${rest[0]}"`);
  const bucket = ctx.string("bucket");
  if (!bucket) throw new UsageError("s3 policy needs --bucket BUCKET");
  const prefix = ctx.string("prefix") ?? "";
  const partition = ctx.string("partition") as Partition | undefined;

  let doc: PolicyDocument;
  try {
    doc = ctx.bool("bucket-policy")
      ? bucketPolicyOf(ctx, bucket, prefix, partition)
      : identityPolicyOf(ctx, bucket, prefix, partition);
  } catch (err) {
    if (err instanceof S3InputError) throw new UsageError(err.message);
    throw err;
  }
  console.log(JSON.stringify(doc, null, 2));
  const size = policySize(doc);
  if (ctx.bool("bucket-policy") && size > policySizeLimits.bucket) {
    console.error(
      `note: this bucket policy has ${size} characters; S3 accepts at most 20 KB: ` +
        "list fewer principals (use IAM roles shared by several machines)",
    );
  } else if (!ctx.bool("bucket-policy") && size > policySizeLimits.userInline) {
    console.error(
      `note: this policy has ${size} characters without whitespace, more than the ` +
        `${policySizeLimits.userInline} an IAM user's inline policies may hold together: ` +
        `create it as a managed policy (aws iam create-policy, up to ${policySizeLimits.managed}) ` +
        "and attach that (aws iam attach-user-policy), or use a shorter prefix",
    );
  }
  return Promise.resolve(0);
}

function identityPolicyOf(
  ctx: Context,
  bucket: string,
  prefix: string,
  partition: Partition | undefined,
): PolicyDocument {
  const role = ctx.string("role");
  if (!role) throw new UsageError(`s3 policy needs --role ${policyRoles.join("|")}`);
  if (!policyRoles.includes(role as PolicyRole)) {
    throw new UsageError(`--role must be one of ${policyRoles.join(", ")}, not "${role}"`);
  }
  for (const flag of ["ingest-principal", "admin-principal"]) {
    if (ctx.strings(flag).length > 0) {
      throw new UsageError(`--${flag} belongs to --bucket-policy, not to --role ${role}`);
    }
  }
  const versioned = ctx.bool("versioned");
  const mirror = ctx.bool("mirror");
  const bypassGovernance = ctx.bool("bypass-governance");
  // A mirror's versions are written by ingest and reader too: then --versioned is theirs too.
  if (role !== "admin" && ((versioned && !mirror) || bypassGovernance)) {
    throw new UsageError(
      `--${versioned ? "versioned" : "bypass-governance"} changes only the admin policy; ` +
        `drop it for --role ${role}`,
    );
  }
  return identityPolicy(role as PolicyRole, bucket, prefix, {
    versioned,
    bypassGovernance,
    mirror,
    partition,
  });
}

function bucketPolicyOf(
  ctx: Context,
  bucket: string,
  prefix: string,
  partition: Partition | undefined,
): PolicyDocument {
  for (const flag of ["role", "bypass-governance"]) {
    if (ctx.flags[flag] !== undefined) {
      throw new UsageError(`--${flag} belongs to identity policies, not to --bucket-policy`);
    }
  }
  // A versioned mirror's objects are written without If-None-Match: both flags, or neither.
  const versionedMirror = ctx.bool("mirror") && ctx.bool("versioned");
  if (!versionedMirror && (ctx.flags.mirror !== undefined || ctx.flags.versioned !== undefined)) {
    throw new UsageError(
      "--bucket-policy takes --mirror and --versioned together (a mirror written as versions), " +
        "or neither",
    );
  }
  const adminPrincipals = ctx.strings("admin-principal");
  const ingestPrincipals = ctx.strings("ingest-principal");
  if (adminPrincipals.length === 0) {
    throw new UsageError("--bucket-policy needs --admin-principal ARN (the admin user or role)");
  }
  if (ingestPrincipals.length === 0) {
    throw new UsageError("--bucket-policy needs --ingest-principal ARN (each ingest user or role)");
  }
  return bucketPolicy(bucket, prefix, {
    adminPrincipals,
    ingestPrincipals,
    partition,
    versionedMirror,
  });
}
