/**
 * `schedule add|list|remove|run|export`: scheduled tasks, which `permafrost daemon` runs
 * (docs/schedules.md, docs/cli/schedule.txt). `add` checks the task's command with that
 * command's own option table, its role and credentials, and computes its sandbox, so a mistake
 * is refused now and not at 2 a.m.
 *
 * @module
 */

import { join } from "node:path";
import { defaultRepository } from "../cache/location.ts";
import { decodeKeyExport } from "../repository/keyfile.ts";
import { storageSchemes } from "../storage/schemes.ts";
import { nextRun, parseEvery } from "../schedule/every.ts";
import {
  findSchedule,
  loadSchedules,
  type Schedule,
  schedulesFile,
  updateSchedules,
} from "../schedule/schedule_file.ts";
import { roleOf, sandboxPath, type TaskSandbox } from "../schedule/task_policy.ts";
import { isS3Repository, profileCredentials } from "../schedule/task_credentials.ts";
import { DEFAULT_TIMEOUT, parseTimeout } from "../schedule/time_limit.ts";
import { parseS3Location } from "../storage/s3_location.ts";
import { type Log, runDirs, runTask } from "../schedule/run_task.ts";
import { systemdUnits } from "../schedule/systemd.ts";
import { stateDir, taskDir } from "../schedule/task_runs.ts";
import { scheduleStatuses } from "../schedule/status.ts";
import { Context, jsonOption, UsageError } from "./context.ts";
import {
  type Command,
  type CommandGroup,
  type OptionTable,
  parseCommandLine,
  refuseExtraArguments,
} from "./options.ts";

const env = (n: string) => Deno.env.get(n) || undefined;

const addOptions = {
  every: { type: "string" },
  admin: { type: "boolean" },
  "password-file": { type: "string" },
  "aws-profile": { type: "string" },
  timeout: { type: "string" },
} as const satisfies OptionTable;

export const scheduleCommands: CommandGroup = {
  subcommands: {
    add: { options: addOptions, run: cmdAdd },
    list: { options: jsonOption, run: cmdList },
    remove: { options: {}, run: cmdRemove },
    run: { options: jsonOption, run: cmdRun },
    export: {
      options: { systemd: { type: "boolean" }, dir: { type: "string" } },
      run: cmdExport,
    },
  },
  refuse: (sub) =>
    new UsageError(
      `${sub === undefined ? "schedule needs a command" : `unknown schedule command "${sub}"`}: ` +
        "add, list, remove, run, export",
    ),
};

/** A daemon log line on stderr: time, level, message. */
export const logLine: Log = (level, message) =>
  console.error(`${new Date().toISOString()} ${level} ${message}`);

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * `schedule add NAME --every SPEC [--admin] [--password-file F] [--aws-profile P]
 * [--timeout DURATION] -- CMD...`
 */
async function cmdAdd(ctx: Context): Promise<number> {
  const [name, ...argv] = ctx.positionals;
  if (name === undefined || argv.length === 0) {
    throw new UsageError("schedule add needs NAME and a command: add NAME --every SPEC -- CMD...");
  }
  if (!NAME.test(name)) {
    throw new UsageError(
      `schedule name "${name}": use letters, digits, "-", "_" and "." (it names files)`,
    );
  }
  const spec = ctx.string("every");
  if (spec === undefined) throw new UsageError("schedule add needs --every SPEC");
  try {
    nextRun(parseEvery(spec), new Date());
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const timeout = ctx.string("timeout");
  try {
    if (timeout !== undefined) parseTimeout(timeout);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const file = schedulesFile();
  const exists = (schedules: Schedule[]) => {
    if (schedules.some((s) => s.name === name)) {
      throw new UsageError(`schedule "${name}" exists; remove it first or choose another name`);
    }
  };
  exists(loadSchedules(file));
  const task = await checkTask(ctx, name, spec, argv);
  // Read again under the lock: another `schedule add` may have saved since (checkTask is slow).
  await updateSchedules(file, (schedules) => {
    exists(schedules);
    return [...schedules, task];
  });
  console.log(
    `added schedule "${name}" (${task.role} role), every ${spec}: permafrost ${
      task.argv.join(" ")
    } (time limit ${task.timeout ?? DEFAULT_TIMEOUT})\n  saved in ${file}; run it with ` +
      '"permafrost daemon" or "permafrost schedule export --systemd"',
  );
  return 0;
}

/** The task `argv` names, checked as its own command would check it, with its sandbox. */
async function checkTask(
  ctx: Context,
  name: string,
  every: string,
  argv: string[],
): Promise<Schedule> {
  const { command, words, label } = await commandOf(argv);
  let parsed;
  try {
    parsed = parseCommandLine(label, command.options, argv);
  } catch (err) {
    throw new UsageError(`the scheduled command: ${(err as Error).message}`);
  }
  let role;
  try {
    role = roleOf(label);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (role === "admin" && !ctx.bool("admin")) {
    throw new UsageError(
      `"${label}" needs the admin role (it deletes or rearranges): a schedule holding the ` +
        "admin passphrase is refused unless you add --admin, having read docs/schedules.md " +
        '"Admin tasks"',
    );
  }
  const task = new Context(parsed.positionals.slice(words), parsed.values, command.options);
  const cwd = Deno.cwd();
  const sandbox: TaskSandbox = { read: [], write: [], net: [], sys: ["hostname"] };
  const passwordFile = ctx.string("password-file");
  const keyFile = task.options && "key-file" in task.options ? task.string("key-file") : undefined;
  if (role === "ingest") {
    if (passwordFile !== undefined) {
      throw new UsageError("a scheduled backup never holds the passphrase: drop --password-file");
    }
    if (keyFile === undefined) {
      throw new UsageError(
        "a scheduled backup runs with an ingest (put-only) key, never the passphrase: add " +
          '--key-file FILE to its command (make one with "permafrost key ingest --out FILE")',
      );
    }
    if (decodeKeyExport(Deno.readFileSync(keyFile)).keys.role !== "ingest") {
      throw new UsageError(`"${keyFile}" is not an ingest key; a scheduled backup needs one`);
    }
  } else if (role !== "none" && passwordFile === undefined && keyFile === undefined) {
    throw new UsageError(
      `"${label}" needs the repository passphrase: give --password-file FILE (readable by you ` +
        "alone); the daemon's own PERMAFROST_PASSWORD is never passed to a task",
    );
  }
  for (const f of [keyFile, passwordFile]) if (f) sandbox.read.push(sandboxPath(f, cwd));
  if (label === "backup") await backupReads(task, sandbox, cwd);
  const repository = role === "none" ? "" : task.repoLocation() ?? defaultRepository();
  if (repository !== "") await repositoryAccess(repository, sandbox, cwd);
  const awsProfile = await checkProfile(ctx.string("aws-profile"), repository);
  const withJson = "json" in command.options && !argv.includes("--json")
    ? [...argv.slice(0, words), "--json", ...argv.slice(words)]
    : argv;
  return {
    name,
    every,
    argv: withJson,
    cwd,
    repository,
    role,
    sandbox,
    ...(passwordFile === undefined ? {} : { passwordFile: sandboxPath(passwordFile, cwd) }),
    ...(awsProfile === undefined ? {} : { awsProfile }),
    ...(ctx.string("timeout") === undefined ? {} : { timeout: ctx.string("timeout") }),
    added: new Date().toISOString(),
  };
}

/**
 * The task's `--aws-profile`: required for an S3 repository, whose location must not name a
 * profile of its own, and resolved now, as the daemon will at each run (task_credentials.ts);
 * refused for any other repository.
 */
async function checkProfile(
  profile: string | undefined,
  repository: string,
): Promise<string | undefined> {
  if (!isS3Repository(repository)) {
    if (profile === undefined) return undefined;
    throw new UsageError(
      `--aws-profile is for an S3 repository; "${repository || "(none)"}" is not one: drop it`,
    );
  }
  if (profile === undefined) {
    throw new UsageError(
      `the S3 repository "${repository}" needs the role's own credentials: give --aws-profile ` +
        "NAME, a profile holding only that role's keys (`aws configure --profile pf-ingest` with " +
        "the key of a user under the ingest policy, docs/s3.md §3); a task never gets the " +
        "default profile or the daemon's own keys",
    );
  }
  if (parseS3Location(repository, env).profile !== undefined) {
    throw new UsageError(
      `"${repository}" names a profile ("?profile="): drop it from the location; a task's ` +
        "profile is --aws-profile, whose keys the daemon hands it",
    );
  }
  try {
    await profileCredentials(profile, env);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return profile;
}

/** The command `argv` names (`gc purge`), as main.ts resolves it. */
async function commandOf(
  argv: string[],
): Promise<{ command: Command; words: number; label: string }> {
  const { verbs } = await import("./main.ts");
  const verb = argv[0];
  if (!Object.hasOwn(verbs, verb)) {
    throw new UsageError(`the scheduled command: unknown command "${verb}"`);
  }
  const entry = await verbs[verb]();
  if (!("subcommands" in entry)) return { command: entry, words: 1, label: verb };
  const sub = argv[1];
  if (sub === undefined || !Object.hasOwn(entry.subcommands, sub)) {
    throw new UsageError(`the scheduled command: ${entry.refuse(sub).message}`);
  }
  return { command: entry.subcommands[sub], words: 2, label: `${verb} ${sub}` };
}

/** A backup reads its sources, exclude files, and the configuration file that names them. */
async function backupReads(task: Context, sandbox: TaskSandbox, cwd: string): Promise<void> {
  const { backupJobs } = await import("./backup_jobs.ts");
  for (const job of backupJobs(task)) {
    for (const p of job.paths) sandbox.read.push(sandboxPath(p, cwd));
  }
  for (const f of task.strings("exclude-file")) sandbox.read.push(sandboxPath(f, cwd));
  if (task.positionals.length === 0) {
    const config = task.configuration();
    if (config.file) sandbox.read.push(sandboxPath(config.file, cwd));
    for (const s of config.sources) {
      if (s.excludeFile) sandbox.read.push(sandboxPath(s.excludeFile, cwd));
    }
  }
}

/** The repository's folder or files (read, write) or endpoint (net), as its plugin's. */
async function repositoryAccess(
  location: string,
  sandbox: TaskSandbox,
  cwd: string,
): Promise<void> {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]+):/.exec(location)?.[1] ?? "local";
  const rest = location.startsWith(`${scheme}:`) ? location.slice(scheme.length + 1) : location;
  if (!Object.hasOwn(storageSchemes, scheme)) {
    throw new UsageError(`storage location scheme "${scheme}:" is not supported`);
  }
  const { vars } = await storageSchemes[scheme](rest, { location, create: false });
  for (const p of [...vars.$location ?? [], ...vars.$database ?? []]) {
    sandbox.write.push(sandboxPath(p, cwd));
  }
  if (vars.$endpoint) {
    // No read of ~/.aws: the daemon hands the task its profile's keys (task_credentials.ts).
    sandbox.net.push(...vars.$endpoint);
    sandbox.sys.push("osRelease", "ca");
  }
}

function cmdList(ctx: Context): Promise<number> {
  refuseExtraArguments(ctx, 0);
  const file = schedulesFile();
  const all = scheduleStatuses(file);
  ctx.print({ file, schedules: all }, () => {
    if (all.length === 0) return `no schedules in ${file}`;
    return all.map((s) => {
      const lines = [
        `${s.name}  every ${s.every}  (${s.role})  permafrost ${s.command}`,
        `  next run: ${s.next}`,
      ];
      const r = s.lastRun;
      if (r === null) lines.push("  last run: none yet");
      else {
        const exit = r.exitCode === undefined
          ? r.state
          : r.state === "timed out"
          ? `TIMED OUT, exit ${r.exitCode}`
          : `exit ${r.exitCode}`;
        const cost = r.costUsd === undefined ? "" : `, cost $${r.costUsd}`;
        lines.push(`  last run: ${r.start} (${r.trigger}) ${exit}: ${r.summary ?? ""}${cost}`);
      }
      const alarm = [...s.runs].reverse().find((x) => x.warning);
      if (alarm) lines.push(`  WARNING (run of ${alarm.start}): ${alarm.warning}`);
      return lines.join("\n");
    }).join("\n");
  });
  return Promise.resolve(0);
}

async function cmdRemove(ctx: Context): Promise<number> {
  refuseExtraArguments(ctx, 1);
  const name = ctx.positionals[0];
  if (name === undefined) throw new UsageError("schedule remove needs NAME");
  const file = schedulesFile();
  await updateSchedules(file, (schedules) => {
    findSchedule(schedules, name, file);
    return schedules.filter((s) => s.name !== name);
  });
  console.log(
    `removed schedule "${name}"; its run history stays in ${taskDir(stateDir(env), name)}`,
  );
  return 0;
}

/** `schedule run NAME`: the task now, once, in its sandbox; the exit status is the task's. */
async function cmdRun(ctx: Context): Promise<number> {
  refuseExtraArguments(ctx, 1);
  const name = ctx.positionals[0];
  if (name === undefined) throw new UsageError("schedule run needs NAME");
  const file = schedulesFile();
  const run = await runTask(findSchedule(loadSchedules(file), name, file), "manual", logLine);
  ctx.print(
    run,
    () =>
      run.state === "skipped"
        ? `schedule "${name}": ${run.summary}`
        : `schedule "${name}": exit ${run.exitCode}: ${run.summary}` +
          (run.warning ? `\nWARNING: ${run.warning}` : ""),
  );
  return run.exitCode ?? 0;
}

/** `schedule export --systemd [NAME] [--dir D]`: unit files for the OS scheduler. */
async function cmdExport(ctx: Context): Promise<number> {
  refuseExtraArguments(ctx, 1);
  if (!ctx.bool("systemd")) throw new UsageError("schedule export needs --systemd");
  const file = schedulesFile();
  const schedules = loadSchedules(file);
  const name = ctx.positionals[0];
  const chosen = name === undefined ? schedules : [findSchedule(schedules, name, file)];
  if (chosen.length === 0) throw new UsageError(`no schedules in ${file} to export`);
  const dir = ctx.string("dir") ?? ".";
  await Deno.mkdir(dir, { recursive: true });
  const dirs = runDirs(stateDir(env));
  for (const task of chosen) {
    let units;
    try {
      units = systemdUnits(task, dirs, env);
    } catch (err) {
      throw new UsageError(`schedule "${task.name}": ${(err as Error).message}`);
    }
    for (const [unit, text] of Object.entries(units)) {
      await Deno.writeTextFile(join(dir, unit), text);
      console.log(`wrote ${join(dir, unit)}`);
    }
  }
  console.log(
    "then: copy them to ~/.config/systemd/user/, `systemctl --user daemon-reload` and " +
      "`systemctl --user enable --now permafrost-NAME.timer`",
  );
  return 0;
}
