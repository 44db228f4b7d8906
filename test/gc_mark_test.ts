/**
 * `permafrost gc mark` through the CLI on a local repository: dead bytes appear in the packs
 * that hold what only a forgotten snapshot needed, live bytes add up to the packs on disk,
 * an ingest key is refused before anything, and `cost` shows the dead share of the saved mark.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import type { PackUsage } from "../host/ops/gc_mark.ts";
import { locate } from "../host/ops/snapshot_path.ts";
import { idOf } from "../host/repository/layout.ts";
import { openStorage } from "../host/storage/open.ts";
import { cli, randomBytes, reopen, tempDir } from "./helpers.ts";

/** Two snapshots of one folder; between them one 400 kB file was replaced. */
async function setup() {
  const repo = join(await tempDir(), "repo");
  const env = {
    PERMAFROST_REPO: repo,
    PERMAFROST_CACHE_DIR: await tempDir(),
    PERMAFROST_STATE_DIR: await tempDir(),
  };
  const init = await cli(["init", "--kdf-memlimit", "8MiB", "--pack-size", "1MiB"], env);
  assert.equal(init.code, 0, init.stderr);
  const src = join(await tempDir(), "src");
  fs.mkdirSync(join(src, "same"), { recursive: true });
  fs.writeFileSync(join(src, "same", "kept.bin"), randomBytes(500_000, 11));
  fs.writeFileSync(join(src, "changed.bin"), randomBytes(400_000, 12));
  const backup = async () => {
    const b = await cli(["backup", src, "--json"], env);
    assert.equal(b.code, 0, b.stderr);
    return JSON.parse(b.stdout).snapshot as string;
  };
  const first = await backup();
  fs.writeFileSync(join(src, "changed.bin"), randomBytes(400_000, 13));
  const second = await backup();
  return { repo, env, first, second, name: src.split("/").pop()! };
}

async function mark(env: Record<string, string>, ...flags: string[]) {
  const r = await cli(["gc", "mark", "--json", ...flags], env);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** The sizes of the objects under `prefix` (`packs/`, `meta/`), by id, as the store lists them. */
async function sizes(repo: string, prefix: string): Promise<Map<string, number>> {
  const storage = await openStorage(repo, "admin");
  try {
    return new Map((await storage.list(prefix)).map((o) => [idOf(o.name), o.size]));
  } finally {
    await storage.close();
  }
}

Deno.test("gc mark finds no dead data while every snapshot is kept, and live bytes are the packs' sizes", async () => {
  const { repo, env } = await setup();
  const report = await mark(env);
  assert.equal(report.snapshots, 2);
  assert.equal(report.blobs.dead, 0);
  assert.equal(report.dead_data.usd, 0);
  assert.equal(report.dead_data.share, 0);
  assert.equal(report.recommendation.compact, false);
  assert.equal("live" in report, false);
  assert.deepEqual(report.orphans, []);
  const packs = await sizes(repo, "packs/");
  const meta = await sizes(repo, "meta/");
  assert.equal(report.packs.length, packs.size);
  for (const p of report.packs as PackUsage[]) {
    assert.equal(p.deadBytes, 0);
    assert.equal(p.liveBytes, packs.get(p.id));
    if (p.metadata) assert.equal(meta.get(p.id), p.length);
  }
  const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  assert.equal(report.tiers.cold.liveBytes, sum(packs));
  assert.equal(report.tiers.hot.liveBytes, sum(meta));
  // The saved report is the one printed, and `cost` prices it: no dead data.
  const saved = join(env.PERMAFROST_STATE_DIR, "gc-marks", `${report.repository}.json`);
  assert.equal(report.saved_to, saved);
  assert.equal(JSON.parse(fs.readFileSync(saved, "utf8")).time, report.time);
  const bill = JSON.parse((await cli(["cost", "--json"], env)).stdout);
  assert.equal(bill.dead_data.share, 0);
  assert.equal(bill.dead_data.marked_at, report.time);
});

Deno.test("after forget, gc mark puts dead bytes in the packs of the forgotten data, and cost shows their share", async () => {
  const { repo, env, first, second, name } = await setup();
  const before = await cli(["cost"], env);
  assert.match(before.stdout, /dead data: unknown: run `permafrost gc mark`/);

  // Which packs hold what only the first snapshot needs: the old file's data, its root tree
  // and its details blob (the unchanged folder's tree and data are shared).
  const lib = await reopen(repo);
  let oldData: string[], onlyFirst: Set<string>;
  try {
    await lib.loadIndex();
    const a = await lib.snapshot(first);
    oldData = (await locate(lib, a.manifest.root, `/${name}/changed.bin`)).node!.content!;
    const folder = (await locate(lib, a.manifest.root, `/${name}`)).node!.subtree!;
    const kept = await lib.snapshot(second);
    assert.notEqual(kept.manifest.root, a.manifest.root);
    const blobs = [...oldData, a.manifest.root, folder, a.manifest.details];
    onlyFirst = new Set(blobs.map((id) => lib.index.get(id)!.pack));
  } finally {
    await lib.storage.close();
  }
  const forget = await cli(["forget", "--keep-last", "1"], env);
  assert.equal(forget.code, 0, forget.stderr);

  const report = await mark(env, "--threshold", "0");
  assert.equal(report.snapshots, 1);
  assert.equal(report.blobs.dead, oldData.length + 3, JSON.stringify(report.blobs));
  const packs = await sizes(repo, "packs/");
  const dead = (report.packs as PackUsage[]).filter((p) => p.deadBytes > 0);
  assert.deepEqual(dead.map((p) => p.id).sort(), [...onlyFirst].sort());
  for (const p of report.packs as PackUsage[]) {
    assert.equal(p.liveBytes + p.deadBytes, packs.get(p.id));
  }
  // The old file's data was about 400 kB of incompressible bytes: that much is dead, cold.
  assert.ok(report.tiers.cold.deadBytes > 390_000, String(report.tiers.cold.deadBytes));
  assert.ok(report.tiers.hot.deadBytes > 0);
  assert.equal(
    report.tiers.cold.liveBytes + report.tiers.cold.deadBytes,
    [...packs.values()].reduce((a, b) => a + b, 0),
  );
  assert.ok(report.dead_data.share > 0 && report.dead_data.share < 1);
  assert.equal(report.recommendation.compact, true);
  assert.equal(report.threshold_pct, 0);

  const human = await cli(["gc", "mark"], env);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^cold +\d+ +[\d.]+ \w+ +[\d.]+ KiB/m);
  assert.match(human.stdout, /packs with the most dead bytes:\n {2}[0-9a-f]{8} {2}data/);
  assert.match(
    human.stdout,
    /recommendation: dead data is [\d.]+% of the monthly bill, (over|within) the 20% threshold/,
  );

  // `cost` shows the share of the latest mark, also with a put-only key.
  const again = await mark(env);
  const bill = JSON.parse((await cli(["cost", "--json"], env)).stdout);
  assert.equal(bill.dead_data.marked_at, again.time);
  assert.equal(bill.dead_data.share, again.dead_data.share);
  assert.equal(bill.dead_data.usd, again.dead_data.usd);
  const pct = `${(again.dead_data.share * 100).toFixed(1)}%`;
  const keyFile = join(await tempDir(), "ingest.key");
  assert.equal((await cli(["key", "ingest", "--out", keyFile], env)).code, 0);
  const ingestCost = await cli(["cost"], {
    ...env,
    PERMAFROST_KEY_FILE: keyFile,
    PERMAFROST_PASSWORD: "",
  });
  assert.equal(ingestCost.code, 0, ingestCost.stderr);
  assert.ok(
    ingestCost.stdout.includes(`dead data: ${pct} of the monthly bill`),
    ingestCost.stdout,
  );
  assert.match(ingestCost.stdout, /from the gc mark of \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
});

Deno.test("gc mark refuses an ingest key before anything, and bad stages and thresholds are usage errors", async () => {
  const { repo, env } = await setup();
  const keyFile = join(await tempDir(), "ingest.key");
  assert.equal((await cli(["key", "ingest", "--out", keyFile], env)).code, 0);
  const r = await cli(["gc", "mark"], {
    ...env,
    PERMAFROST_KEY_FILE: keyFile,
    PERMAFROST_PASSWORD: "",
  });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /gc mark needs the admin role: this is a put-only \(ingest\) key/);
  assert.equal(r.stdout, "");
  assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/, "no stack trace");
  assert.equal(fs.existsSync(join(env.PERMAFROST_STATE_DIR, "gc-marks")), false);
  assert.ok((await sizes(repo, "packs/")).size > 0);

  const none = await cli(["gc"], env);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /gc needs a stage: mark/);
  const unknown = await cli(["gc", "sweep"], env);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown gc stage "sweep"; the stages are: mark/);
  const threshold = await cli(["gc", "mark", "--threshold", "120"], env);
  assert.equal(threshold.code, 2);
  assert.match(threshold.stderr, /--threshold is a percentage from 0 to 100/);
  const help = await cli(["gc", "--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /permafrost gc mark \[--threshold PCT\]/);
});
