/**
 * `--estimate` and the cost gate on real operations, through the CLI on local repositories:
 * a restore's alternatives on the local back end's simulated cold storage, as JSON and text;
 * `--budget` and `PERMAFROST_CONFIRM_USD` refusing before anything is written or any restore
 * request is made (no job saved, no pack's state changed); `--yes`; and
 * `check --read-data --estimate`. The numbers and decisions of the estimates themselves (what a
 * backup would write, the tiers a cold class offers) are tested on the workflows directly:
 * host/workflows/{backup_estimate,restore_estimate,read_estimate}_test.ts.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { cli, randomBytes, tempDir } from "./helpers.ts";

interface Item {
  what: string;
  quantity: number;
  unit: string;
  unit_usd: number;
  usd: number;
}

/** A repository (plain folder, or simulated cold) and a source of three 700 kB files. */
async function setup(options: { cold?: boolean } = {}) {
  const dir = join(await tempDir(), "repo");
  const env = {
    PERMAFROST_REPO: options.cold ? `local:${dir}?cold=simulate&restore-delay=60` : dir,
    PERMAFROST_CACHE_DIR: await tempDir(),
    PERMAFROST_STATE_DIR: await tempDir(),
  };
  const init = await cli(["init", "--kdf-memlimit", "8MiB", "--pack-size", "1MiB"], env);
  assert.equal(init.code, 0, init.stderr);
  const src = join(await tempDir(), "src");
  fs.mkdirSync(join(src, "sub"), { recursive: true });
  for (let i = 0; i < 3; i++) fs.writeFileSync(join(src, `f${i}`), randomBytes(700_000, 11 + i));
  fs.writeFileSync(join(src, "sub", "note.txt"), "a note\n");
  return { env, src, state: env.PERMAFROST_STATE_DIR };
}

async function backup(env: Record<string, string>, src: string) {
  const b = await cli(["backup", src], env);
  assert.equal(b.code, 0, b.stderr);
}

/** The items add up to the total, each is quantity × unit price. */
function assertSums(e: { total_usd: number; items: Item[] }) {
  for (const i of e.items) assert.ok(Math.abs(i.quantity * i.unit_usd - i.usd) < 1e-5, i.what);
  const sum = e.items.reduce((s, i) => s + i.usd, 0);
  assert.ok(Math.abs(sum - e.total_usd) < 1e-9, `items ${sum}, total ${e.total_usd}`);
}

/** What the survey (`restore --dry-run`) says of the packs: states and counts. */
async function survey(env: Record<string, string>) {
  const dry = await cli(["restore", "latest", "--dry-run", "--json"], env);
  assert.equal(dry.code, 0, dry.stderr);
  return JSON.parse(dry.stdout).cold;
}

const jobs = (state: string) => {
  try {
    return fs.readdirSync(join(state, "restore-jobs"));
  } catch {
    return [];
  }
};

Deno.test("backup --budget refuses a backup over budget before writing anything", async () => {
  const { env, src } = await setup();
  const out = await cli(["backup", src, "--budget", "0.000001"], env);
  assert.equal(out.code, 1, out.stderr);
  assert.match(out.stderr, /over the budget of \$0\.000001 \(--budget\); nothing was done/);
  const cost = JSON.parse((await cli(["cost", "--json"], env)).stdout);
  assert.equal(cost.totals.objects, 2, "no pack, index segment or snapshot was written");
  const ok = await cli(["backup", src, "--budget", "5"], env);
  assert.equal(ok.code, 0, ok.stderr);
});

Deno.test("restore --estimate lists every tier the cold class offers, at home and in the region", async () => {
  const { env, state, src } = await setup({ cold: true });
  await backup(env, src);
  const out = await cli(["restore", "latest", "--estimate", "--json"], env);
  assert.equal(out.code, 0, out.stderr);
  const e = JSON.parse(out.stdout);
  assertSums(e);
  const alternatives = e.alternatives.map((a: { tier: string; to: string }) => `${a.tier} ${a.to}`);
  assert.deepEqual(alternatives, [
    "bulk internet",
    "bulk region",
    "standard internet",
    "standard region",
  ]);
  assert.equal(e.tier, "standard");
  assert.equal(e.to, "internet");
  const archived = e.plan.cold.archived.packs;
  assert.ok(archived >= 2, out.stdout);
  const requests = e.items.find((i: Item) => i.what === "restore requests, DEEP_ARCHIVE standard");
  assert.equal(requests.quantity, archived / 1000);
  // The bulk tier is cheaper and slower.
  const [bulk] = e.alternatives;
  assert.ok(bulk.total_usd < e.total_usd && bulk.hours.max > e.hours.max);
  assert.ok(e.alternatives[1].items.some((i: Item) => i.what.startsWith("Fargate task")));
  assert.deepEqual(jobs(state), [], "an estimate requests nothing");
  assert.equal((await survey(env)).archived.packs, archived);

  const human = await cli(["restore", "latest", "--estimate"], env);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /standard, download to a machine outside AWS \(chosen\)/);
  assert.match(human.stdout, /bulk, read by a job in us-east-1/);
});

Deno.test("restore --budget 0.000001 refuses before any restore request is made", async () => {
  const { env, state, src } = await setup({ cold: true });
  await backup(env, src);
  const before = await survey(env);
  const target = await tempDir();
  const out = await cli(["restore", "latest", "--target", target, "--budget", "0.000001"], env);
  assert.equal(out.code, 1, out.stderr);
  assert.match(out.stderr, /this restore would cost about \$0\.\d+ \(estimate\), over the budget/);
  assert.deepEqual(jobs(state), [], "no job saved");
  assert.deepEqual(await survey(env), before, "no pack changed state");
  assert.deepEqual(fs.readdirSync(target), []);
});

Deno.test("a restore over PERMAFROST_CONFIRM_USD needs --yes when not at a terminal", async () => {
  const { env, state, src } = await setup({ cold: true });
  await backup(env, src);
  const before = await survey(env);
  const target = await tempDir();
  const gated = { ...env, PERMAFROST_CONFIRM_USD: "0" };
  const refused = await cli(["restore", "latest", "--target", target], gated);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /more than PERMAFROST_CONFIRM_USD \(\$0\.00\): add --yes/);
  assert.deepEqual(jobs(state), []);
  assert.deepEqual(await survey(env), before);

  const yes = await cli(["restore", "latest", "--target", target, "--yes", "--json"], gated);
  assert.equal(yes.code, 4, yes.stderr);
  assert.equal(JSON.parse(yes.stdout).requested, before.archived.packs);
  assert.equal(jobs(state).length, 1);
  assert.equal((await survey(env)).restoring.packs, before.archived.packs);
});

Deno.test("check --read-data --estimate prices every pack, and --budget refuses the check", async () => {
  const { env, src } = await setup({ cold: true });
  await backup(env, src);
  const out = await cli(["check", "--read-data", "--estimate", "--json"], env);
  assert.equal(out.code, 0, out.stderr);
  const e = JSON.parse(out.stdout);
  assertSums(e);
  // Every pack's cold copy, and each metadata pack's hot copy too.
  assert.equal(e.plan.objects, e.plan.packs + e.plan.metadata_packs);
  const gets = e.items.filter((i: Item) => i.what.startsWith("GET requests"))
    .reduce((n: number, i: Item) => n + i.quantity * 1000, 0);
  assert.equal(Math.round(gets), e.plan.objects);
  const refused = await cli(["check", "--read-data", "--budget", "0.000001"], env);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /check --read-data would cost about/);
  const noData = await cli(["check", "--estimate"], env);
  assert.equal(noData.code, 2);
});
