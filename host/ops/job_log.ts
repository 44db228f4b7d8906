/**
 * Reading a launched job's log while it runs (docs/in-region.md §7). The container logs to
 * CloudWatch Logs through the `awslogs` driver (job_definition.ts: group {@link jobLogGroup},
 * stream prefix the job's name), so ECS names the task's stream
 * `PREFIX/permafrost/TASK_ID`. {@link taskLog} reads that stream from its start, each call
 * returning only the events written since the last (GetLogEvents' `nextForwardToken`), and
 * {@link readJobLines} sorts the lines into the latest progress record, the last result
 * document and, for a job on EC2, the exit line its instance writes last: the job runs
 * Permafrost with `--json` (job_launch.ts), which writes progress lines
 * (`{"type":"progress",…}`, README "Progress") on stderr and one result object on stdout
 * (indented, one event per line), both of which the driver sends to the stream.
 *
 * CloudWatch Logs is reached through the AWS SDK (`@aws-sdk/client-cloudwatch-logs`) with the
 * launcher's credentials; {@link logsClient} takes `PERMAFROST_LOGS_ENDPOINT` for a test's moto.
 *
 * @module
 */

import type { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { type S3Target, sdkCredentials } from "../storage/s3_location.ts";
import { jobLogGroup } from "./job_definition.ts";

/** The CloudWatch Logs client in `target`'s region with the host's credentials for it. */
export async function logsClient(
  target: S3Target,
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): Promise<CloudWatchLogsClient> {
  const { CloudWatchLogsClient } = await import("@aws-sdk/client-cloudwatch-logs");
  const endpoint = env("PERMAFROST_LOGS_ENDPOINT") || undefined;
  return new CloudWatchLogsClient({
    region: target.region,
    ...(endpoint ? { endpoint } : {}),
    credentials: sdkCredentials(target),
  });
}

/** The stream the `awslogs` driver writes a task's container to: `PREFIX/permafrost/TASK_ID`. */
export function taskLogStream(jobName: string, taskArn: string): string {
  return `${jobName}/permafrost/${taskArn.split("/").at(-1)}`;
}

/**
 * A reader of one log stream of {@link jobLogGroup}: each call returns the lines written since
 * the previous one, none while the stream does not exist yet (the driver creates it when the
 * container starts).
 */
export function taskLog(
  logs: CloudWatchLogsClient,
  stream: string,
  group: string = jobLogGroup,
): () => Promise<string[]> {
  let token: string | undefined;
  return async () => {
    const sdk = await import("@aws-sdk/client-cloudwatch-logs");
    const lines: string[] = [];
    // A page at a time until the token stops moving: GetLogEvents returns the same token when
    // there is nothing newer.
    for (;;) {
      let out;
      try {
        out = await logs.send(
          new sdk.GetLogEventsCommand({
            logGroupName: group,
            logStreamName: stream,
            startFromHead: true,
            ...(token ? { nextToken: token } : {}),
          }),
        );
      } catch (e) {
        if (e instanceof sdk.ResourceNotFoundException) return lines;
        throw e;
      }
      for (const event of out.events ?? []) {
        if (event.message !== undefined) lines.push(...event.message.split("\n"));
      }
      const next = out.nextForwardToken;
      if (next === undefined || next === token || (out.events ?? []).length === 0) {
        token = next ?? token;
        return lines.filter((l) => l !== "");
      }
      token = next;
    }
  };
}

/** What a job's log has told so far. */
export interface JobLogState {
  /** The latest `{"type":"progress",…}` record. */
  progress?: Record<string, unknown>;
  /** The last other JSON object: the command's `--json` result document. */
  result?: Record<string, unknown>;
  /**
   * The exit status a job on EC2 wrote last (`{"type":"exit","code":N,"instance":ID}`,
   * job_launch_ec2.ts); a Fargate task's is ECS's to tell.
   */
  exit?: number;
  /**
   * The lines of a result document still being read: `--json` prints it indented over many
   * lines, and the `awslogs` driver sends each line as its own event.
   */
  pending?: string[];
}

/** Lines a result document may span before the reader gives up on it. */
const MAX_DOCUMENT_LINES = 100_000;

/**
 * `state` updated with `lines`: one-line progress records, and result documents on one line or
 * from a line `{` to the line that completes the object; other lines are left. Given
 * `instance`, an exit line (`{"type":"exit","code":N,"instance":ID}`) of that EC2 instance
 * sets `exit` (the last one read: the script writes its own after the container ended), even
 * after a result document the job left unfinished; other exit lines are left.
 */
export function readJobLines(
  state: JobLogState,
  lines: string[],
  instance?: string,
): JobLogState {
  let { progress, result, pending, exit } = state;
  const take = (text: string): boolean => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return false;
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) return true;
    const record = value as Record<string, unknown>;
    if (record.type === "progress") progress = record;
    else if (record.type === "exit") {
      if (instance !== undefined && record.instance === instance && Number.isInteger(record.code)) {
        exit = record.code as number;
      }
    } else result = record;
    return true;
  };
  for (const line of lines) {
    if (pending !== undefined && instance !== undefined && isExitLine(line, instance)) {
      // A job killed while printing its result leaves the document open: its instance's exit
      // line, written after the container ended, still tells how it ended.
      pending = undefined;
      take(line);
    } else if (pending !== undefined) {
      pending = [...pending, line];
      if (take(pending.join("\n")) || pending.length > MAX_DOCUMENT_LINES) pending = undefined;
    } else if (line === "{") {
      pending = [line];
    } else if (line.startsWith("{")) {
      take(line);
    }
  }
  return {
    ...(progress ? { progress } : {}),
    ...(result ? { result } : {}),
    ...(exit !== undefined ? { exit } : {}),
    ...(pending ? { pending } : {}),
  };
}

/** Whether `line` is, alone, the exit line of `instance`. */
function isExitLine(line: string, instance: string): boolean {
  if (!line.startsWith("{")) return false;
  try {
    const record = JSON.parse(line);
    return record?.type === "exit" && record.instance === instance;
  } catch {
    return false;
  }
}

/**
 * An `onLog` for a launcher: each progress line the log tells that was not shown yet, as a
 * timestamped status line (`progressStatus`) handed to `print`.
 */
export function newProgressLines(print: (line: string) => void): (state: JobLogState) => void {
  let shown: unknown;
  return (state) => {
    if (state.progress === undefined || state.progress === shown) return;
    shown = state.progress;
    print(`${new Date().toISOString()} ${progressStatus(state.progress)}`);
  };
}

/**
 * One status line for a progress record: `restore 1,234/5,678 files  1.2/3.4 GiB  ETA 0:25`
 * (the ETA from the bytes done in the elapsed time, when the total is known); a rebuild's and
 * a compaction's count packs (`rebuild 12/40 packs  …`).
 */
export function progressStatus(p: Record<string, unknown>): string {
  const n = (v: unknown) => typeof v === "number" ? v : undefined;
  const filesDone = n(p.files_done) ?? 0, filesTotal = n(p.files_total);
  const bytesDone = n(p.bytes_done) ?? 0, bytesTotal = n(p.bytes_total);
  const elapsed = n(p.elapsed_s) ?? 0;
  const unit = p.phase === "rebuild" || p.phase === "compact" ? "packs" : "files";
  const parts = [
    `${p.phase ?? "job"} ${filesDone.toLocaleString("en-US")}` +
    (filesTotal === undefined ? "" : `/${filesTotal.toLocaleString("en-US")}`) + ` ${unit}`,
    `${gib(bytesDone)}` + (bytesTotal === undefined ? "" : `/${gib(bytesTotal)}`) + " GiB",
  ];
  if (p.final === true) parts.push("done");
  else if (bytesTotal !== undefined && bytesDone > 0 && elapsed > 0) {
    parts.push(`ETA ${clock(((bytesTotal - bytesDone) / bytesDone) * elapsed)}`);
  }
  return parts.join("  ");
}

/** The key numbers of a result document: its top-level numbers, `name=value`, in its order. */
export function resultSummary(r: Record<string, unknown>): string {
  return Object.entries(r)
    .filter(([, v]) => typeof v === "number" || typeof v === "boolean")
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
}

function gib(bytes: number): string {
  return (bytes / 2 ** 30).toFixed(1);
}

function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const mm = String(m).padStart(2, "0"), ss = String(r).padStart(2, "0");
  return h > 0 ? `${h}:${mm}:${ss}` : `${m}:${ss}`;
}
