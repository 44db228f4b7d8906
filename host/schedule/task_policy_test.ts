import assert from "node:assert/strict";
import { join } from "node:path";
import type { Schedule } from "./schedule_file.ts";
import { NEVER_PASSED, sandboxFlags, taskEnv } from "./task_policy.ts";

function backupTask(dir: string): Schedule {
  return {
    name: "nightly",
    every: "daily",
    argv: ["backup", "--json", "--key-file", join(dir, "ingest.key"), join(dir, "src")],
    cwd: dir,
    repository: join(dir, "repo"),
    role: "ingest",
    sandbox: {
      read: [join(dir, "ingest.key"), join(dir, "src")],
      write: [join(dir, "repo")],
      net: [],
      sys: ["hostname"],
    },
    added: new Date().toISOString(),
  };
}

Deno.test("a scheduled backup's environment holds none of the daemon's credentials", () => {
  const daemon: Record<string, string> = {
    HOME: "/home/me",
    PATH: "/usr/bin",
    PERMAFROST_STATE_DIR: "/state",
    SOME_TOKEN: "x",
  };
  for (const name of NEVER_PASSED) daemon[name] = "admin secret";
  const env = taskEnv(backupTask("/t"), (n) => daemon[n]);
  assert.deepEqual(env, {
    HOME: "/home/me",
    PATH: "/usr/bin",
    PERMAFROST_STATE_DIR: "/state",
    PERMAFROST_REPO: "/t/repo",
  });
});

Deno.test("a reader task gets its own password file, never the daemon's", () => {
  const task: Schedule = { ...backupTask("/t"), role: "reader", passwordFile: "/t/reader.pass" };
  const env = taskEnv(task, (n) => n === "PERMAFROST_PASSWORD_FILE" ? "/admin.pass" : undefined);
  assert.equal(env.PERMAFROST_PASSWORD_FILE, "/t/reader.pass");
});

Deno.test("an S3 task's environment holds exactly its profile's keys, and its flags no ~/.aws", () => {
  const task: Schedule = {
    ...backupTask("/t"),
    repository: "s3://bucket/laptop",
    awsProfile: "pf-ingest",
    sandbox: { ...backupTask("/t").sandbox, write: [], net: ["s3.amazonaws.com:443"] },
  };
  const daemon: Record<string, string> = {
    HOME: "/home/me",
    AWS_REGION: "eu-west-1",
    AWS_PROFILE: "admin",
    AWS_ACCESS_KEY_ID: "ADMINKEY",
    AWS_SECRET_ACCESS_KEY: "admin-secret",
    AWS_SHARED_CREDENTIALS_FILE: "/home/me/.aws/credentials",
    AWS_CONFIG_FILE: "/home/me/.aws/config",
  };
  const profile = { AWS_ACCESS_KEY_ID: "INGESTKEY", AWS_SECRET_ACCESS_KEY: "ingest-secret" };
  assert.deepEqual(taskEnv(task, (n) => daemon[n], profile), {
    HOME: "/home/me",
    AWS_REGION: "eu-west-1",
    PERMAFROST_REPO: "s3://bucket/laptop",
    AWS_ACCESS_KEY_ID: "INGESTKEY",
    AWS_SECRET_ACCESS_KEY: "ingest-secret",
  });
  const flags = sandboxFlags(task, { cache: "/home/me/.cache/pf", state: "/home/me/.state/pf" });
  const read = flags.find((f) => f.startsWith("--allow-read="))!.split("=")[1].split(",");
  assert.ok(!read.some((p) => p.includes(".aws") || p === "/home/me"), read.join(","));
  assert.ok(flags.includes("--allow-net=s3.amazonaws.com:443"));
});

Deno.test("a scheduled backup's subprocess reads its sources and nothing outside them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pf-sandbox-" });
  try {
    const outside = await Deno.makeTempDir({ prefix: "pf-outside-" });
    await Deno.writeTextFile(join(outside, "secret"), "admin passphrase");
    await Deno.mkdir(join(dir, "src"));
    await Deno.writeTextFile(join(dir, "src", "a.txt"), "mine");
    const probe = join(dir, "probe.ts");
    await Deno.writeTextFile(
      probe,
      `const tries = {
        source: () => Deno.readTextFileSync(${JSON.stringify(join(dir, "src", "a.txt"))}),
        outside: () => Deno.readTextFileSync(${JSON.stringify(join(outside, "secret"))}),
        writeSource: () => Deno.writeTextFileSync(${JSON.stringify(join(dir, "src", "b"))}, "x"),
        run: () => new Deno.Command("true").outputSync(),
      };
      const out = {};
      for (const [k, f] of Object.entries(tries)) {
        try { f(); out[k] = "allowed"; } catch (e) { out[k] = e.name; }
      }
      try { (await Deno.connect({ hostname: "127.0.0.1", port: 9 })).close(); out.net = "allowed"; }
      catch (e) { out.net = e.name; }
      console.log(JSON.stringify(out));`,
    );
    const flags = sandboxFlags(backupTask(dir), { cache: join(dir, "c"), state: join(dir, "s") });
    const out = await new Deno.Command(Deno.execPath(), {
      args: [...flags, probe],
      clearEnv: true,
      env: { PATH: Deno.env.get("PATH") ?? "" },
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), {
      source: "allowed",
      outside: "NotCapable",
      writeSource: "NotCapable",
      run: "NotCapable",
      net: "NotCapable",
    });
    await Deno.remove(outside, { recursive: true });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a state folder with a comma is refused, not split into a wider permission list", () => {
  const task = backupTask("/tmp/pf");
  assert.throws(
    () => sandboxFlags(task, { cache: "/tmp/pf/c", state: "/tmp/pf/state,/" }),
    /"\/tmp\/pf\/state,\/" has a comma/,
  );
});
