/**
 * Scheduled tasks end to end, through the real CLI (docs/schedules.md): `schedule add` checks
 * the task's command now; `permafrost daemon` runs a real backup into a temporary repository as
 * a sandboxed subprocess and records it; after a `kill -9` and missed slots, a restart catches
 * up with exactly one run; an overlapping run is skipped; an alarm (exit 5) is said loudly by
 * `schedule run`, `schedule list` and the `/schedules` page in Chromium; `schedule export
 * --systemd` writes units `systemd-analyze verify` accepts. Each test has its own configuration
 * and state folders (XDG_CONFIG_HOME, PERMAFROST_STATE_DIR in the subprocess's environment).
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { isUnderWay, loadRuns, type RunRecord } from "../host/schedule/task_runs.ts";
import { ensureChromium, launchOptions } from "./rig/chromium.ts";
import { cli, PASSWORD, spawnCli, tempDir } from "./helpers.ts";

interface Setup {
  root: string;
  env: Record<string, string>;
  repo: string;
  src: string;
  key: string;
}

/** A repository with an ingest key, a source folder, and config and state folders of its own. */
async function setup(): Promise<Setup> {
  const root = await tempDir("pf-sched-");
  const env = {
    XDG_CONFIG_HOME: join(root, "config"),
    PERMAFROST_STATE_DIR: join(root, "state"),
    PERMAFROST_CACHE_DIR: join(root, "cache"),
  };
  const repo = join(root, "repo");
  const init = await cli(["init", "--repo", repo, "--kdf-memlimit", "8MiB"], env);
  assert.equal(init.code, 0, init.stderr);
  const key = join(root, "ingest.key");
  const exported = await cli(["key", "ingest", "--repo", repo, "--out", key], env);
  assert.equal(exported.code, 0, exported.stderr);
  const src = join(root, "src");
  fs.mkdirSync(src);
  fs.writeFileSync(join(src, "note.txt"), "hello\n");
  return { root, env, repo, src, key };
}

/** `backup` of the source with the ingest key: the command a schedule runs. */
function backupCommand(s: Setup, ...more: string[]): string[] {
  return ["backup", "--key-file", s.key, "--repo", s.repo, ...more, s.src];
}

function runsOf(s: Setup, name: string): RunRecord[] {
  return loadRuns(join(s.root, "state", "schedules", name));
}

/** Resolves once `ready()` holds, looking each 50 ms (files other processes write). */
async function until(ready: () => boolean, what: string, seconds = 60): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (!ready()) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function snapshotCount(s: Setup): Promise<number> {
  const out = await cli(["snapshots", "--json", "--repo", s.repo], s.env);
  assert.equal(out.code, 0, out.stderr);
  return JSON.parse(out.stdout).length;
}

Deno.test("schedule add checks the task's command now: typos, roles and credentials", async () => {
  const s = await setup();
  const add = (name: string, every: string, argv: string[], ...opts: string[]) =>
    cli(["schedule", "add", name, "--every", every, ...opts, "--", ...argv], s.env);

  const ok = await add("nightly", "daily@02:30", backupCommand(s));
  assert.equal(ok.code, 0, ok.stderr);
  const refusals: [Promise<{ code: number; stderr: string }>, RegExp][] = [
    [add("x", "nightly", backupCommand(s)), /"nightly" is not a schedule: give 5 cron fields/],
    [add("x", "daily", ["backup", "--kee-file", s.key, s.src]), /did you mean --key-file\?/],
    [add("x", "daily", ["bakup", s.src]), /unknown command "bakup"/],
    [
      add("x", "daily", ["backup", "--repo", s.repo, s.src]),
      /runs with an ingest \(put-only\) key/,
    ],
    [add("x", "daily", ["gc", "purge", "--repo", s.repo]), /needs the admin role.*--admin/],
    [add("x", "daily", ["serve"]), /"serve" cannot be scheduled/],
    [add("nightly", "daily", backupCommand(s)), /schedule "nightly" exists/],
    [add("bad/name", "daily", backupCommand(s)), /it names files/],
  ];
  for (const [pending, message] of refusals) {
    const out = await pending;
    assert.equal(out.code, 2, out.stderr);
    assert.match(out.stderr, message);
  }
  const passFile = join(s.root, "admin.pass");
  fs.writeFileSync(passFile, PASSWORD, { mode: 0o600 });
  const admin = await add(
    "purge",
    "weekly",
    ["gc", "purge", "--repo", s.repo],
    "--admin",
    "--password-file",
    passFile,
  );
  assert.equal(admin.code, 0, admin.stderr);

  const list = await cli(["schedule", "list", "--json"], s.env);
  assert.equal(list.code, 0, list.stderr);
  const listed = JSON.parse(list.stdout);
  assert.equal(listed.file, join(s.root, "config", "permafrost", "schedules.json"));
  assert.deepEqual(
    listed.schedules.map((t: { name: string; role: string }) => [t.name, t.role]),
    [["nightly", "ingest"], ["purge", "admin"]],
  );
  assert.match(listed.schedules[0].next, /T\d\d:30:00/);
  assert.equal(listed.schedules[0].lastRun, null);

  const removed = await cli(["schedule", "remove", "purge"], s.env);
  assert.equal(removed.code, 0, removed.stderr);
  const gone = await cli(["schedule", "remove", "purge"], s.env);
  assert.notEqual(gone.code, 0);
  assert.match(gone.stderr, /no schedule "purge".*the schedules are: nightly/);
});

Deno.test("two schedule add at once both land: the slower one reads the file again", async () => {
  const s = await setup();
  // The slower add reads its key file, a FIFO, after it read the schedules: it waits there.
  const fifo = join(s.root, "slow.key");
  const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
  assert.equal(made.code, 0);
  const slow = spawnCli(
    ["schedule", "add", "slow", "--every", "daily", "--", "backup", "--key-file", fifo, s.src],
    { ...s.env, PERMAFROST_REPO: s.repo },
  );
  const writer = await Deno.open(fifo, { write: true }); // returns once the slow add reads it
  const fast = await cli(
    ["schedule", "add", "fast", "--every", "daily", "--", ...backupCommand(s)],
    s.env,
  );
  assert.equal(fast.code, 0, fast.stderr);
  await writer.write(Deno.readFileSync(s.key));
  writer.close();
  const out = await slow.output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));

  const list = JSON.parse((await cli(["schedule", "list", "--json"], s.env)).stdout);
  assert.deepEqual(list.schedules.map((t: { name: string }) => t.name), ["fast", "slow"]);
});

Deno.test("the daemon runs a backup on schedule and, restarted after kill -9, catches up once", async () => {
  const s = await setup();
  const every = 2;
  const added = await cli(
    ["schedule", "add", "often", "--every", `@every ${every}s`, "--", ...backupCommand(s)],
    s.env,
  );
  assert.equal(added.code, 0, added.stderr);

  const daemon = spawnCli(["daemon"], s.env);
  const finished = () => runsOf(s, "often").filter((r) => r.state === "finished");
  await until(() => finished().length >= 1, "the daemon's first run");
  daemon.kill("SIGKILL");
  await daemon.status;
  await Promise.all([daemon.stdout.cancel(), daemon.stderr.cancel()]);
  const first = finished()[0];
  assert.equal(first.exitCode, 0, first.summary);
  assert.equal(first.numbers?.["stats.files"], 1);
  assert.match(first.summary ?? "", /^snapshot [0-9a-f]{8}: stats.files 1/);

  // A run the killed daemon left behind ends on its own; then two slots pass with no daemon.
  await until(() => !runsOf(s, "often").some(isUnderWay), "the orphaned run to end");
  const before = runsOf(s, "often").filter((r) => r.state !== "skipped");
  const lastStart = Date.parse(before[before.length - 1].start);
  const missed = lastStart + 2 * every * 1000 + 50;
  while (Date.now() < missed) await new Promise((r) => setTimeout(r, missed - Date.now()));

  const restart = await cli(["daemon", "--once"], s.env);
  assert.equal(restart.code, 0, restart.stderr);
  assert.match(restart.stderr, /schedule "often": missed [2-9]\d* run\(s\) since .*catching up/);
  const after = runsOf(s, "often").slice(before.length).filter((r) => r.state !== "skipped");
  assert.deepEqual(after.map((r) => [r.trigger, r.state, r.exitCode]), [
    ["catch-up", "finished", 0],
  ]);
  const snapshots = runsOf(s, "often").filter((r) => r.state === "finished").length;
  assert.equal(await snapshotCount(s), snapshots);

  const list = JSON.parse((await cli(["schedule", "list", "--json"], s.env)).stdout);
  assert.equal(list.schedules[0].lastRun.trigger, "catch-up");
  assert.equal(list.schedules[0].lastRun.exitCode, 0);
});

Deno.test("a second daemon on the same state folder is refused while the first runs", async () => {
  const s = await setup();
  const first = spawnCli(["daemon"], s.env);
  const said = first.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/daemon started/.test(text)) {
    const { value, done } = await said.read();
    if (done) break;
    text += value;
  }
  assert.match(text, /daemon started/);
  for (const args of [["daemon", "--once"], ["daemon"]]) {
    const second = await cli(args, s.env);
    assert.equal(second.code, 1, second.stderr);
    assert.match(second.stderr, /another permafrost daemon runs the schedules/);
  }
  first.kill("SIGTERM");
  assert.equal((await first.status).code, 0);
  await Promise.all([said.cancel(), first.stdout.cancel()]);
  const after = await cli(["daemon", "--once"], s.env);
  assert.equal(after.code, 0, after.stderr);
});

Deno.test("a run of a task while its last run is under way is skipped with a log line", async () => {
  const s = await setup();
  // The backup reads this exclude file first; made a FIFO, it holds the run until written.
  const hold = join(s.root, "exclude");
  fs.writeFileSync(hold, "");
  const added = await cli(
    [
      "schedule",
      "add",
      "held",
      "--every",
      "daily",
      "--",
      ...backupCommand(s, "--exclude-file", hold),
    ],
    s.env,
  );
  assert.equal(added.code, 0, added.stderr);
  fs.rmSync(hold);
  const made = await new Deno.Command("mkfifo", { args: [hold] }).output();
  assert.equal(made.code, 0);

  const first = spawnCli(["schedule", "run", "held"], s.env);
  await until(() => runsOf(s, "held").some(isUnderWay), "the first run to start");
  const second = await cli(["schedule", "run", "held"], s.env);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /schedule "held": skipped: another process is running it/);
  assert.match(second.stderr, / info schedule "held": manual run skipped/);

  const fifo = await Deno.open(hold, { write: true });
  fifo.close();
  const out = await first.output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.deepEqual(runsOf(s, "held").map((r) => r.state).sort(), ["finished", "skipped"]);
});

Deno.test("a run that hangs past its --timeout is stopped and recorded loudly as timed out", async () => {
  const s = await setup();
  // As above: the exclude file, made a FIFO nobody writes, holds the run.
  const hold = join(s.root, "exclude");
  fs.writeFileSync(hold, "");
  const added = await cli(
    [
      "schedule",
      "add",
      "hung",
      "--every",
      "daily",
      "--timeout",
      "1s",
      "--",
      ...backupCommand(s, "--exclude-file", hold),
    ],
    s.env,
  );
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /\(time limit 1s\)/);
  fs.rmSync(hold);
  const made = await new Deno.Command("mkfifo", { args: [hold] }).output();
  assert.equal(made.code, 0);

  const run = await cli(["schedule", "run", "hung"], s.env);
  assert.equal(run.code, 143, run.stderr);
  assert.match(run.stdout, /exit 143: timed out after 1s: stopped with SIGTERM/);
  assert.match(run.stdout, /WARNING: the run passed its time limit \(1s\)/);
  assert.match(run.stderr, / error schedule "hung": run \w+ exited 143: TIMED OUT/);
  const [record] = runsOf(s, "hung");
  assert.equal(record.state, "timed out");
  assert.equal(record.exitCode, 143);
  assert.ok(!isUnderWay(record));
  const list = await cli(["schedule", "list"], s.env);
  assert.match(list.stdout, /last run: .* TIMED OUT, exit 143: timed out after 1s/);
  const bad = await cli([
    "schedule",
    "add",
    "x",
    "--every",
    "daily",
    "--timeout",
    "soon",
    "--",
    ...backupCommand(s),
  ], s.env);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /timeout "soon" is not a duration/);
});

Deno.test("a scheduled backup that finds a protected file changed is reported loudly", async () => {
  const s = await setup();
  const added = await cli(
    [
      "schedule",
      "add",
      "guarded",
      "--every",
      "hourly",
      "--",
      ...backupCommand(s, "--never-change", "note.txt"),
    ],
    s.env,
  );
  assert.equal(added.code, 0, added.stderr);
  const clean = await cli(["schedule", "run", "guarded"], s.env);
  assert.equal(clean.code, 0, clean.stderr);
  fs.writeFileSync(join(s.src, "note.txt"), "changed\n");
  const alarm = await cli(["schedule", "run", "guarded"], s.env);
  assert.equal(alarm.code, 5, alarm.stderr);
  assert.match(alarm.stdout, /WARNING: protected files changed or vanished/);
  assert.match(alarm.stderr, / warning schedule "guarded": run \w+ exited 5: WARNING/);
  const list = await cli(["schedule", "list"], s.env);
  assert.match(list.stdout, /last run: .* exit 5/);
  assert.match(list.stdout, /WARNING \(run of .*\): protected files changed or vanished/);

  await ensureChromium();
  const server = await startServe(s);
  const browser = await chromium.launch(launchOptions);
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}schedules?token=${server.token}`);
    assert.equal(await page.locator("header a.here").textContent(), "Schedules");
    const row = page.locator('tr[data-schedule="guarded"]');
    assert.equal(await row.getAttribute("data-exit"), "5");
    assert.match(await row.getAttribute("class") ?? "", /error/);
    assert.match(
      await page.locator('p.alarm[data-schedule="guarded"]').textContent() ?? "",
      /WARNING: schedule\s+guarded.*protected files changed/s,
    );
  } finally {
    await browser.close();
    await server.stop();
  }
});

/** `permafrost serve` on port 0 for the repository of `s`: its address and token. */
async function startServe(s: Setup) {
  const child = spawnCli(["serve", "--repo", s.repo, "--listen", "127.0.0.1:0"], s.env);
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/^open .*$/m.test(text)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  reader.releaseLock();
  await child.stdout.cancel().catch(() => {});
  const url = /^listening on (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(text)?.[1];
  const token = /^access token: (\S+)$/m.exec(text)?.[1];
  assert.ok(url && token, `serve printed no address and token:\n${text}`);
  return {
    url,
    token,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await child.stderr.cancel().catch(() => {});
    },
  };
}

Deno.test("schedule export --systemd writes a timer with OnCalendar and Persistent", async () => {
  const s = await setup();
  const added = await cli(
    ["schedule", "add", "nightly", "--every", "30 2 * * *", "--", ...backupCommand(s)],
    s.env,
  );
  assert.equal(added.code, 0, added.stderr);
  const dir = join(s.root, "units");
  const out = await cli(["schedule", "export", "--systemd", "nightly", "--dir", dir], s.env);
  assert.equal(out.code, 0, out.stderr);
  const timer = fs.readFileSync(join(dir, "permafrost-nightly.timer"), "utf8");
  assert.match(timer, /^OnCalendar=\*-\*-\* 02:30:00$/m);
  assert.match(timer, /^Persistent=true$/m);
  assert.match(timer, /^Unit=permafrost-nightly.service$/m);
  const service = fs.readFileSync(join(dir, "permafrost-nightly.service"), "utf8");
  assert.match(service, /^ExecStart=\S+ run --no-prompt .*--allow-read=\S+ --allow-write=\S+/m);
  assert.match(service, new RegExp(`--allow-write=[^ ]*${s.repo}`));
  assert.doesNotMatch(service, /PERMAFROST_PASSWORD|AWS_SECRET|allow-all/);
  assert.match(service, new RegExp(`^Environment=PERMAFROST_REPO=${s.repo}$`, "m"));

  const interval = await cli(
    ["schedule", "add", "fast", "--every", "@every 5s", "--", ...backupCommand(s)],
    s.env,
  );
  assert.equal(interval.code, 0, interval.stderr);
  const refused = await cli(["schedule", "export", "--systemd", "fast", "--dir", dir], s.env);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /test and debug form; a systemd timer needs a calendar/);

  const analyze = await new Deno.Command("systemd-analyze", {
    args: ["verify", "--man=no", join(dir, "permafrost-nightly.timer")],
    stdout: "piped",
    stderr: "piped",
  }).output().catch(() => undefined);
  if (analyze === undefined) return; // no systemd-analyze on this machine: the content above
  const said = new TextDecoder().decode(analyze.stderr);
  // verify may complain about the machine (no running systemd); never about our units' syntax.
  assert.doesNotMatch(said, /permafrost-nightly\.(timer|service):\d+:/, said);
});
