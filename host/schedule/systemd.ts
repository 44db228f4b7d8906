/**
 * A task as a systemd service and timer (docs/schedules.md "systemd"), for users who prefer
 * the OS scheduler to `permafrost daemon`: `OnCalendar=` from the task's `--every`,
 * `Persistent=true` (systemd's catch-up: one run at boot for slots missed while off), the same
 * sandboxed command line and environment the daemon would use, and `TimeoutStartSec=` from
 * its `--timeout` (systemd then sends SIGTERM, and SIGKILL 90 s later). A task on an S3
 * repository is refused: its profile's keys are resolved by permafrost at each run
 * (task_credentials.ts), which a unit file cannot do without handing the task `~/.aws`.
 *
 * @module
 */

import { onCalendar, parseEvery } from "./every.ts";
import type { Schedule } from "./schedule_file.ts";
import { denoArgs, type RunDirs, taskEnv } from "./task_policy.ts";
import { isS3Repository } from "./task_credentials.ts";
import { DEFAULT_TIMEOUT, parseTimeout } from "./time_limit.ts";

/** The unit files of `task`, by file name. */
export function systemdUnits(
  task: Schedule,
  dirs: RunDirs,
  env: (name: string) => string | undefined,
): Record<string, string> {
  if (isS3Repository(task.repository)) {
    throw new TypeError(
      `its repository is on S3, whose profile keys permafrost resolves at each run and a ` +
        "unit file cannot hold: run it with `permafrost daemon`",
    );
  }
  const calendar = onCalendar(parseEvery(task.every));
  const unit = `permafrost-${task.name}`;
  // `$$` in a command line is a `$`, not a variable systemd expands.
  const command = [Deno.execPath(), ...denoArgs(task, dirs)]
    .map((word) => quote(word.replaceAll("$", "$$$$"))).join(" ");
  const environment = Object.entries(taskEnv(task, env)).map(([k, v]) =>
    `Environment=${quote(`${k}=${v}`)}`
  );
  const service = [
    "[Unit]",
    `Description=permafrost schedule "${task.name}" (${specifiers(task.argv.join(" "))})`,
    "",
    "[Service]",
    "Type=oneshot",
    // Taken as it stands, to the end of the line: quotes would be part of the path.
    `WorkingDirectory=${specifiers(task.cwd)}`,
    ...environment,
    `ExecStart=${command}`,
    `TimeoutStartSec=${parseTimeout(task.timeout ?? DEFAULT_TIMEOUT) / 1000}`,
    // Exit 5 (protected files changed) is a failure to systemd: `systemctl --failed` shows it.
    "",
  ].join("\n");
  const timer = [
    "[Unit]",
    `Description=permafrost schedule "${task.name}" every ${task.every}`,
    "",
    "[Timer]",
    ...calendar.map((c) => `OnCalendar=${c}`),
    "Persistent=true",
    `Unit=${unit}.service`,
    "",
    "[Install]",
    "WantedBy=timers.target",
    "",
  ].join("\n");
  return { [`${unit}.service`]: service, [`${unit}.timer`]: timer };
}

/**
 * `text` with `%` doubled, so that systemd expands no specifier in it. A line break or other
 * control character is refused: it would end the line and start a directive of its own.
 */
function specifiers(text: string): string {
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x1f\x7f]/.test(text)) {
    throw new TypeError(
      `${JSON.stringify(text)} has a line break or control character, which a systemd unit ` +
        "cannot hold; rename the path or run the task with `permafrost daemon`",
    );
  }
  return text.replace(/%/g, "%%");
}

/** One word of a systemd command line or assignment: quoted when it needs to be. */
function quote(word: string): string {
  const escaped = specifiers(word);
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}
