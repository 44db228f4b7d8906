/**
 * Red team, concurrency: two `init`s at one location at once, and two first backups creating the
 * default repository at once, through the real CLI (docs/format.md §4.1 "Creating a
 * repository"). Whatever the interleaving, exactly one key set remains, it is the one of the
 * config that won, the loser's passphrase gets a clear refusal, and `check` is clean.
 *
 * The two processes of a pair are started together and nothing orders them, so each pair is one
 * random interleaving; several pairs run at once to vary them further. Before key objects were
 * bound to their config, 2 to 4 pairs in 5 left the loser's key set behind, able to open the
 * repository. Every exact interleaving is staged in host/repository/repository_keys_test.ts.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { check } from "../host/ops/check.ts";
import { Repository } from "../host/repository/repository.ts";
import { openStorage } from "../host/storage/open.ts";
import { cli, tempDir } from "./helpers.ts";

/** Pairs of racing inits; run `BATCH` pairs at a time (2 cores: more only queue). */
const PAIRS = 10;
const BATCH = 5;
const fast = ["--kdf-memlimit", "8MiB"];

type Run = { code: number; stdout: string; stderr: string };

/** Runs `PAIRS` races of `race`, `BATCH` at a time, and returns every result. */
async function races<T>(count: number, race: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < count; i += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, count - i) }, (_, j) => race(i + j));
    out.push(...await Promise.all(batch));
  }
  return out;
}

function keyObjects(repoDir: string): string[] {
  return fs.readdirSync(join(repoDir, "keys"));
}

/** Whether `passphrase` opens the repository at `dir`, as every command would open it. */
async function opens(dir: string, passphrase: string): Promise<boolean> {
  const storage = await openStorage(dir, "admin");
  try {
    await Repository.open(storage, { passphrase });
    return true;
  } catch (err) {
    if ((err as Error).name === "WrongPassphrase") return false;
    throw err;
  } finally {
    await storage.close();
  }
}

/** The winner and loser of a pair that ran with passphrases "a" and "b". */
function judge(a: Run, b: Run, what: string) {
  assert.deepEqual(
    [a.code, b.code].sort(),
    [0, 1],
    `${what}: exactly one wins\n${a.stderr}\n${b.stderr}`,
  );
  const [winner, loser] = a.code === 0 ? ["a", "b"] : ["b", "a"];
  const lost = a.code === 0 ? b : a;
  assert.doesNotMatch(lost.stderr, /^\s+at /m, `${what}: no stack trace`);
  return { winner, loser, lost };
}

Deno.test("two inits at once with different passphrases leave exactly one key set, the winner's", async () => {
  const results = await races(PAIRS, async () => {
    const dir = join(await tempDir(), "repo");
    const init = (passphrase: string) =>
      cli(["init", ...fast], { PERMAFROST_REPO: dir, PERMAFROST_PASSWORD: passphrase });
    const [a, b] = await Promise.all([init("a"), init("b")]);
    return { dir, a, b };
  });
  for (const [i, { dir, a, b }] of results.entries()) {
    const what = `pair ${i}`;
    const { winner, loser, lost } = judge(a, b, what);
    assert.equal(keyObjects(dir).length, 1, `${what}: one key object`);
    assert.ok(await opens(dir, winner), `${what}: the winner's passphrase opens`);
    assert.ok(!(await opens(dir, loser)), `${what}: the loser's passphrase does not`);
    // Either it saw the config before writing anything, or it lost the race for it.
    assert.match(
      lost.stderr,
      /a repository already exists here|already holds a repository: back up into it|another init created a repository here \("[0-9a-f]{8}"\) at the same time, so this one did not: its key object was removed/,
      what,
    );
  }
  // Through the CLI, for one of them: the loser is refused with the key objects and the
  // passphrase it tried named; the owner's check is clean.
  const { dir, a, b } = results[0];
  const { winner, loser } = judge(a, b, "pair 0");
  const refused = await cli(["snapshots"], { PERMAFROST_REPO: dir, PERMAFROST_PASSWORD: loser });
  assert.equal(refused.code, 1);
  assert.match(
    refused.stderr,
    /the passphrase opens none of the repository's key objects \("keys\/[0-9a-f]{64}"\)[^]*\(tried the passphrase in PERMAFROST_PASSWORD\)/,
  );
  const checked = await cli(["check"], { PERMAFROST_REPO: dir, PERMAFROST_PASSWORD: winner });
  assert.equal(checked.code, 0, checked.stdout + checked.stderr);
  assert.match(checked.stdout, /no problems found/);
  assert.doesNotMatch(checked.stderr, /warning/);
});

Deno.test("two first backups at once create one default repository: the loser's passphrase is refused, check is clean", async () => {
  const src = await tempDir();
  fs.writeFileSync(join(src, "a.txt"), "first backup\n");
  // Fewer pairs than inits: each backup derives its key at the default (slow) cost.
  const results = await races(3, async () => {
    const home = await tempDir();
    // No repository configured: the default one under HOME (test/helpers.ts gives each run its
    // own cache and state folders; XDG_DATA_HOME unset puts it under HOME/.local/share).
    const env = (passphrase: string) => ({
      HOME: home,
      XDG_DATA_HOME: "",
      PERMAFROST_REPO: "",
      PERMAFROST_PASSWORD: passphrase,
    });
    // No --kdf-memlimit: a backup that finds the repository created refuses settings of a new one.
    const run = (passphrase: string) => cli(["backup", src], env(passphrase));
    const [a, b] = await Promise.all([run("a"), run("b")]);
    return { dir: join(home, ".local/share/permafrost/repo"), env, a, b };
  });
  for (const [i, { dir, a, b }] of results.entries()) {
    const what = `pair ${i}`;
    const { winner, lost } = judge(a, b, what);
    // One key object, which the winner's passphrase opens: the loser's cannot.
    assert.equal(keyObjects(dir).length, 1, `${what}: one key object`);
    assert.match(lost.stderr, /the passphrase opens none of the repository's key objects/, what);
    const storage = await openStorage(dir, "admin");
    try {
      const repo = await Repository.open(storage, { passphrase: winner });
      const { problems } = await check(repo);
      assert.deepEqual(problems, [], what);
      assert.equal((await repo.snapshots()).length, 1, `${what}: the winner's snapshot`);
    } finally {
      await storage.close();
    }
  }
  const { env, a } = results[0];
  const checked = await cli(["check"], env(a.code === 0 ? "a" : "b"));
  assert.equal(checked.code, 0, checked.stdout + checked.stderr);
  assert.match(checked.stdout, /no problems found/);
});

Deno.test("two first backups at once with one passphrase both succeed, into one repository", async () => {
  const src = await tempDir();
  fs.writeFileSync(join(src, "a.txt"), "first backup\n");
  const home = await tempDir();
  const env = { HOME: home, XDG_DATA_HOME: "", PERMAFROST_REPO: "" };
  const [a, b] = await Promise.all([0, 1].map(() => cli(["backup", src], env)));
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assert.equal(keyObjects(join(home, ".local/share/permafrost/repo")).length, 1);
  const listed = await cli(["snapshots", "--json"], env);
  assert.equal(JSON.parse(listed.stdout).length, 2);
});
