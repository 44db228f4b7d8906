/**
 * Where a repository lives in S3: a bucket and a key prefix (`s3://BUCKET/PREFIX`), checked
 * against S3's rules, and the ARNs that IAM policies name for it (docs/s3.md "Layout").
 *
 * Object names from `host/repository/layout.ts` sit under the prefix: with prefix
 * `laptop/home`, `packs/<id>` is the key `laptop/home/packs/<id>`; with no prefix it is
 * `packs/<id>`. Pure functions, no I/O.
 *
 * @module
 */

/** Input a user gave that S3 or IAM would refuse; the message says what to change. */
export class S3InputError extends TypeError {
  override name = "S3InputError";
}

/** AWS partitions whose S3 and IAM ARNs the policies can name. */
export const partitions = ["aws", "aws-cn", "aws-us-gov"] as const;
export type Partition = typeof partitions[number];

/** A validated repository location. */
export interface S3Location {
  bucket: string;
  /** The prefix without leading or trailing slashes; `""` for the bucket's root. */
  prefix: string;
  /** What precedes every object name in a key: `prefix + "/"`, or `""`. */
  keyPrefix: string;
  partition: Partition;
}

/**
 * Checks a bucket name against the rules for general purpose buckets
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html) and throws
 * `S3InputError` naming the rule it breaks.
 */
export function checkBucketName(bucket: string): void {
  const bad = (why: string) => new S3InputError(`bucket name "${bucket}" ${why}`);
  if (bucket.startsWith("s3://")) {
    throw bad("is a URL: give the bucket's name alone, and the rest as the prefix");
  }
  if (bucket.length < 3 || bucket.length > 63) throw bad("must be 3 to 63 characters long");
  if (!/^[a-z0-9.-]+$/.test(bucket)) {
    throw bad("may contain only lowercase letters, digits, dots (.) and hyphens (-)");
  }
  if (!/^[a-z0-9]/.test(bucket) || !/[a-z0-9]$/.test(bucket)) {
    throw bad("must begin and end with a letter or a digit");
  }
  if (bucket.includes("..")) throw bad("must not contain two adjacent dots");
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(bucket)) throw bad("must not look like an IP address");
  for (const reserved of ["xn--", "sthree-", "amzn-s3-demo-"]) {
    if (bucket.startsWith(reserved)) throw bad(`must not start with "${reserved}" (reserved)`);
  }
  for (const reserved of ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"]) {
    if (bucket.endsWith(reserved)) throw bad(`must not end with "${reserved}" (reserved)`);
  }
}

/**
 * The prefix in canonical form (no leading or trailing slash). Each `/`-separated part must be
 * non-empty and made of S3's "safe" key characters other than `*` (letters, digits and
 * `! - _ . ' ( )`), and not `.` or `..`: `*` and `?` are wildcards in IAM ARNs, `$` starts a
 * policy variable, and anything else needs escaping somewhere along the way.
 */
export function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, "");
  if (trimmed === "") return "";
  for (const part of trimmed.split("/")) {
    if (part === "") {
      throw new S3InputError(`prefix "${prefix}" has an empty part ("//"); remove the extra slash`);
    }
    if (part === "." || part === "..") {
      throw new S3InputError(`prefix "${prefix}" has a "${part}" part; S3 keys are not paths`);
    }
    const odd = part.match(/[^A-Za-z0-9!_.'()-]/);
    if (odd) {
      throw new S3InputError(
        `prefix "${prefix}" contains "${odd[0]}"; use letters, digits, "/" and ! - _ . ' ( )`,
      );
    }
  }
  if (trimmed.length > 512) {
    throw new S3InputError(`prefix "${prefix}" is longer than 512 characters; keep it short`);
  }
  return trimmed;
}

/** Validates a bucket and prefix into an `S3Location` (throws `S3InputError`). */
export function s3Location(bucket: string, prefix = "", partition: Partition = "aws"): S3Location {
  checkBucketName(bucket);
  if (!(partitions as readonly string[]).includes(partition)) {
    throw new S3InputError(`partition "${partition}" is not one of ${partitions.join(", ")}`);
  }
  const p = normalizePrefix(prefix);
  return { bucket, prefix: p, keyPrefix: p === "" ? "" : p + "/", partition };
}

/** The bucket's ARN (`arn:aws:s3:::BUCKET`), the resource of `s3:ListBucket`. */
export function bucketArn(loc: S3Location): string {
  return `arn:${loc.partition}:s3:::${loc.bucket}`;
}

/**
 * The ARN of the object `name` under the prefix; `name` may end in `*` (`packs/*`). `"*"`
 * alone is every object under the prefix.
 */
export function objectArn(loc: S3Location, name: string): string {
  return `${bucketArn(loc)}/${loc.keyPrefix}${name}`;
}
