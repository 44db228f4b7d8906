/**
 * The CLI's output agrees with itself, through the real CLI: the text and `--json` of a backup
 * count the same things, counts take the singular for one, columns line up, an estimate's time
 * says what it is the time of, and a mistake names the path and what to do.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { cli, PASSWORD, randomBytes, tempDir } from "./helpers.ts";

async function setup() {
  const repo = join(await tempDir(), "repo");
  const env = { PERMAFROST_REPO: repo, PERMAFROST_CACHE_DIR: await tempDir() };
  const init = await cli(["init", "--kdf-memlimit", "8MiB", "--pack-size", "1MiB"], env);
  assert.equal(init.code, 0, init.stderr);
  const src = await tempDir();
  fs.writeFileSync(join(src, "a.txt"), "one file");
  return { repo, env, src };
}

Deno.test("backup's text counts what its --json counts, in the singular for one", async () => {
  const { env, src } = await setup();
  const text = await cli(["backup", src], env);
  assert.equal(text.code, 0, text.stderr);
  const again = await cli(["backup", src, "--json"], env);
  assert.equal(again.code, 0, again.stderr);
  const snaps = JSON.parse((await cli(["snapshots", "--json"], env)).stdout);
  const first = snaps[0].stats;
  const lines = text.stdout.split("\n");
  assert.match(lines[1], /^ {2}1 file, 1 dir, 8 B \(0 files unchanged\)$/);
  assert.match(
    lines[2],
    new RegExp(`^ {2}${first.newBlobs} new blobs, .* stored in 2 packs$`),
    "the snapshot's own counters: a data pack and a tree pack",
  );
  assert.match(lines[3], /^ {2}\d+ B of snapshot details stored in 1 more pack$/);
  assert.doesNotMatch(text.stdout, /\b1 (files|packs|blobs|dirs)\b/);

  const unchanged = JSON.parse(again.stdout);
  assert.equal(unchanged.stats.newBlobs, 0);
  const third = await cli(["backup", src], env);
  // "(0 files unchanged)" or "(1 file unchanged)": the file cache trusts a file once it is old enough.
  assert.match(
    third.stdout,
    /^ {2}1 file, 1 dir, 8 B \((0 files|1 file) unchanged\)\n {2}no new data\n/m,
  );
  assert.doesNotMatch(third.stdout, /0 B stored in 1 packs/);
});

Deno.test("snapshots lines its columns up under the header", async () => {
  const { env, src } = await setup();
  assert.equal((await cli(["backup", src, "--tag", "a-long-tag"], env)).code, 0);
  fs.writeFileSync(join(src, "b.txt"), "x".repeat(5000));
  assert.equal((await cli(["backup", src], env)).code, 0);
  const out = (await cli(["snapshots"], env)).stdout.trimEnd().split("\n");
  assert.equal(out.length, 3);
  const header = out[0];
  for (const column of ["time", "host", "tags", "paths"]) {
    const at = header.indexOf(column);
    for (const row of out.slice(1)) {
      assert.notEqual(row[at - 1], undefined);
      assert.equal(row[at - 1], " ", `"${column}" starts a column in:\n${out.join("\n")}`);
      assert.notEqual(row[at], " ", `"${column}" starts a column in:\n${out.join("\n")}`);
    }
  }
  // Counts and sizes end where their header ends.
  for (const column of ["files", "size"]) {
    const end = header.indexOf(column) + column.length;
    for (const row of out.slice(1)) {
      assert.notEqual(row[end - 1], " ");
      assert.equal(row[end], " ", `"${column}" ends a column in:\n${out.join("\n")}`);
    }
  }
});

Deno.test("estimate store says that its time is the upload's", async () => {
  const r = await cli([
    "estimate",
    "store",
    "--size",
    "1GiB",
    "--object-size",
    "64MiB",
    "--months",
    "3",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^time: +.+ \(the upload, at 100-1,000 Mbit\/s\)$/m);
  const restore = await cli(["estimate", "restore", "--size", "1GiB", "--object-size", "64MiB"]);
  assert.match(restore.stdout, /^time: +.+ \(the standard restore, then the download, at .+\)$/m);
});

Deno.test("init where a repository exists names the location and what to do", async () => {
  const { repo, env } = await setup();
  const r = await cli(["init", "--kdf-memlimit", "8MiB"], env);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(
    r.stderr,
    `permafrost: "${repo}" already holds a repository: back up into it with --repo "${repo}" ` +
      "(or PERMAFROST_REPO), or give init another location\n",
  );
});

Deno.test("restore into a file says in one sentence that the target must be a folder", async () => {
  const { env, src } = await setup();
  assert.equal((await cli(["backup", src], env)).code, 0);
  const file = join(await tempDir(), "f");
  fs.writeFileSync(file, "x");
  const r = await cli(["restore", "latest", "--target", file], env);
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    `permafrost: target "${file}" is a file, not a folder: give --target a folder, new or ` +
      "existing\n",
  );
  assert.equal(fs.readFileSync(file, "utf8"), "x");
});

Deno.test("a misspelled command, subcommand or option gets one close suggestion", async () => {
  const cases: [string[], string][] = [
    [["bakup", "/tmp"], 'unknown command "bakup"; did you mean "backup"?'],
    [["gc", "mrak"], 'did you mean "gc mark"?'],
    [["snapshots", "--jsno"], '"snapshots" does not take --jsno; did you mean --json?'],
    [["backup", "/tmp", "--dryrun"], '"backup" does not take --dryrun; did you mean --dry-run?'],
    [["help", "snapshot"], 'did you mean "snapshots"?'],
  ];
  for (const [args, said] of cases) {
    const r = await cli(args);
    assert.equal(r.code, 2, r.stderr);
    assert.ok(r.stderr.split("\n")[0].endsWith(said), `${args.join(" ")}: ${r.stderr}`);
  }
  const far = await cli(["xyz"]);
  assert.equal(far.stderr.split("\n")[0], 'permafrost: unknown command "xyz"');
});

Deno.test("--budget on a local repository says that nothing is billed", async () => {
  const { env, src } = await setup();
  const backup = await cli(["backup", src, "--budget", "5"], env);
  assert.equal(backup.code, 0, backup.stderr);
  assert.match(
    backup.stderr,
    /^note: --budget: .* is not on S3, so nothing is billed; the budget is held to what this would cost on S3/m,
  );
  for (const stage of ["compact", "purge"]) {
    const r = await cli(["gc", stage, "--budget", "5"], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /^note: --budget: .* is not on S3, so nothing is billed; the budget has nothing to limit here$/m,
      `gc ${stage}`,
    );
  }
  const target = await tempDir();
  for (
    const args of [
      ["restore", "latest", "--target", target, "--budget", "5"],
      ["check", "--read-data", "--budget", "5"],
      ["check", "--read-data-subset", "100%", "--budget", "5"],
      ["rebuild", "--budget", "5"],
    ]
  ) {
    const r = await cli(args, env);
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    assert.match(
      r.stderr,
      /^note: --budget: .* is not on S3, so nothing is billed; the budget has nothing to limit here$/m,
      args.join(" "),
    );
  }
  const without = await cli(["backup", src], env);
  assert.doesNotMatch(without.stderr, /--budget/);
});

Deno.test("deno task -q pf, as the README runs it, prints no Task line and no escape codes when redirected", async () => {
  const { env } = await setup();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "pf", "snapshots"],
    cwd: new URL("..", import.meta.url).pathname,
    env: { ...env, PERMAFROST_PASSWORD: PASSWORD },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const all = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, all);
  assert.equal(all, "no snapshots\n");
  const readme = Deno.readTextFileSync(new URL("../README.md", import.meta.url));
  assert.doesNotMatch(readme, /deno task pf /, "the README runs the CLI with -q");
});

Deno.test("after a backup, a last gc mark over its threshold is said in one line with the command", async () => {
  const { env, src } = await setup();
  const state = { ...env, PERMAFROST_STATE_DIR: await tempDir() };
  fs.writeFileSync(join(src, "big.bin"), randomBytes(400_000, 7));
  assert.equal((await cli(["backup", src], state)).code, 0);
  fs.rmSync(join(src, "big.bin"));
  assert.equal((await cli(["backup", src], state)).code, 0);
  assert.equal((await cli(["forget", "--keep-last", "1"], state)).code, 0);

  const within = await cli(["gc", "mark", "--threshold", "100"], state);
  assert.equal(within.code, 0, within.stderr);
  const quiet = await cli(["backup", src], state);
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.doesNotMatch(quiet.stderr, /gc mark/);

  const over = await cli(["gc", "mark", "--threshold", "1"], state);
  assert.equal(over.code, 0, over.stderr);
  const said = await cli(["backup", src], state);
  assert.equal(said.code, 0, said.stderr);
  const lines = said.stderr.split("\n").filter((l) => /gc mark/.test(l));
  assert.equal(lines.length, 1, said.stderr);
  assert.match(
    lines[0],
    /^note: the last gc mark \(\d{4}-\d\d-\d\d\) found dead data at \d+\.\d% of the monthly bill, over its 1% threshold: run `permafrost gc compact --estimate`, then `permafrost gc compact`$/,
  );
  const json = JSON.parse((await cli(["backup", src, "--json"], state)).stdout);
  assert.equal(json.compaction_due, lines[0]);
});

Deno.test("check --read-data counts the packs it read, and says what the object count counts", async () => {
  const { env, src } = await setup();
  assert.equal((await cli(["backup", src], env)).code, 0);
  const res = await cli(["check", "--read-data"], env);
  assert.equal(res.code, 0, res.stderr);
  const json = JSON.parse((await cli(["check", "--read-data", "--json"], env)).stdout);
  const packs = json.packs as number;
  assert.ok(json.readPacks > packs, "metadata packs are read twice: hot and cold copy");
  assert.match(
    res.stdout,
    new RegExp(
      `read ${packs} packs whole \\(${json.readPacks} objects: a metadata pack's hot and cold`,
    ),
  );
});
