/**
 * Restore ETAs through the CLI, on the local back end's cold simulation (restores that take an
 * hour unless a test ends them): what `restore` prints when it stops with exit status 4, what
 * `restore --resume JOB` prints without `--wait` once some packs are ready, and how a tier
 * upgrade of a running job is priced and gated before it is asked for. The ETA's arithmetic
 * is tested with an injected clock in host/workflows/restore_eta_test.ts.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import type { ColdRecord } from "../plugins/storage/local/cold_simulation.ts";
import { COLD_DIR } from "../plugins/storage/local/object_path.ts";
import { cli, initColdRepo, randomBytes, tempDir } from "./helpers.ts";

const HOUR_MS = 3_600_000;

async function setup() {
  const { dir, env } = await initColdRepo(3600);
  const src = await tempDir();
  for (let i = 0; i < 4; i++) fs.writeFileSync(join(src, `f${i}`), randomBytes(700_000, 30 + i));
  const b = await cli(["backup", src], env);
  assert.equal(b.code, 0, b.stderr);
  return { dir, env, state: env.PERMAFROST_STATE_DIR };
}

/** Ends `n` of the restores still running in the simulation, as if they were done. */
function finishSome(dir: string, n: number): void {
  const cold = join(dir, COLD_DIR);
  let left = n;
  for (const name of fs.readdirSync(cold).filter((f) => f.endsWith(".json")).sort()) {
    const file = join(cold, name);
    const record: ColdRecord = JSON.parse(fs.readFileSync(file, "utf8"));
    if (record.restore === undefined || left === 0) continue;
    record.restore.readyAt = record.restore.requestedAt;
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(record));
    fs.renameSync(`${file}.tmp`, file);
    left--;
  }
  assert.equal(left, 0, "fewer restores running than asked to finish");
}

Deno.test("restore that stops to wait prints the job's window; --resume adds the pace once packs are ready", async () => {
  const { dir, env } = await setup();
  const before = Date.now();
  const first = await cli(["restore", "latest", "--target", await tempDir(), "--json"], env);
  assert.equal(first.code, 4, first.stderr);
  const out = JSON.parse(first.stdout);
  const eta = out.eta;
  assert.equal(eta.basis, "window", "nothing is ready just after the request");
  assert.equal(eta.tier, "standard");
  assert.deepEqual(eta.packs, { ready: 0, total: out.requested });
  const requested = Date.parse(eta.requestedAt);
  assert.ok(requested >= before - 1000 && requested <= Date.now());
  assert.equal(Date.parse(eta.window.latest) - requested, 12 * HOUR_MS, "DEEP_ARCHIVE standard");
  assert.equal(eta.window.documented, "DEEP_ARCHIVE standard: within 12 hours");

  const text = await cli(["restore", "--resume", out.job], env);
  assert.equal(text.code, 4, text.stderr);
  assert.match(
    text.stdout,
    new RegExp(
      `^job ${out.job}: requested \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC \\(standard\\)$`,
      "m",
    ),
  );
  assert.match(
    text.stdout,
    /^ {2}ready between .* UTC and .* UTC \(DEEP_ARCHIVE standard: within 12 hours, from .*\)$/m,
  );
  assert.match(
    text.stdout,
    new RegExp(
      `^ {2}0/${out.requested} packs readable; none of the ${out.requested} packs asked for at .* is readable yet, too early to extrapolate`,
      "m",
    ),
  );

  finishSome(dir, 1);
  const resumed = await cli(["restore", "--resume", out.job, "--json"], env);
  assert.equal(resumed.code, 4, resumed.stderr);
  const later = JSON.parse(resumed.stdout).eta;
  assert.deepEqual(later.packs, { ready: 1, total: out.requested });
  assert.equal(later.basis, "pace");
  // One of N ready after a few seconds: the rest at the same pace, well inside the window.
  const expected = Date.parse(later.expected);
  assert.ok(expected > requested && expected <= Date.parse(later.window.latest), later.expected);
  const words = await cli(["restore", "--resume", out.job], env);
  assert.match(
    words.stdout,
    new RegExp(
      `1/${out.requested} packs readable; expected about .* UTC, from 1 of the ${out.requested} packs`,
    ),
  );
});

Deno.test("a tier upgrade of a running job is priced with its new window, and gated before it is asked for", async () => {
  const { env, state } = await setup();
  const first = await cli(
    ["restore", "latest", "--target", await tempDir(), "--tier", "bulk", "--json"],
    env,
  );
  assert.equal(first.code, 4, first.stderr);
  const { job, requested } = JSON.parse(first.stdout);

  const stay = await cli(["restore", "--resume", job, "--estimate", "--json"], env);
  const up = await cli(
    ["restore", "--resume", job, "--tier", "standard", "--estimate", "--json"],
    env,
  );
  assert.equal(up.code, 0, up.stderr);
  const priced = JSON.parse(up.stdout);
  assert.equal(JSON.parse(stay.stdout).upgrade, undefined);
  assert.equal(priced.tier, "standard");
  assert.deepEqual(
    [priced.upgrade.from, priced.upgrade.to, priced.upgrade.packs],
    ["bulk", "standard", requested],
  );
  const retrieval = priced.items.filter((i: { what: string }) => /retriev|restore/i.test(i.what));
  assert.ok(retrieval.length > 0, `no restore items in ${JSON.stringify(priced.items)}`);
  assert.ok(priced.total_usd > JSON.parse(stay.stdout).total_usd, "the upgrade costs more");
  const w = priced.upgrade.eta.window;
  assert.equal(w.tier, "standard");
  assert.equal(Date.parse(w.latest) - Date.parse(w.from), 12 * HOUR_MS);

  const words = await cli(["restore", "--resume", job, "--tier", "standard", "--estimate"], env);
  assert.match(
    words.stdout,
    new RegExp(`upgrade of job ${job} from bulk to standard: asks again for ${requested} packs`),
  );
  assert.match(words.stdout, /ready between .* \(DEEP_ARCHIVE standard: within 12 hours, from/);

  // The cost gate: over the confirmation threshold, no --yes, no terminal: nothing is asked.
  const gated = await cli(["restore", "--resume", job, "--tier", "standard"], {
    ...env,
    PERMAFROST_CONFIRM_USD: "0",
  });
  assert.equal(gated.code, 2, gated.stderr);
  assert.match(gated.stderr, /this restore, upgraded to standard, would cost about \$/);
  const saved = JSON.parse(fs.readFileSync(join(state, "restore-jobs", `${job}.json`), "utf8"));
  assert.equal(saved.tier, "bulk", "nothing was asked for");
  assert.equal(saved.requests.length, 1);

  const yes = await cli(["restore", "--resume", job, "--tier", "standard", "--yes", "--json"], {
    ...env,
    PERMAFROST_CONFIRM_USD: "0",
  });
  assert.equal(yes.code, 4, yes.stderr);
  const eta = JSON.parse(yes.stdout).eta;
  assert.deepEqual(eta.tierChanges.map((c: { tier: string }) => c.tier), ["bulk", "standard"]);
  assert.equal(eta.window.tier, "standard");
});

Deno.test("restore --wait follows each survey line with the job's ETA", async () => {
  // Restores that take a second, surveyed every second until they are readable.
  const { env } = await initColdRepo(1);
  const src = await tempDir();
  fs.writeFileSync(join(src, "f"), randomBytes(300_000, 50));
  assert.equal((await cli(["backup", src], env)).code, 0);
  const r = await cli(
    ["restore", "latest", "--target", await tempDir(), "--wait", "--poll", "1"],
    env,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /0\/1 packs readable .*\n {2}none of the 1 pack asked for at .* is readable yet/,
  );
  assert.match(r.stderr, /1\/1 packs readable .*\n {2}every pack is readable \(1 of 1\)/);
});

Deno.test("a resume at a slower tier that asks for nothing keeps the job's tier: going back to it is no upgrade", async () => {
  const { env, state } = await setup();
  const first = await cli(["restore", "latest", "--target", await tempDir(), "--json"], env);
  assert.equal(first.code, 4, first.stderr);
  const { job } = JSON.parse(first.stdout);

  // Every pack is being restored at standard: bulk asks for none of them.
  const slower = await cli(["restore", "--resume", job, "--tier", "bulk", "--yes"], env);
  assert.equal(slower.code, 4, slower.stderr);
  assert.match(slower.stderr, /requested 0 pack restores/);
  const saved = JSON.parse(fs.readFileSync(join(state, "restore-jobs", `${job}.json`), "utf8"));
  assert.equal(saved.tier, "standard", "no pack was asked for at bulk");

  // Standard again is what the packs are being restored at: nothing to ask again, or pay for.
  const again = await cli(
    ["restore", "--resume", job, "--tier", "standard", "--estimate", "--json"],
    env,
  );
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).upgrade, undefined);
});
