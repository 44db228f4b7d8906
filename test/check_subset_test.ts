/**
 * `check` and cold storage, through the CLI on the local back end in "simulate cold" mode
 * (every pack's cold copy archived until a restore request, readable after `restore-delay`):
 * the default check reads no pack, `--read-data-subset` picks its sample, prices it, thaws the
 * archived packs of the sample (exit status 4 until they are readable) and reads them whole,
 * naming the pack and blob of any damage.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { check } from "../host/ops/check.ts";
import { Repository } from "../host/repository/repository.ts";
import { openStorage } from "../host/storage/open.ts";
import type { Storage } from "../host/storage/storage.ts";
import {
  cli,
  finishColdRestores,
  initColdRepo,
  PASSWORD,
  randomBytes,
  tempDir,
} from "./helpers.ts";

/** A restore takes this long, unless a test ends it (`finishColdRestores`). */
const DELAY_SECONDS = 3600;

async function setup(delay = DELAY_SECONDS) {
  const { dir, location, env } = await initColdRepo(delay);
  const src = await tempDir();
  for (let i = 0; i < 6; i++) fs.writeFileSync(join(src, `f${i}`), randomBytes(700_000, 31 + i));
  const b = await cli(["backup", src], env);
  assert.equal(b.code, 0, b.stderr);
  const c = await cli(["check", "--json"], env);
  assert.equal(c.code, 0, c.stderr);
  const packs: number = JSON.parse(c.stdout).packs;
  assert.ok(packs >= 4, `${packs} packs`);
  return { dir, location, env, packs };
}

/** The simulated cold state of every object (one record per archived object, with its restore). */
function coldRecords(dir: string): string[] {
  const cold = join(dir, ".cold");
  return fs.readdirSync(cold).sort().map((f) => fs.readFileSync(join(cold, f), "utf8"));
}

/** The file holding pack `id` in a local repository folder. */
function packFile(dir: string, id: string): string {
  return join(dir, "packs", id.slice(0, 2), id);
}

/** `storage`, recording every call as `method name`. */
function recording(storage: Storage, calls: string[]): Storage {
  return {
    create: (
      name,
      data,
      options,
    ) => (calls.push(`create ${name}`), storage.create(name, data, options)),
    read: (name, range) => (calls.push(`read ${name}`), storage.read(name, range)),
    stat: (name) => (calls.push(`stat ${name}`), storage.stat(name)),
    list: (prefix) => (calls.push(`list ${prefix}`), storage.list(prefix)),
    requestRestore: (name, options) => (
      calls.push(`requestRestore ${name}`), storage.requestRestore(name, options)
    ),
    delete: (name) => (calls.push(`delete ${name}`), storage.delete(name)),
    strays: () => (calls.push("strays"), storage.strays()),
    removeStray: (name) => (calls.push(`removeStray ${name}`), storage.removeStray(name)),
    versioning: () => storage.versioning(),
    putVersion: (name, data, options) => storage.putVersion(name, data, options),
    readVersion: (name, version, range) => storage.readVersion(name, version, range),
    statVersion: (name, version) => storage.statVersion(name, version),
    listVersions: (prefix) => storage.listVersions(prefix),
    deleteVersion: (name, version) => storage.deleteVersion(name, version),
    close: () => storage.close(),
  };
}

const json = (s: string) => JSON.parse(s);

Deno.test("check without flags reads no pack: it passes on cold storage with every pack archived", async () => {
  const { dir, location, env } = await setup();
  const before = coldRecords(dir);
  assert.ok(before.length >= 4 && before.every((r) => !r.includes('"restore"')), "all archived");

  const out = await cli(["check"], env);
  assert.equal(out.code, 0, out.stdout + out.stderr);
  assert.match(out.stdout, /hot objects only: packs were listed, none was read/);
  assert.match(out.stdout, /no problems found/);

  // The same check in process, every storage call recorded: `packs/` is listed, never read,
  // stat'ed or restored.
  const calls: string[] = [];
  const repo = await Repository.open(recording(await openStorage(location, "admin"), calls), {
    passphrase: PASSWORD,
  });
  try {
    const result = await check(repo);
    assert.deepEqual(result.problems, []);
    assert.equal(result.readPacks, 0);
  } finally {
    await repo.storage.close();
  }
  assert.ok(calls.includes("list packs/"), calls.join("\n"));
  assert.ok(calls.some((c) => c.startsWith("read meta/")), "trees come from the hot copies");
  assert.deepEqual(calls.filter((c) => / packs\/./.test(c)), []);
  assert.deepEqual(calls.filter((c) => !/^(read|list|stat|strays)\b/.test(c)), []);
  assert.deepEqual(coldRecords(dir), before, "no restore was requested");
});

Deno.test("--read-data-subset picks a share or a number of packs, the same ones for the same seed", async () => {
  const { dir, env, packs } = await setup();
  const before = coldRecords(dir);
  const plan = async (subset: string) => {
    const r = await cli(["check", "--read-data-subset", subset, "--estimate", "--json"], env);
    assert.equal(r.code, 0, r.stderr);
    return json(r.stdout).plan;
  };
  const half = await plan("50%");
  // The default seed is the UTC date; the later calls name it, so midnight cannot change it.
  const today = half.seed;
  assert.match(today, /^\d{4}-\d{2}-\d{2}$/);
  assert.ok(Math.abs(Date.parse(today) - Date.now()) < 2 * 86_400_000, today);
  assert.equal(half.packs.length, Math.ceil(packs / 2));
  assert.equal(half.of, packs);
  assert.equal(half.subset, `50%@${today}`);
  assert.equal(new Set(half.packs).size, half.packs.length);
  assert.equal((await plan("1%")).packs.length, 1, "at least one pack");
  assert.equal((await plan("100%")).packs.length, packs);
  assert.equal((await plan("2")).packs.length, 2);
  assert.equal((await plan("3p")).packs.length, 3);
  assert.equal((await plan("3 packs")).packs.length, 3);
  assert.equal((await plan("1000")).packs.length, packs, "no more than there are");
  // The seed printed picks the same packs again; a larger subset holds the smaller one.
  assert.deepEqual((await plan(`50%@${today}`)).packs, half.packs);
  assert.deepEqual((await plan(`${half.packs.length}@${today}`)).packs, half.packs);
  const other = await plan("2@another-seed");
  assert.equal(other.seed, "another-seed");
  assert.deepEqual((await plan("2@another-seed")).packs, other.packs);
  // Every pack is priced: the cold copy of each, and the hot copy of a metadata pack too.
  assert.equal(half.objects, half.packs.length + half.metadata_packs);
  assert.equal(half.cold.archived.packs, half.packs.length);
  assert.deepEqual(coldRecords(dir), before, "--estimate requests no restore");

  for (const bad of [["0%"], ["150%"], ["0"], ["some"], ["5", "--read-data"]]) {
    const r = await cli(["check", "--read-data-subset", ...bad], env);
    assert.equal(r.code, 2, `${bad}: ${r.stderr}`);
  }
  assert.equal((await cli(["check", "--wait"], env)).code, 2);
});

Deno.test("an archived sample is restored and exits 4; the command printed then reads it", async () => {
  const { dir, env } = await setup();
  const first = await cli(["check", "--read-data-subset", "50%", "--json"], env);
  assert.equal(first.code, 4, first.stderr);
  const asked = json(first.stdout);
  assert.equal(asked.waiting, true);
  assert.equal(asked.requested, asked.packs.length, "every sampled pack was archived");
  assert.equal(asked.rerun, `permafrost check --read-data-subset ${asked.subset}`);
  const restoring = coldRecords(dir).filter((r) => r.includes('"restore"'));
  assert.equal(restoring.length, asked.packs.length, "only the sampled packs are restored");
  for (const id of asked.packs) {
    assert.ok(restoring.some((r) => r.includes(`"packs/${id}"`)), `pack ${id} restored`);
  }

  // Asked again while they thaw: still waiting, and nothing is requested twice.
  const text = await cli(["check", "--read-data-subset", asked.subset], env);
  assert.equal(text.code, 4, text.stdout + text.stderr);
  assert.match(text.stdout, /run `permafrost check --read-data-subset 50%@[0-9-]+` again/);
  assert.match(text.stderr, new RegExp(`sample seed ${asked.seed}: .*requested 0 pack`));

  // Once thawed, the command printed reads them.
  assert.equal(finishColdRestores(dir), asked.packs.length);
  const rerun = await cli([...asked.rerun.split(" ").slice(1), "--json"], env);
  assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
  const done = json(rerun.stdout);
  assert.equal(done.read, "sample");
  assert.deepEqual(done.sample.packs, asked.packs, "the rerun reads the packs it restored");
  assert.ok(done.readPacks >= asked.packs.length);
  assert.deepEqual(done.problems, []);
});

Deno.test("a damaged pack in the sample is reported by pack and blob, after waiting for it", async () => {
  // The CLI's own wait: restores that take a second, surveyed every second until it exits.
  const { dir, env } = await setup(1);
  // A seed whose sample of two holds a data pack (metadata packs are small and many).
  let spec = "";
  let victim: string | undefined;
  for (let i = 0; i < 20 && victim === undefined; i++) {
    spec = `2@seed${i}`;
    const est = await cli(["check", "--read-data-subset", spec, "--estimate", "--json"], env);
    const sample: string[] = json(est.stdout).plan.packs;
    victim = sample.find((id) => fs.statSync(packFile(dir, id)).size > 300_000);
  }
  assert.ok(victim, "a data pack is sampled");
  const file = packFile(dir, victim);
  const bytes = fs.readFileSync(file);
  bytes[200] ^= 0xff; // inside the first frame, past the header
  fs.chmodSync(file, 0o644);
  fs.writeFileSync(file, bytes);

  const structural = await cli(["check"], env);
  assert.equal(structural.code, 0, "same size: only reading finds it");

  const r = await cli(["check", "--read-data-subset", spec, "--wait", "--poll", "1"], env);
  assert.equal(r.code, 3, r.stdout + r.stderr);
  assert.match(r.stderr, /sampled packs readable/);
  assert.match(
    r.stdout,
    new RegExp(`error: pack ${victim.slice(0, 12)}: blob [0-9a-f]{12}: frame`),
  );
  const again = await cli(["check", "--read-data-subset", spec, "--json"], env);
  assert.equal(again.code, 3);
  const problems = json(again.stdout).problems;
  assert.ok(problems.length >= 1);
  for (const p of problems) {
    assert.equal(p.pack, victim);
    assert.match(p.blob, /^[0-9a-f]{64}$/);
  }
});

Deno.test("--budget, or a key that cannot read trees, refuses a sample check before any restore", async () => {
  const { dir, env } = await setup();
  const before = coldRecords(dir);
  const r = await cli(["check", "--read-data-subset", "50%", "--budget", "0.0000001"], env);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /check --read-data-subset would cost about/);
  assert.deepEqual(coldRecords(dir), before);

  const keyFile = join(await tempDir(), "ingest.key");
  assert.equal((await cli(["key", "ingest", "--out", keyFile], env)).code, 0);
  const ingest = await cli(["check", "--read-data-subset", "50%"], {
    ...env,
    PERMAFROST_KEY_FILE: keyFile,
    PERMAFROST_PASSWORD: "",
  });
  assert.equal(ingest.code, 1, ingest.stderr);
  assert.match(ingest.stderr, /cannot check the repository/);
  assert.deepEqual(coldRecords(dir), before);
});
