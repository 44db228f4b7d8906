/**
 * `permafrost cost` through the CLI on local repositories: the bill's items add up to its
 * total, it counts every object the repository really has, projects twelve months, and prices
 * the restored copies a simulated cold store reports.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { openStorage } from "../host/storage/open.ts";
import { cli, randomBytes, tempDir } from "./helpers.ts";

async function setup(location: (dir: string) => string) {
  const dir = join(await tempDir(), "repo");
  const env = {
    PERMAFROST_REPO: location(dir),
    PERMAFROST_CACHE_DIR: await tempDir(),
    PERMAFROST_STATE_DIR: await tempDir(),
  };
  const init = await cli(["init", "--kdf-memlimit", "8MiB", "--pack-size", "1MiB"], env);
  assert.equal(init.code, 0, init.stderr);
  const src = join(await tempDir(), "src");
  fs.mkdirSync(src);
  for (let i = 0; i < 3; i++) fs.writeFileSync(join(src, `f${i}`), randomBytes(600_000, 5 + i));
  const b = await cli(["backup", src], env);
  assert.equal(b.code, 0, b.stderr);
  return { dir, env };
}

Deno.test("cost --json adds its items up to total_usd and counts every object the repository has", async () => {
  const { dir, env } = await setup((d) => d);
  const out = await cli(["cost", "--json"], env);
  assert.equal(out.code, 0, out.stderr);
  const bill = JSON.parse(out.stdout);
  const sum = bill.items.reduce((s: number, i: { usd: number }) => s + i.usd, 0);
  assert.ok(Math.abs(sum - bill.total_usd) < 1e-9);

  const storage = await openStorage(dir, "admin");
  const listed = await storage.list("");
  await storage.close();
  assert.equal(bill.totals.objects, listed.length);
  assert.equal(bill.totals.bytes, listed.reduce((s, o) => s + o.size, 0));
  const kinds = bill.objects as { kind: string; objects: number; bytes: number }[];
  assert.equal(kinds.reduce((n, k) => n + k.objects, 0), listed.length);
  const packs = listed.filter((o) => o.name.startsWith("packs/")).length;
  const cold = kinds.filter((k) => k.kind === "data pack" || k.kind === "metadata pack, cold copy");
  assert.equal(cold.reduce((n, k) => n + k.objects, 0), packs);

  // A plain folder is priced as if its packs were in its cold class on S3, and says so.
  const coldLine = bill.items.find((i: { what: string }) =>
    i.what.startsWith("storage, DEEP_ARCHIVE, cold packs")
  );
  assert.match(coldLine.what, new RegExp(`: ${packs} objects`));
  assert.ok(bill.notes.some((n: string) => n.includes("not on S3")));
  // §3.3: 8 KB at STANDARD rates for each archived pack.
  const overhead = bill.items.find((i: { what: string }) =>
    i.what.startsWith("per-object overhead, 8 KB")
  );
  assert.ok(Math.abs(overhead.quantity - packs * 8192 / 2 ** 30) < 1e-6);

  assert.equal(bill.projection.months.length, 12);
  assert.equal(bill.projection.usd[0], bill.total_usd);
  assert.equal(bill.projection.usd[11], bill.recurring_usd);
  assert.equal(bill.dead_data.share, null);
  assert.match(bill.dead_data.note, /unknown: run `permafrost gc mark`/);
  assert.equal(bill.restored.copies, 0);

  const human = await cli(["cost"], env);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /dead data: unknown: run `permafrost gc mark`/);
});

Deno.test("cost prices the restored copies a cold store has", async () => {
  const { env } = await setup((d) => `local:${d}?cold=simulate`);
  const plain = JSON.parse((await cli(["cost", "--json"], env)).stdout);
  assert.equal(plain.restored.copies, 0);
  const r = await cli(["restore", "latest", "--target", await tempDir(), "--days", "2"], env);
  assert.equal(r.code, 4, r.stderr);
  const bill = JSON.parse((await cli(["cost", "--json"], env)).stdout);
  const dataPacks = bill.objects.find((k: { kind: string }) => k.kind === "data pack").objects;
  assert.equal(bill.restored.copies, dataPacks);
  const line = bill.items.find((i: { what: string }) => i.what.startsWith("restored copies"));
  assert.ok(line, JSON.stringify(bill.items));
  // Each copy has just under 2 days left: GB × 2/30 GB-months at most.
  assert.ok(line.quantity > 0 && line.quantity <= bill.restored.bytes / 2 ** 30 * 2 / 30 + 1e-6);
  assert.equal(bill.projection.usd[1], bill.recurring_usd);
  assert.ok(bill.total_usd > bill.recurring_usd);
});
