/**
 * `--in-region`: launching an in-region job and following it to the end (docs/in-region.md §7).
 * The job spec (`job_spec.ts`) is registered as an ECS task definition, run once on Fargate in
 * the given cluster and awsvpc network, and described until it has STOPPED; each status change
 * is reported as it is seen. The outcome carries the container's exit code, how long the task
 * ran, and its Fargate compute at the table's prices (docs/cost-model.md §6.2; the ephemeral
 * storage a large job asks for at host/cost/ec2_job.ts's), to set against
 * the estimate. The task runs the command with `--json` (see {@link runTaskInput}); given a log
 * reader, the launcher reads the task's log between descriptions and once more after STOPPED,
 * and tells the latest progress record and the result document (`job_log.ts`).
 *
 * A job Fargate does not fit runs on EC2 instead (`job_launch_ec2.ts`).
 *
 * ECS is reached through the AWS SDK (`@aws-sdk/client-ecs`) with the launcher's own
 * credentials (an admin's): the task itself runs as the spec's task role. {@link ecsClient}
 * takes `PERMAFROST_ECS_ENDPOINT` for a test's moto.
 *
 * @module
 */

import type { ECSClient, RegisterTaskDefinitionCommandInput } from "@aws-sdk/client-ecs";
import { fargateItems } from "../cost/fargate.ts";
import { ec2Prices, fargateStorageItems } from "../cost/ec2_job.ts";
import type { LineItem } from "../cost/estimate.ts";
import type { PriceTable } from "../cost/price_table.ts";
import { type S3Target, sdkCredentials } from "../storage/s3_location.ts";
import { type JobLogState, readJobLines } from "./job_log.ts";
import type { JobSpec } from "./job_spec.ts";

/** Where the task runs: the cluster and its awsvpc network. */
export interface LaunchNetwork {
  cluster: string;
  subnets: string[];
  securityGroups: string[];
  /** Give the task a public IP (a public subnet without a NAT gateway needs it). */
  publicIp: boolean;
}

/** How a launched job ended. */
export interface LaunchOutcome {
  taskArn: string;
  taskDefinitionArn: string;
  /** The container's exit code (Permafrost's exit status), when ECS reports one. */
  exitCode?: number;
  stoppedReason?: string;
  /** Every status seen, in order (PROVISIONING, PENDING, RUNNING, ..., STOPPED). */
  statuses: string[];
  /** Seconds from launch to STOPPED, by the launcher's clock. */
  seconds: number;
  /** The task's Fargate compute for `seconds`, and its ephemeral storage over 20 GiB. */
  items: LineItem[];
  usd: number;
  /** What the task's log told (nothing without a log reader, or before its stream existed). */
  log: JobLogState;
}

/** Options of {@link launchJob}. */
export interface LaunchOptions {
  table: PriceTable;
  /** Seconds between DescribeTasks. */
  intervalSeconds: number;
  /** Told each new status. */
  onStatus?: (status: string, at: Date) => void;
  /**
   * Told the task's ARN once RunTask started it: from then on the task runs whether or not
   * this process follows it (an interrupted launcher leaves it running).
   */
  onStarted?: (taskArn: string) => void;
  /** The task's log reader (`taskLog` of its stream): new lines on each call. */
  log?: (taskArn: string) => () => Promise<string[]>;
  /** Told what the log has told so far, each time it tells something new. */
  onLog?: (state: JobLogState) => void;
  /**
   * Told when reading the log fails (no permission, for example); the launcher then stops
   * reading it and follows the task to its end all the same.
   */
  onLogError?: (error: unknown) => void;
  /** Waits between descriptions (default a timer); the clock (default `new Date()`). */
  sleep?: (ms: number) => Promise<void>;
  now?: () => Date;
}

/** The ECS client in `target`'s region with the host's credentials for it. */
export async function ecsClient(
  target: S3Target,
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): Promise<ECSClient> {
  const { ECSClient } = await import("@aws-sdk/client-ecs");
  const endpoint = env("PERMAFROST_ECS_ENDPOINT") || undefined;
  return new ECSClient({
    region: target.region,
    ...(endpoint ? { endpoint } : {}),
    credentials: sdkCredentials(target),
  });
}

/**
 * Registers `spec`'s task definition, runs it once on Fargate in `network`, and describes it
 * every `intervalSeconds` until it has stopped. A `TypeError` for a Batch spec (only ECS tasks
 * are launched); an `Error` naming the reason when ECS does not start the task.
 */
export async function launchJob(
  ecs: ECSClient,
  spec: JobSpec,
  network: LaunchNetwork,
  o: LaunchOptions,
): Promise<LaunchOutcome> {
  if (spec.kind !== "ecs") {
    throw new TypeError(
      "--in-region launches ECS tasks on Fargate: use --emit-job batch for Batch",
    );
  }
  const sdk = await import("@aws-sdk/client-ecs");
  const now = o.now ?? (() => new Date());
  const registered = await ecs.send(
    new sdk.RegisterTaskDefinitionCommand(
      spec.definition as unknown as RegisterTaskDefinitionCommandInput,
    ),
  );
  const taskDefinitionArn = registered.taskDefinition?.taskDefinitionArn;
  if (!taskDefinitionArn) throw new Error(`ECS registered no task definition "${spec.name}"`);
  const started = now();
  const run = await ecs.send(
    new sdk.RunTaskCommand(runTaskInput(spec, network, taskDefinitionArn)),
  );
  const taskArn = run.tasks?.[0]?.taskArn;
  if (!taskArn) {
    const why = (run.failures ?? []).map((f) => `${f.arn ?? ""} ${f.reason ?? ""}`.trim());
    throw new Error(
      `ECS did not start the task "${spec.name}" in cluster "${network.cluster}"` +
        (why.length ? `: ${why.join("; ")}` : ""),
    );
  }
  o.onStarted?.(taskArn);
  let read = o.log?.(taskArn);
  let log: JobLogState = {};
  const readLog = async () => {
    if (read === undefined) return;
    try {
      const lines = await read();
      const next = readJobLines(log, lines);
      const told = next.progress !== log.progress || next.result !== log.result;
      log = next;
      if (told) o.onLog?.(log);
    } catch (e) {
      read = undefined;
      o.onLogError?.(e);
    }
  };
  const statuses: string[] = [];
  for (;;) {
    const out = await ecs.send(
      new sdk.DescribeTasksCommand({ cluster: network.cluster, tasks: [taskArn] }),
    );
    const task = out.tasks?.[0];
    if (task === undefined) {
      // ECS forgets a stopped task after a while (or never knew it): asking again cannot help.
      const why = (out.failures ?? []).map((f) => f.reason ?? "").filter((r) => r !== "");
      throw new Error(
        `ECS no longer describes task ${taskArn} in cluster "${network.cluster}"` +
          (why.length ? ` (${why.join("; ")})` : "") + ": its exit code is unknown; " +
          "read its log for how it ended",
      );
    }
    const status = task.lastStatus ?? "UNKNOWN";
    if (statuses.at(-1) !== status) {
      statuses.push(status);
      o.onStatus?.(status, now());
    }
    await readLog();
    if (status === "STOPPED") {
      // The driver may send the last lines after ECS reports STOPPED: read once more.
      await readLog();
      const seconds = Math.max(0, (now().getTime() - started.getTime()) / 1000);
      const items = [
        ...fargateItems(seconds / 3600, spec.size, o.table),
        ...(spec.size.diskGiB
          ? fargateStorageItems(spec.size.diskGiB, seconds / 3600, ec2Prices(spec.region))
          : []),
      ];
      const exitCode = task.containers?.find((c) => c.name === "permafrost")?.exitCode;
      return {
        taskArn,
        taskDefinitionArn,
        ...(exitCode !== undefined ? { exitCode } : {}),
        ...(task.stoppedReason ? { stoppedReason: task.stoppedReason } : {}),
        statuses,
        seconds,
        items,
        usd: Math.round(items.reduce((s, i) => s + i.usd, 0) * 1e6) / 1e6,
        log: {
          ...(log.progress ? { progress: log.progress } : {}),
          ...(log.result ? { result: log.result } : {}),
        },
      };
    }
    const ms = o.intervalSeconds * 1000;
    await (o.sleep ? o.sleep(ms) : new Promise((r) => setTimeout(r, ms)));
  }
}

/**
 * RunTask's input: one Fargate task of the registered definition in `network`, started by
 * `permafrost`, with the container's command and `--json` as an override (so the task's log
 * carries its progress records and its result document; the rest as the definition's, so the
 * running task shows what it was launched with).
 */
export function runTaskInput(spec: JobSpec, network: LaunchNetwork, taskDefinition: string) {
  const container = (spec.definition.containerDefinitions as { command: string[] }[])[0];
  return {
    cluster: network.cluster,
    taskDefinition,
    launchType: "FARGATE" as const,
    count: 1,
    startedBy: "permafrost",
    networkConfiguration: {
      awsvpcConfiguration: {
        subnets: network.subnets,
        securityGroups: network.securityGroups,
        assignPublicIp: network.publicIp ? "ENABLED" as const : "DISABLED" as const,
      },
    },
    overrides: {
      containerOverrides: [{ name: "permafrost", command: jsonCommand(container.command) }],
    },
  };
}

/** `command` with `--json` at its end (Permafrost's arguments end it), unless it has it. */
export function jsonCommand(command: string[]): string[] {
  return command.includes("--json") ? command : [...command, "--json"];
}
