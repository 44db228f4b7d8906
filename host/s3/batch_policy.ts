/**
 * The IAM side of a batch restore (docs/s3.md §7): what the reader (or admin) who starts one
 * needs besides its role's policy (host/s3/policy.ts), and the role S3 Batch Operations
 * assumes to carry it out. The ingest role gets neither: it cannot restore.
 *
 * @module
 */

import { roleAccount } from "../cold/batch_restore.ts";
import { objectArn, s3Location } from "./location.ts";
import type { PolicyDocument } from "./policy.ts";

/** The three documents of a batch restore. */
export interface BatchRestorePolicies {
  /** Added to the reader's (or admin's) policy: write manifests, create and read jobs, pass the role. */
  starter: PolicyDocument;
  /** The batch role's policy: read the manifests, restore the packs. */
  batchRole: PolicyDocument;
  /** The batch role's trust policy: S3 Batch Operations assumes it. */
  trust: {
    Version: "2012-10-17";
    Statement: {
      Effect: "Allow";
      Principal: { Service: "batchoperations.s3.amazonaws.com" };
      Action: "sts:AssumeRole";
    }[];
  };
}

/**
 * The policies of batch restores of the repository at `bucket`/`prefix` with `roleArn` (an IAM
 * role ARN; `TypeError` otherwise) as the role S3 Batch Operations assumes. Manifests are
 * created only with `If-None-Match`, as every non-admin create (docs/s3.md §3).
 */
export function batchRestorePolicies(
  bucket: string,
  prefix: string,
  roleArn: string,
  partition: "aws" | "aws-cn" | "aws-us-gov" = "aws",
): BatchRestorePolicies {
  const account = roleAccount(roleArn);
  const loc = s3Location(bucket, prefix, partition);
  const manifests = objectArn(loc, "restore-batches/*");
  return {
    starter: {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "CreateRestoreManifestsIfNoneMatch",
          Effect: "Allow",
          Action: ["s3:PutObject"],
          Resource: [manifests],
          Condition: { Null: { "s3:if-none-match": "false" } },
        },
        {
          Sid: "CreateAndFollowBatchJobs",
          Effect: "Allow",
          Action: ["s3:CreateJob", "s3:DescribeJob"],
          Resource: [`arn:${partition}:s3:*:${account}:job/*`],
        },
        {
          Sid: "PassBatchRestoreRole",
          Effect: "Allow",
          Action: ["iam:PassRole"],
          Resource: [roleArn],
        },
      ],
    },
    batchRole: {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "ReadRestoreManifests",
          Effect: "Allow",
          Action: ["s3:GetObject", "s3:GetObjectVersion"],
          Resource: [manifests],
        },
        {
          Sid: "RestorePacks",
          Effect: "Allow",
          Action: ["s3:RestoreObject"],
          Resource: [objectArn(loc, "packs/*")],
        },
      ],
    },
    trust: {
      Version: "2012-10-17",
      Statement: [{
        Effect: "Allow",
        Principal: { Service: "batchoperations.s3.amazonaws.com" },
        Action: "sts:AssumeRole",
      }],
    },
  };
}
