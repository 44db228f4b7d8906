import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { backup } from "../ops/backup.ts";
import { kindOf } from "../repository/layout.ts";
import { newRepo, randomBytes, tempDir } from "../../test/helpers.ts";
import {
  backupEstimateReport,
  estimateBackup,
  onScratchRepository,
  priceBackup,
} from "./backup_estimate.ts";
import { repoPricing } from "./pricing.ts";

async function source(): Promise<string> {
  const src = await tempDir();
  fs.writeFileSync(join(src, "a.bin"), randomBytes(600_000, 1));
  fs.writeFileSync(join(src, "b.txt"), "small");
  return src;
}

Deno.test("estimateBackup() prices what the backup would write, and writes nothing", async () => {
  const { repo } = await newRepo();
  const src = await source();
  const before = (await repo.storage.list("")).map((o) => o.name).sort();
  const pricing = repoPricing(repo);
  const priced = await estimateBackup(repo, { paths: [src] }, pricing);
  assert.deepEqual((await repo.storage.list("")).map((o) => o.name).sort(), before);

  assert.equal(priced.result.dryRun, true);
  assert.ok(priced.estimate.total_usd > 0);
  const kinds = new Map(priced.kinds.map((k) => [k.kind, k]));
  assert.equal(kinds.get("data pack")?.storage_class, pricing.coldClass);
  assert.equal(kinds.get("metadata pack, hot copy")?.storage_class, "STANDARD");
  assert.equal(kinds.get("snapshot")?.objects, 1, "the manifest, which the dry run never encodes");
  const objects = priced.kinds.reduce((n, k) => n + k.objects, 0);
  assert.equal(priced.requests, objects, "one PutObject each: none is over the multipart size");

  const report = backupEstimateReport(priced, pricing);
  assert.equal(report.plan.files, 2);
  assert.equal(report.plan.new_blobs, priced.result.manifest.stats.newBlobs);
  assert.ok(report.notes.some((n) => n.includes("nothing is billed")), "a local folder");
});

Deno.test("estimateBackup() predicts the kinds and numbers of objects the real backup writes", async () => {
  const { repo } = await newRepo();
  const src = await source();
  const before = new Set((await repo.storage.list("")).map((o) => o.name));
  const priced = await estimateBackup(repo, { paths: [src] }, repoPricing(repo));
  await backup(repo, { paths: [src] });
  const written = (await repo.storage.list("")).filter((o) => !before.has(o.name));
  const predicted = priced.kinds.reduce((n, k) => n + k.objects, 0);
  assert.equal(written.length, predicted);
  assert.equal(
    written.filter((o) => kindOf(o.name) === "snapshot").length,
    priced.kinds.find((k) => k.kind === "snapshot")!.objects,
  );
});

Deno.test("priceBackup() refuses a backup that was not a dry run", async () => {
  const { repo } = await newRepo();
  const real = await backup(repo, { paths: [await source()] });
  assert.throws(() => priceBackup(repo, real, repoPricing(repo)), TypeError);
});

Deno.test("onScratchRepository() gives a new repository with the settings, and removes it after", async () => {
  // In a folder of its own (not through TMPDIR: the environment is shared by parallel tests).
  const scratch = await tempDir();
  const seen = await onScratchRepository(
    { pack: { dataSize: 2 << 20 } },
    (repo) =>
      Promise.resolve({ dataSize: repo.config.pack.dataSize, made: fs.readdirSync(scratch) }),
    scratch,
  );
  assert.equal(seen.dataSize, 2 << 20);
  assert.equal(seen.made.length, 1, "one scratch folder while it runs");
  assert.deepEqual(fs.readdirSync(scratch), [], "removed after");
  await assert.rejects(
    onScratchRepository({}, () => Promise.reject(new RangeError("stop")), scratch),
    RangeError,
  );
  assert.deepEqual(fs.readdirSync(scratch), [], "removed when the work fails too");
});
