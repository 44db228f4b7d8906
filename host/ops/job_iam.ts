/**
 * The IAM side of an in-region job (docs/in-region.md §5): its task and execution roles
 * ({@link jobRoleArns}), the passphrase's secret reference ({@link secretRef}), the execution
 * role's policy ({@link executionPolicy}) and the trust policy both roles carry
 * ({@link ecsTasksTrust}). The task role's policy is the repository role's (host/s3/policy.ts).
 *
 * @module
 */

import { parsePrincipal } from "../s3/principal.ts";
import type { S3Target } from "../storage/s3_location.ts";
import { jobLogGroup } from "./job_definition.ts";

/** The default SSM parameter holding the passphrase (a SecureString). */
export const defaultPasswordParameter = "/permafrost/password";

/** Stands for the account id where no ARN given says it. */
const ACCOUNT = "ACCOUNT_ID";

/** A trust policy: who may assume a role. */
export interface TrustPolicy {
  Version: "2012-10-17";
  Statement: {
    Effect: "Allow";
    Principal: { Service: string };
    Action: "sts:AssumeRole";
  }[];
}

/** Both roles of a job trust ECS tasks (Batch on Fargate runs them as ECS tasks). */
export function ecsTasksTrust(): TrustPolicy {
  return {
    Version: "2012-10-17",
    Statement: [{
      Effect: "Allow",
      Principal: { Service: "ecs-tasks.amazonaws.com" },
      Action: "sts:AssumeRole",
    }],
  };
}

/** The job's two roles, and the account id the given ARNs name (if any). */
export interface JobRoleArns {
  taskRoleArn: string;
  executionRoleArn: string;
  account: string | undefined;
}

/**
 * The task and execution role ARNs: each as given (a `TypeError` unless it is an IAM role ARN),
 * or a placeholder to create (`permafrost-<role>-job`, `permafrost-job-execution`) in the
 * account any given ARN names, else {@link ACCOUNT}.
 */
export function jobRoleArns(
  o: { taskRoleArn?: string; executionRoleArn?: string; passwordSecret?: string },
  role: "reader" | "admin",
  target: S3Target,
): JobRoleArns {
  const account = accountOf(o.taskRoleArn) ?? accountOf(o.executionRoleArn) ??
    accountOf(o.passwordSecret);
  const roleArn = (given: string | undefined, roleName: string, what: string) =>
    given === undefined
      ? `arn:${target.partition}:iam::${account ?? ACCOUNT}:role/${roleName}`
      : checkedRoleArn(given, what);
  return {
    taskRoleArn: roleArn(o.taskRoleArn, `permafrost-${role}-job`, "task role"),
    executionRoleArn: roleArn(o.executionRoleArn, "permafrost-job-execution", "execution role"),
    account,
  };
}

/** The account id an ARN names, if it is an ARN that names one. */
function accountOf(arn: string | undefined): string | undefined {
  return arn?.match(/^arn:[a-z-]+:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):/)?.[1];
}

/** `arn`, or a `TypeError` unless it is an IAM role ARN. */
function checkedRoleArn(arn: string, what: string): string {
  const p = parsePrincipal(arn);
  if (p.kind !== "role") {
    throw new TypeError(`the ${what} must be an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)`);
  }
  return arn;
}

export interface SecretRef {
  valueFrom: string;
  /** The ARN the execution role's policy names. */
  arn: string;
  service: "ssm" | "secretsmanager";
}

/** An SSM parameter (name or ARN) or a Secrets Manager ARN, as ECS and Batch take it. */
export function secretRef(given: string, target: S3Target, account: string | undefined): SecretRef {
  if (/^arn:[a-z-]+:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$/.test(given)) {
    return { valueFrom: given, arn: given, service: "secretsmanager" };
  }
  if (/^arn:[a-z-]+:ssm:[a-z0-9-]+:\d{12}:parameter\/[\w/.-]+$/.test(given)) {
    return { valueFrom: given, arn: given, service: "ssm" };
  }
  if (/^\/?[\w.-]+(\/[\w.-]+)*$/.test(given)) {
    // A name: ECS and Batch accept it for a parameter in the task's own region.
    const path = given.startsWith("/") ? given.slice(1) : given;
    return {
      valueFrom: given,
      arn: `arn:${target.partition}:ssm:${target.region}:${account ?? "*"}:parameter/${path}`,
      service: "ssm",
    };
  }
  throw new TypeError(
    `password secret "${given}" is neither an SSM parameter name or ARN nor a Secrets Manager ` +
      "secret ARN",
  );
}

/** The execution role's policy document. */
export interface ExecutionPolicy {
  Version: "2012-10-17";
  Statement: Record<string, unknown>[];
}

/**
 * The execution role's policy: write the job's logs, read the passphrase's secret, and pull
 * the image when it is in ECR.
 */
export function executionPolicy(
  image: string,
  secret: SecretRef,
  target: S3Target,
  region: string,
  account: string | undefined,
): ExecutionPolicy {
  const statements: Record<string, unknown>[] = [
    {
      Sid: "WriteJobLogs",
      Effect: "Allow",
      Action: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: [
        `arn:${target.partition}:logs:${region}:${account ?? "*"}:log-group:${jobLogGroup}:*`,
      ],
    },
    {
      Sid: "ReadPassphrase",
      Effect: "Allow",
      Action: secret.service === "ssm" ? ["ssm:GetParameters"] : ["secretsmanager:GetSecretValue"],
      Resource: [secret.service === "secretsmanager" ? `${secret.arn}*` : secret.arn],
    },
  ];
  const ecr = image.match(/^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)/);
  if (ecr) {
    statements.push(
      { Sid: "EcrLogin", Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: ["*"] },
      {
        Sid: "PullImage",
        Effect: "Allow",
        Action: [
          "ecr:BatchCheckLayerAvailability",
          "ecr:GetDownloadUrlForLayer",
          "ecr:BatchGetImage",
        ],
        Resource: [`arn:${target.partition}:ecr:${ecr[2]}:${ecr[1]}:repository/${ecr[3]}`],
      },
    );
  }
  return { Version: "2012-10-17", Statement: statements };
}
