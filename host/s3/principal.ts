/**
 * IAM principal ARNs as a bucket policy names them: users, roles, or an account's root user.
 *
 * The bucket policy compares them with `aws:PrincipalArn`, which for a role is the role's ARN,
 * not the ARN of an assumed-role session
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn).
 * Pure functions, no I/O.
 *
 * @module
 */

import { type Partition, partitions, S3InputError } from "./location.ts";

/** A checked principal ARN. */
export interface Principal {
  arn: string;
  partition: Partition;
  account: string;
  kind: "user" | "role" | "root";
}

const IAM_ARN = /^arn:([a-z-]+):iam::(\d{12}):(root|user\/[\w+=,.@\/-]+|role\/[\w+=,.@\/-]+)$/;

/**
 * Parses `arn:PARTITION:iam::ACCOUNT:user/NAME`, `...:role/NAME` (paths allowed) or
 * `...:root`; throws `S3InputError` saying what a usable ARN looks like.
 */
export function parsePrincipal(arn: string): Principal {
  const shape = "arn:aws:iam::ACCOUNT:user/NAME or arn:aws:iam::ACCOUNT:role/NAME";
  if (/[*?]/.test(arn)) {
    throw new S3InputError(`principal "${arn}" has a wildcard; list each exact ARN (${shape})`);
  }
  if (arn.startsWith("arn:") && arn.split(":")[2] === "sts") {
    throw new S3InputError(
      `principal "${arn}" is a session; give the role's ARN instead (${shape})`,
    );
  }
  const m = arn.match(IAM_ARN);
  if (!m) {
    throw new S3InputError(
      `principal "${arn}" is not an IAM user or role ARN (${shape}; ` +
        "`aws iam get-user --user-name NAME` prints it)",
    );
  }
  const partition = m[1] as Partition;
  if (!(partitions as readonly string[]).includes(partition)) {
    throw new S3InputError(`principal "${arn}" names partition "${partition}", which is unknown`);
  }
  const kind = m[3] === "root" ? "root" : m[3].startsWith("user/") ? "user" : "role";
  return { arn, partition, account: m[2], kind };
}
