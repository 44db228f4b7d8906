/**
 * Each command takes its own options, through the real CLI: an option a command does not take
 * is refused (exit 2, naming it and the command) before anything is opened, and every
 * `--dry-run` and `--estimate` leaves the repository's files exactly as they were.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { everyCommand } from "../host/cli/main.ts";
import { cli, initColdRepo, PASSWORD, randomBytes, reopen, tempDir } from "./helpers.ts";

const json = (s: string) => JSON.parse(s);

/** Every file under `dir` (recursively) with its size and modification time. */
function files(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) walk(path);
      else {
        const st = fs.statSync(join(dir, path));
        out[path] = `${st.size} ${st.mtimeMs}`;
      }
    }
  };
  walk("");
  return out;
}

/**
 * A cold-simulation repository with two snapshots, the first forgotten: dead data for gc, two
 * index segments for `gc index`, archived packs for the estimates of restores.
 */
async function setup() {
  const { dir, env } = await initColdRepo(1);
  const src = await tempDir();
  fs.writeFileSync(join(src, "a.bin"), randomBytes(300_000, 1));
  fs.writeFileSync(join(src, "b.bin"), randomBytes(300_000, 2));
  const first = await cli(["backup", src], env);
  assert.equal(first.code, 0, first.stderr);
  fs.rmSync(join(src, "b.bin"));
  fs.writeFileSync(join(src, "c.bin"), randomBytes(200_000, 3));
  const second = await cli(["backup", src], env);
  assert.equal(second.code, 0, second.stderr);
  const forget = await cli(["forget", "--keep-last", "1"], env);
  assert.equal(forget.code, 0, forget.stderr);
  return { dir, env, src };
}

/** The refusal of `option` by `command`, and its pointer to the command's help. */
function assertRefused(r: { code: number; stderr: string }, command: string, option: string) {
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`^permafrost: "${command}" does not take ${option}\n`));
  assert.match(r.stderr, new RegExp(`run "permafrost ${command.split(" ")[0]} --help"`));
}

Deno.test("forget --estimate is refused, and nothing is forgotten", async () => {
  const { dir, env } = await setup();
  const before = files(dir);
  const r = await cli(["forget", "--keep-last", "1", "--estimate"], env);
  assertRefused(r, "forget", "--estimate");
  assert.deepEqual(files(dir), before);
});

Deno.test("gc index --estimate is refused; gc index --dry-run writes nothing", async () => {
  const { dir, env } = await setup();
  const before = files(dir);
  assertRefused(await cli(["gc", "index", "--estimate"], env), "gc index", "--estimate");
  assert.deepEqual(files(dir), before);

  const dry = await cli(["gc", "index", "--dry-run", "--json"], env);
  assert.equal(dry.code, 0, dry.stderr);
  const plan = json(dry.stdout);
  assert.equal(plan.dryRun, true);
  assert.ok(plan.segments >= 2, dry.stdout);
  assert.deepEqual(files(dir), before);
  const human = await cli(["gc", "index", "--dry-run"], env);
  assert.match(human.stdout, /^dry run: nothing was written; would write one segment naming/);

  // What it said is what the real run does.
  const real = json((await cli(["gc", "index", "--json"], env)).stdout);
  assert.deepEqual([real.segments, real.packs], [plan.segments, plan.packs]);
  const added = Object.keys(files(dir)).filter((f) => !(f in before));
  assert.deepEqual(added, [real.segment]);
});

Deno.test("every command refuses another command's option before it opens anything", async () => {
  const home = await tempDir();
  const repo = join(home, "no-repo-here");
  // No passphrase, no terminal: a command that got as far as asking would fail otherwise.
  // (Not HOME: Deno keeps its own cache there.)
  const env = { PERMAFROST_REPO: repo, PERMAFROST_PASSWORD: "", XDG_DATA_HOME: home };
  const cases = (await everyCommand()).map(({ name, command }) => {
    const option = ["estimate", "dry-run", "keep-last"].find((o) => !(o in command.options))!;
    const value = option === "keep-last" ? ["1"] : [];
    return { name, option, argv: [...name.split(" "), "x", `--${option}`, ...value] };
  });
  assert.ok(cases.length >= 25, `${cases.length} commands`);
  for (let i = 0; i < cases.length; i += 4) {
    const batch = cases.slice(i, i + 4);
    const runs = await Promise.all(batch.map((c) => cli(c.argv, env)));
    runs.forEach((r, j) => assertRefused(r, batch[j].name, `--${batch[j].option}`));
  }
  assert.deepEqual(fs.readdirSync(home), [], "nothing was created");
});

/** The CLI run in folder `cwd` (a relative path is read from there), as `cli` runs it. */
async function cliIn(cwd: string, args: string[], env: Record<string, string>) {
  const main = new URL("../host/cli/main.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--quiet", main, ...args],
    cwd,
    env: { PERMAFROST_PASSWORD: PASSWORD, NO_COLOR: "1", ...env },
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test('a path that starts with "-" and holds an h is refused, not taken for --help', async () => {
  const { dir, env } = await initColdRepo(1);
  const src = await tempDir();
  fs.mkdirSync(join(src, "-shared"));
  fs.writeFileSync(join(src, "-shared", "a.txt"), "a");
  const before = files(dir);
  const r = await cliIn(src, ["backup", "-shared"], env);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.equal(r.stdout, "", "no help was printed");
  assert.match(
    r.stderr,
    /^permafrost: "backup" does not take -s \(in "-shared"; .* after "--"\)\n/,
  );
  assert.deepEqual(files(dir), before);

  const dashes = await cliIn(src, ["backup", "--json", "--", "-shared"], env);
  assert.equal(dashes.code, 0, dashes.stderr);
  assert.equal(json((await cli(["snapshots", "--json"], env)).stdout).length, 1);
});

Deno.test("help for a command that does not exist is a usage error, not help", async () => {
  const r = await cli(["help", "bakup"], {});
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^permafrost: no help for "bakup"; commands: init, key, backup,/);
  const gc = await cli(["help", "gc"], {});
  assert.equal(gc.code, 0, gc.stderr);
  assert.match(gc.stdout, /^permafrost gc: /);
});

Deno.test("an empty --repo is refused, not replaced by PERMAFROST_REPO", async () => {
  const { dir, env } = await setup();
  const before = files(dir);
  const runs = [
    ["forget", "--repo", "", "--keep-last", "1"],
    ["gc", "purge", "--repo=", "--grace", "0"],
  ];
  for (const argv of runs) {
    const r = await cli(argv, env);
    assert.equal(r.code, 2, `${argv.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /^permafrost: --repo is empty: give a location/);
  }
  assert.deepEqual(files(dir), before);
});

Deno.test("a word a command would ignore is refused before anything is opened", async () => {
  const home = await tempDir();
  const env = { PERMAFROST_REPO: join(home, "no-repo-here"), PERMAFROST_PASSWORD: "" };
  const cases = [
    [["forget", "3f2a", "--keep-last", "5"], "3f2a"],
    [["snapshots", "3f2a"], "3f2a"],
    [["check", "3f2a"], "3f2a"],
    [["init", "here"], "here"],
    [["cat", "config", "x"], "x"],
    [["ls", "latest", "/a", "/b"], "/b"],
    [["diff", "latest", "a", "b"], "b"],
    [["restore", "latest", "other", "--target", "t"], "other"],
    [["key", "passwd", "x"], "x"],
  ] as const;
  const runs = await Promise.all(cases.map(([argv]) => cli([...argv], env)));
  runs.forEach((r, i) => {
    assert.equal(r.code, 2, `${cases[i][0].join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^permafrost: unexpected argument "${cases[i][1]}"`));
  });
  assert.deepEqual(fs.readdirSync(home), []);
});

Deno.test("init --dry-run asks for nothing and creates nothing; where a repository is, it refuses", async () => {
  const parent = await tempDir();
  const location = join(parent, "repo");
  const env = { PERMAFROST_REPO: location, PERMAFROST_PASSWORD: "" };
  const r = await cli(["init", "--dry-run", "--pack-size", "1MiB", "--json"], env);
  assert.equal(r.code, 0, r.stderr);
  const out = json(r.stdout);
  assert.equal(out.dryRun, true);
  assert.equal(out.config.pack.dataSize, 1 << 20);
  assert.equal(out.config.cold.storageClass, "DEEP_ARCHIVE");
  assert.deepEqual(fs.readdirSync(parent), []);

  const bad = await cli(["init", "--dry-run", "--cold-class", "COLD"], env);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--cold-class must be one of/);

  const { dir, env: existing } = await initColdRepo(1);
  const before = files(dir);
  const again = await cli(["init", "--dry-run"], existing);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already holds a repository/);
  assert.deepEqual(files(dir), before);
});

Deno.test("key passwd --dry-run changes no key object and asks no new passphrase", async () => {
  const { dir, env } = await initColdRepo(1);
  const before = files(dir);
  const r = await cli(["key", "passwd", "--dry-run"], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^dry run: nothing was written; would .* remove keys\//);
  assert.deepEqual(files(dir), before);
  const repo = await reopen(dir, { passphrase: PASSWORD });
  await repo.storage.close();
});

Deno.test("backup --dry-run, --estimate and --budget create no default repository", async () => {
  const home = await tempDir();
  const scratch = await tempDir();
  const src = await tempDir();
  fs.writeFileSync(join(src, "a.bin"), randomBytes(200_000, 4));
  const env = { XDG_DATA_HOME: home, TMPDIR: scratch };
  const defaultRepo = join(home, "permafrost", "repo");

  const dry = await cli(["backup", src, "--dry-run", "--json"], env);
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal(json(dry.stdout).dryRun, true);
  assert.ok(json(dry.stdout).stats.newBytes >= 200_000, "everything is new");
  const estimate = await cli(["backup", src, "--estimate", "--json"], env);
  assert.equal(estimate.code, 0, estimate.stderr);
  assert.ok(json(estimate.stdout).total_usd > 0);
  const over = await cli(["backup", src, "--budget", "0"], env);
  assert.equal(over.code, 1, over.stderr);
  assert.match(over.stderr, /over the budget/);
  assert.equal(fs.existsSync(defaultRepo), false, "no default repository was created");
  assert.deepEqual(fs.readdirSync(scratch), [], "no scratch repository is left behind");

  // Within budget, the backup creates it and saves the snapshot.
  const within = await cli(
    ["backup", src, "--budget", "1000", "--kdf-memlimit", "8MiB", "--json"],
    env,
  );
  assert.equal(within.code, 0, within.stderr);
  assert.match(json(within.stdout).snapshot, /^[0-9a-f]{64}$/);
  assert.ok(fs.existsSync(join(defaultRepo, "config")));
  // Once it exists, a new repository's setting would be ignored: it is refused.
  const ignored = await cli(["backup", src, "--pack-size", "1MiB"], env);
  assert.equal(ignored.code, 2, ignored.stderr);
  assert.match(ignored.stderr, /--pack-size is a setting of a new repository/);
});

Deno.test("no --dry-run or --estimate changes the repository", async () => {
  const { dir, env, src } = await setup();
  const target = join(await tempDir(), "target");
  const runs = [
    ["init", "--dry-run"],
    ["backup", src, "--dry-run"],
    ["backup", src, "--estimate"],
    ["forget", "--keep-last", "1", "--dry-run"],
    ["gc", "compact", "--all", "--dry-run"],
    ["gc", "compact", "--all", "--estimate"],
    ["gc", "purge", "--grace", "0", "--accept-early-fee", "--dry-run"],
    ["gc", "purge", "--grace", "0", "--estimate"],
    ["gc", "index", "--dry-run"],
    ["rebuild", "--dry-run"],
    ["rebuild", "--estimate"],
    ["restore", "latest", "--target", target, "--dry-run"],
    ["restore", "latest", "--estimate"],
    ["check", "--read-data", "--estimate"],
    ["check", "--read-data-subset", "100%", "--estimate"],
    ["key", "passwd", "--dry-run"],
  ];
  const before = files(dir);
  for (const argv of runs) {
    const r = await cli(argv, env);
    assert.ok(r.code === 0 || argv[0] === "init", `${argv.join(" ")}: ${r.stderr}`);
    assert.deepEqual(files(dir), before, `${argv.join(" ")} changed the repository`);
  }
  assert.equal(fs.existsSync(target), false, "restore --dry-run wrote its target");
});

Deno.test("options before the command, and another command's option, are read as every table reads them", async () => {
  const { location, env } = await initColdRepo(1);
  const { PERMAFROST_REPO: _, ...noRepo } = env;
  // `--repo` takes a value: "snapshots" after it is the command, not a repository.
  const before = await cli(["--repo", location, "--json", "snapshots"], noRepo);
  assert.equal(before.code, 0, before.stderr);
  assert.deepEqual(json(before.stdout), []);
  // `--tier` (restore's) takes a value, so `--help` after it is not a request for help.
  const other = await cli(["snapshots", "--tier", "--help"], env);
  assert.equal(other.code, 2, other.stdout);
  assert.equal(other.stdout, "", "no help was printed");
  assert.match(other.stderr, /^permafrost: "snapshots" does not take --tier/);
  // `--keep-last` (forget's) takes a value, so "frob" is the subcommand `gc` refuses.
  const group = await cli(["gc", "--keep-last", "1", "frob"], env);
  assert.equal(group.code, 2);
  assert.match(group.stderr, /"frob"/);
});
