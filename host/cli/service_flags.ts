/**
 * `--emit-job ecs [--image IMAGE] [--job-role ARN]` for `gateway` and `guard`: prints the ECS
 * task definition of the in-region service or scheduled task (host/ops/job_service.ts,
 * docs/in-region.md §8) on stdout, and on stderr the roles' policies and the `aws` commands
 * that start it; `--json` prints all of it as one object. The same environment as the jobs'
 * `--emit-job` (`PERMAFROST_JOB_SOURCE`, `PERMAFROST_JOB_SOURCE_SHA256`,
 * `PERMAFROST_JOB_EXECUTION_ROLE`).
 *
 * @module
 */

import { serviceSpec } from "../ops/job_service.ts";
import { type Context, UsageError } from "./context.ts";
import type { OptionTable } from "./options.ts";

export const serviceOptions = {
  "emit-job": { type: "string" },
  image: { type: "string" },
  "job-role": { type: "string" },
} as const satisfies OptionTable;

/** Whether the command line asks for the spec instead of running. */
export function emitsJob(ctx: Context): boolean {
  return ctx.string("emit-job") !== undefined;
}

/** Prints the spec of `service` for `repo` (see the module doc). */
export function emitService(ctx: Context, service: "gateway" | "guard", repo: string): number {
  if (ctx.string("emit-job") !== "ecs") {
    throw new UsageError(`--emit-job for the ${service} is "ecs" (it runs as an ECS task)`);
  }
  const env = (n: string) => Deno.env.get(n) || undefined;
  const source = env("PERMAFROST_JOB_SOURCE");
  const spec = serviceSpec({
    service,
    repo,
    image: ctx.string("image"),
    source: source ? { url: source, sha256: env("PERMAFROST_JOB_SOURCE_SHA256") } : undefined,
    taskRoleArn: ctx.string("job-role"),
    executionRoleArn: env("PERMAFROST_JOB_EXECUTION_ROLE"),
  });
  if (ctx.json) {
    console.log(JSON.stringify(spec, null, 2));
    return 0;
  }
  console.log(JSON.stringify(spec.taskDefinition, null, 2));
  const r = spec.region;
  const launch = service === "gateway"
    ? [
      `aws ecs create-cluster --region ${r} --cluster-name permafrost   # once`,
      `aws ecs register-task-definition --region ${r} --cli-input-json file://${spec.name}.json`,
      `aws ecs create-service --region ${r} --cli-input-json file://${spec.name}-service.json`,
    ]
    : [
      `aws ecs create-cluster --region ${r} --cluster-name permafrost   # once`,
      `aws ecs register-task-definition --region ${r} --cli-input-json file://${spec.name}.json`,
      `aws scheduler create-schedule --region ${r} --cli-input-json file://${spec.name}-schedule.json`,
    ];
  console.error(
    [
      `# save stdout as ${spec.name}.json; ${
        service === "gateway" ? `${spec.name}-service.json` : `${spec.name}-schedule.json`
      } (fill in the subnets and security groups):`,
      JSON.stringify(spec.launch, null, 2),
      `# task role ${spec.taskRoleArn}: the ${spec.taskRole} policy (permafrost s3 policy ` +
      `--role ${spec.taskRole}${service === "guard" ? " --versioned" : ""}):`,
      JSON.stringify(spec.taskPolicy, null, 2),
      `# execution role ${spec.executionRoleArn}:`,
      JSON.stringify(spec.executionPolicy, null, 2),
      "# then:",
      ...launch,
    ].join("\n"),
  );
  return 0;
}
