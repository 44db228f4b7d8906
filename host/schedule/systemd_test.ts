import assert from "node:assert/strict";
import { join } from "node:path";
import type { Schedule } from "./schedule_file.ts";
import { systemdUnits } from "./systemd.ts";

/** A backup task whose folders have spaces, `%` and `$` in their names. */
function task(root: string): Schedule {
  const cwd = join(root, "my 100% $HOME");
  return {
    name: "nightly",
    every: "daily@02:30",
    argv: ["backup", "--json", "--key-file", join(cwd, "in gest.key"), join(cwd, "docs")],
    cwd,
    repository: join(cwd, "repo"),
    role: "ingest",
    sandbox: { read: [join(cwd, "docs")], write: [join(cwd, "repo")], net: [], sys: ["hostname"] },
    added: "2026-12-07T00:00:00.000Z",
  };
}

const dirs = { cache: "/tmp/cache", state: "/tmp/state" };
const noEnv = () => undefined;

Deno.test("systemd units of a task in a folder with spaces, % and $ pass systemd-analyze verify", async () => {
  const root = await Deno.makeTempDir();
  const t = task(root);
  Deno.mkdirSync(t.cwd);
  const units = systemdUnits(t, dirs, noEnv);
  const service = units["permafrost-nightly.service"];
  assert.match(service, new RegExp(`^WorkingDirectory=${root}/my 100%% \\$HOME$`, "m"));
  assert.match(service, /--allow-read=[^"]*my 100%% \$\$HOME\/docs/);
  for (const [name, text] of Object.entries(units)) Deno.writeTextFileSync(join(root, name), text);
  const verify = await new Deno.Command("systemd-analyze", {
    args: ["verify", "--man=no", join(root, "permafrost-nightly.service")],
    stdout: "piped",
    stderr: "piped",
  }).output().catch(() => undefined);
  if (verify === undefined) return; // no systemd-analyze here: the lines above still hold
  const said = new TextDecoder().decode(verify.stderr);
  assert.doesNotMatch(said, /permafrost-nightly\.service:\d+:/, said);
});

Deno.test("systemd units refuse a path with a line break, which would inject a directive", () => {
  const t = task("/tmp");
  t.sandbox.read.push("/tmp/x\nExecStartPre=/bin/sh -c evil");
  assert.throws(() => systemdUnits(t, dirs, noEnv), /line break or control character/);
});

Deno.test("a systemd service stops a run at the task's time limit", () => {
  const t = task("/tmp");
  assert.match(
    systemdUnits(t, dirs, noEnv)["permafrost-nightly.service"],
    /^TimeoutStartSec=43200$/m,
  );
  t.timeout = "1h30m";
  assert.match(
    systemdUnits(t, dirs, noEnv)["permafrost-nightly.service"],
    /^TimeoutStartSec=5400$/m,
  );
});

Deno.test("a task on S3 is not exported: a unit file cannot hold its profile's keys", () => {
  const t = { ...task("/tmp"), repository: "s3://bucket/laptop", awsProfile: "pf-ingest" };
  assert.throws(() => systemdUnits(t, dirs, noEnv), /on S3.*run it with `permafrost daemon`/);
});
