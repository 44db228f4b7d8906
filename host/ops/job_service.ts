/**
 * The two in-region tasks that are not one-off jobs (docs/in-region.md §8): the append-only
 * gateway as a long-running ECS service, and the versioned-bucket guard as an ECS task that
 * EventBridge Scheduler starts on a schedule. Built from the same parts as `job_spec.ts`'s jobs
 * (the container of `job_definition.ts`, the secrets and roles of `job_iam.ts`); pure
 * functions, no I/O.
 *
 * Roles: the gateway's task role gets the **ingest** identity policy (host/s3/policy.ts), so on
 * AWS the gateway itself can only create, and a compromised gateway cannot overwrite either;
 * the guard's gets the **admin** policy with `versioned` (`s3:ListBucketVersions`,
 * `s3:DeleteObjectVersion`). Neither needs the repository's passphrase. The gateway's keys come
 * from two secrets (`PERMAFROST_GATEWAY_KEYS`: the content of its `keys.json`;
 * `PERMAFROST_GATEWAY_SEAL_KEY`: its seal key), so the container holds no state of its own.
 *
 * @module
 */

import { identityPolicy, type PolicyDocument } from "../s3/policy.ts";
import { parseS3Location } from "../storage/s3_location.ts";
import { ecsTaskDefinition, jobContainer } from "./job_definition.ts";
import {
  ecsTasksTrust,
  type ExecutionPolicy,
  executionPolicy,
  secretRef,
  type TrustPolicy,
} from "./job_iam.ts";
import { checkFargateSize, type JobSize } from "./job_size.ts";

/** The gateway's port in its container. */
export const GATEWAY_PORT = 9000;
/** SSM parameters holding the gateway's keys and seal key, by default. */
export const gatewaySecrets = {
  keys: "/permafrost/gateway-keys",
  seal: "/permafrost/gateway-seal-key",
};

/** What {@link serviceSpec} needs. */
export interface ServiceSpecOptions {
  /** `gateway` (a service) or `guard` (a scheduled task). */
  service: "gateway" | "guard";
  /** The repository: `s3://BUCKET/PREFIX` (with `?region=`, else from the environment). */
  repo: string;
  image?: string;
  source?: { url: string; sha256?: string };
  taskRoleArn?: string;
  executionRoleArn?: string;
  /** The guard's schedule (EventBridge Scheduler expression); default hourly. */
  schedule?: string;
  size?: JobSize;
  env?: (name: string) => string | undefined;
}

/** Everything to register and start the service or the schedule. */
export interface ServiceSpec {
  service: "gateway" | "guard";
  name: string;
  region: string;
  size: JobSize;
  argv: string[];
  /** `aws ecs register-task-definition --cli-input-json`. */
  taskDefinition: Record<string, unknown>;
  /**
   * The gateway: `aws ecs create-service --cli-input-json` (subnets and security groups to
   * fill in). The guard: `aws scheduler create-schedule --cli-input-json`.
   */
  launch: Record<string, unknown>;
  taskRole: "ingest" | "admin";
  taskPolicy: PolicyDocument;
  executionPolicy: ExecutionPolicy;
  trustPolicy: TrustPolicy;
  taskRoleArn: string;
  executionRoleArn: string;
}

/** The default sizes: the gateway streams and keeps nothing; the guard lists and deletes. */
const SIZES: Record<ServiceSpecOptions["service"], JobSize> = {
  gateway: { vcpu: 0.5, memoryGB: 1 },
  guard: { vcpu: 0.25, memoryGB: 0.5 },
};

/**
 * The spec of the gateway service or the guard schedule for `o.repo`. A `TypeError` for a
 * repository not on S3 or one with a custom endpoint (the task reaches S3 in its region).
 */
export function serviceSpec(o: ServiceSpecOptions): ServiceSpec {
  const env = o.env ?? ((name: string) => Deno.env.get(name));
  if (!o.repo.startsWith("s3://")) {
    throw new TypeError(`the ${o.service} runs in the region of an S3 repository, not "${o.repo}"`);
  }
  const target = parseS3Location(o.repo, env);
  if (/[?&]endpoint=/.test(o.repo)) {
    throw new TypeError(`an in-region ${o.service} reaches S3 in its region: drop "endpoint="`);
  }
  const region = target.region;
  const repo = `s3://${target.bucket}/${target.prefix}?region=${region}`;
  const size = o.size ?? SIZES[o.service];
  checkFargateSize(size);
  const name = `permafrost-${o.service}`;
  const argv = o.service === "gateway"
    ? ["gateway", "--repo", repo, "--listen", `0.0.0.0:${GATEWAY_PORT}`]
    : ["guard", "--repo", repo];
  const account = /^arn:[a-z-]+:iam::(\d{12}):/.exec(o.taskRoleArn ?? o.executionRoleArn ?? "")
    ?.[1];
  const arn = (role: string) =>
    `arn:${target.partition}:iam::${account ?? "ACCOUNT_ID"}:role/${role}`;
  const taskRoleArn = o.taskRoleArn ?? arn(`${name}-task`);
  const executionRoleArn = o.executionRoleArn ?? arn("permafrost-job-execution");
  const secrets = o.service === "gateway"
    ? [
      { name: "PERMAFROST_GATEWAY_KEYS", ref: secretRef(gatewaySecrets.keys, target, account) },
      { name: "PERMAFROST_GATEWAY_SEAL_KEY", ref: secretRef(gatewaySecrets.seal, target, account) },
    ]
    : [];
  // jobContainer names the passphrase's secret; these tasks need none, so it is replaced.
  const container = {
    ...jobContainer({ ...o, account }, argv, name, region, secretRef("/unused", target, account)),
    secrets: secrets.map((s) => ({ name: s.name, valueFrom: s.ref.valueFrom })),
  };
  const taskDefinition = ecsTaskDefinition(
    name,
    size,
    { taskRoleArn, executionRoleArn, account },
    container,
  );
  if (o.service === "gateway") {
    const [c] = taskDefinition.containerDefinitions as Record<string, unknown>[];
    c.portMappings = [{ containerPort: GATEWAY_PORT, protocol: "tcp" }];
  }
  // The jobs' execution policy, its passphrase statement replaced by one per secret here.
  const base = executionPolicy(
    container.image,
    secretRef("/unused", target, account),
    target,
    region,
    account,
  )
    .Statement.filter((st) => st.Sid !== "ReadPassphrase");
  const reads = secrets.map((sec) => ({
    ...executionPolicy(container.image, sec.ref, target, region, account).Statement
      .find((st) => st.Sid === "ReadPassphrase")!,
    Sid: sec.name === "PERMAFROST_GATEWAY_KEYS" ? "ReadGatewayKeys" : "ReadGatewaySealKey",
  }));
  const taskRole = o.service === "gateway" ? "ingest" : "admin";
  return {
    service: o.service,
    name,
    region,
    size,
    argv,
    taskDefinition,
    launch: o.service === "gateway"
      ? gatewayService(name)
      : guardSchedule(name, o.schedule ?? "rate(1 hour)", region, account, target.partition),
    taskRole,
    taskPolicy: identityPolicy(taskRole, target.bucket, target.prefix, {
      partition: target.partition,
      versioned: o.service === "guard",
    }),
    executionPolicy: { Version: "2012-10-17", Statement: [...base, ...reads] },
    trustPolicy: ecsTasksTrust(),
    taskRoleArn,
    executionRoleArn,
  };
}

/** `aws ecs create-service`: one task, always running, restarted by ECS if it stops. */
function gatewayService(name: string): Record<string, unknown> {
  return {
    cluster: "permafrost",
    serviceName: name,
    taskDefinition: name,
    desiredCount: 1,
    launchType: "FARGATE",
    networkConfiguration: {
      awsvpcConfiguration: {
        subnets: ["SUBNET_ID"],
        securityGroups: ["SECURITY_GROUP_ID"],
        assignPublicIp: "DISABLED",
      },
    },
  };
}

/** `aws scheduler create-schedule`: runs the guard's task on the schedule. */
function guardSchedule(
  name: string,
  expression: string,
  region: string,
  account: string | undefined,
  partition: string,
): Record<string, unknown> {
  const acct = account ?? "ACCOUNT_ID";
  return {
    Name: name,
    ScheduleExpression: expression,
    FlexibleTimeWindow: { Mode: "OFF" },
    Target: {
      Arn: `arn:${partition}:ecs:${region}:${acct}:cluster/permafrost`,
      RoleArn: `arn:${partition}:iam::${acct}:role/permafrost-scheduler`,
      EcsParameters: {
        TaskDefinitionArn: `arn:${partition}:ecs:${region}:${acct}:task-definition/${name}`,
        LaunchType: "FARGATE",
        NetworkConfiguration: {
          awsvpcConfiguration: {
            Subnets: ["SUBNET_ID"],
            SecurityGroups: ["SECURITY_GROUP_ID"],
            AssignPublicIp: "ENABLED",
          },
        },
      },
      RetryPolicy: { MaximumRetryAttempts: 0 },
    },
  };
}
