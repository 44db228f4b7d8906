/**
 * What an in-region job runs and how ECS or Batch is told (docs/in-region.md §3): the container
 * ({@link jobContainer}: the image, the command, the environment, the passphrase's secret, the
 * logs), the script the default image runs ({@link sourceScript}), and the ECS task definition
 * or Batch job definition around the container.
 *
 * @module
 */

import denoJson from "../../deno.json" with { type: "json" };
import type { JobRoleArns, SecretRef } from "./job_iam.ts";
import { FARGATE_DEFAULT_DISK_GIB, type JobSize } from "./job_size.ts";

/**
 * The image that runs a pinned source tarball (`PERMAFROST_JOB_SOURCE`): Deno's official image,
 * at the Deno release Permafrost is measured on.
 */
export const defaultImage = "denoland/deno:2.9.6";

/** The ECR repository the image built from this repository is pushed to (docs/in-region.md §3). */
export const imageRepository = "permafrost";

/**
 * The default image (docs/in-region.md §3): the one the repository's `Dockerfile` builds
 * (`deno task compile`'s binary as its entry point), pushed to ECR in the job's account and
 * region, tagged with Permafrost's version: `ACCOUNT.dkr.ecr.REGION.amazonaws.com/permafrost:V`
 * (`.amazonaws.com.cn` in China).
 */
export function permafrostImage(account: string, region: string): string {
  const suffix = region.startsWith("cn-") ? ".cn" : "";
  return `${account}.dkr.ecr.${region}.amazonaws.com${suffix}/${imageRepository}:${denoJson.version}`;
}

/** The CloudWatch Logs group jobs write to. */
export const jobLogGroup = "/permafrost/jobs";

/** What runs in the container, the same for ECS and Batch. */
export interface JobContainer {
  image: string;
  command: string[];
  environment: { name: string; value: string }[];
  secrets: { name: string; valueFrom: string }[];
  logs: Record<string, unknown>;
  platform: { cpuArchitecture: string; operatingSystemFamily: string };
}

/**
 * The container: the given image running `argv`; with a source tarball, {@link defaultImage}
 * fetching it (its URL and SHA-256 in the environment: a `TypeError` unless 64 hex digits) and
 * running `argv` from it; else {@link permafrostImage} in `account` running `argv`.
 * `AWS_REGION`, the passphrase as a secret reference, and logs to {@link jobLogGroup} under the
 * job's name.
 */
export function jobContainer(
  o: { image?: string; source?: { url: string; sha256?: string }; account?: string },
  argv: string[],
  name: string,
  region: string,
  secret: SecretRef,
): JobContainer {
  const environment = [{ name: "AWS_REGION", value: region }];
  let command: string[];
  if (o.image === undefined && o.source !== undefined) {
    environment.push({ name: "PERMAFROST_SOURCE_URL", value: o.source.url });
    if (o.source?.sha256 !== undefined) {
      if (!/^[0-9a-f]{64}$/.test(o.source.sha256)) {
        throw new TypeError(`source SHA-256 "${o.source.sha256}" is not 64 hex digits`);
      }
      environment.push({ name: "PERMAFROST_SOURCE_SHA256", value: o.source.sha256 });
    }
    command = ["sh", "-c", sourceScript, "permafrost", ...argv];
  } else {
    command = argv;
  }
  return {
    image: o.image ??
      (o.source ? defaultImage : permafrostImage(o.account ?? "ACCOUNT_ID", region)),
    command,
    environment,
    secrets: [{ name: "PERMAFROST_PASSWORD", valueFrom: secret.valueFrom }],
    logs: {
      logDriver: "awslogs",
      options: {
        "awslogs-group": jobLogGroup,
        "awslogs-region": region,
        "awslogs-stream-prefix": name,
        "awslogs-create-group": "true",
      },
    },
    platform: { cpuArchitecture: "X86_64", operatingSystemFamily: "LINUX" },
  };
}

/** The ECS Fargate task definition (`aws ecs register-task-definition --cli-input-json`). */
export function ecsTaskDefinition(
  name: string,
  size: JobSize,
  arns: JobRoleArns,
  c: JobContainer,
): Record<string, unknown> {
  return {
    family: name,
    taskRoleArn: arns.taskRoleArn,
    executionRoleArn: arns.executionRoleArn,
    networkMode: "awsvpc",
    requiresCompatibilities: ["FARGATE"],
    cpu: String(size.vcpu * 1024),
    memory: String(size.memoryGB * 1024),
    ...ephemeralStorage(size),
    runtimePlatform: c.platform,
    containerDefinitions: [{
      name: "permafrost",
      image: c.image,
      essential: true,
      // The container may use all of the task's memory (a hard limit; ECS on Fargate accepts it
      // and moto's RunTask needs a container-level figure).
      memory: size.memoryGB * 1024,
      command: c.command,
      environment: c.environment,
      secrets: c.secrets,
      logConfiguration: c.logs,
    }],
  };
}

/**
 * Fargate's `ephemeralStorage` (21 to 200 GiB) when the job needs more disk than the default
 * 20 GiB (`jobDisk`, job_size.ts); nothing otherwise.
 */
function ephemeralStorage(size: JobSize): { ephemeralStorage?: { sizeInGiB: number } } {
  return size.diskGiB !== undefined && size.diskGiB > FARGATE_DEFAULT_DISK_GIB
    ? { ephemeralStorage: { sizeInGiB: size.diskGiB } }
    : {};
}

/** The AWS Batch job definition on Fargate (`aws batch register-job-definition`). */
export function batchJobDefinition(
  name: string,
  size: JobSize,
  arns: JobRoleArns,
  c: JobContainer,
): Record<string, unknown> {
  return {
    jobDefinitionName: name,
    type: "container",
    platformCapabilities: ["FARGATE"],
    retryStrategy: { attempts: 1 },
    containerProperties: {
      image: c.image,
      command: c.command,
      jobRoleArn: arns.taskRoleArn,
      executionRoleArn: arns.executionRoleArn,
      resourceRequirements: [
        { type: "VCPU", value: String(size.vcpu) },
        { type: "MEMORY", value: String(size.memoryGB * 1024) },
      ],
      environment: c.environment,
      secrets: c.secrets,
      networkConfiguration: { assignPublicIp: "ENABLED" },
      fargatePlatformConfiguration: { platformVersion: "LATEST" },
      ...ephemeralStorage(size),
      runtimePlatform: c.platform,
      logConfiguration: c.logs,
    },
  };
}

/**
 * What the default image runs (`sh -c SCRIPT permafrost ARGS...`): download the source tarball
 * with Deno's `fetch` (the image has no curl), check its SHA-256 when given, unpack it, and run
 * Permafrost from it with the locked dependencies (`--frozen`: deno.lock pins every package).
 * docs/in-region.md §3.
 */
export const sourceScript = [
  "set -eu",
  'cd "$(mktemp -d)"',
  `deno eval 'const u = Deno.env.get("PERMAFROST_SOURCE_URL"); const r = await fetch(u); ` +
  "if (!r.ok || !r.body) throw new Error(`${u}: HTTP ${r.status}`); " +
  `await Deno.writeFile("permafrost.tar.gz", r.body)'`,
  'if [ -n "${PERMAFROST_SOURCE_SHA256:-}" ]; then ' +
  'echo "$PERMAFROST_SOURCE_SHA256  permafrost.tar.gz" | sha256sum -c --quiet -; ' +
  'else echo "permafrost: PERMAFROST_SOURCE_SHA256 is not set; the source is not checked" >&2; fi',
  "mkdir permafrost",
  "tar -xzf permafrost.tar.gz -C permafrost --strip-components=1",
  "cd permafrost",
  'exec deno run --allow-all --quiet --frozen --v8-flags=--max-semi-space-size=8 host/cli/main.ts "$@"',
].join("\n");
