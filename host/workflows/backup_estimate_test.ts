import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { shippedPriceTable } from "../cost/mod.ts";
import { backup } from "../ops/backup.ts";
import { repositoryBill } from "../ops/repository_bill.ts";
import { layout } from "../repository/layout.ts";
import { newRepo, randomBytes, tempDir } from "../../test/helpers.ts";
import {
  backupEstimateReport,
  estimateBackup,
  onScratchRepository,
  priceBackup,
} from "./backup_estimate.ts";
import { repoPricing } from "./pricing.ts";

/** Each item is its quantity times its unit price, and the items add up to the total. */
function assertSums(
  e: {
    total_usd: number;
    items: { what: string; quantity: number; unit_usd: number; usd: number }[];
  },
) {
  for (const i of e.items) assert.ok(Math.abs(i.quantity * i.unit_usd - i.usd) < 1e-5, i.what);
  const sum = e.items.reduce((n, i) => n + i.usd, 0);
  assert.ok(Math.abs(sum - e.total_usd) < 1e-9, `items ${sum}, total ${e.total_usd}`);
}

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

Deno.test("estimateBackup() predicts the kind, class, number and bytes of every object the real backup writes", async () => {
  const { repo } = await newRepo();
  try {
    const src = await tempDir();
    fs.mkdirSync(join(src, "sub"));
    for (let i = 0; i < 3; i++) fs.writeFileSync(join(src, `f${i}`), randomBytes(700_000, 11 + i));
    fs.writeFileSync(join(src, "sub", "note.txt"), "a note\n");
    const pricing = repoPricing(repo);
    const priced = await estimateBackup(repo, { paths: [src] }, pricing);
    const report = backupEstimateReport(priced, pricing);
    assert.equal(report.plan.files, 4);
    assert.equal(report.plan.bytes, 3 * 700_000 + 7);
    assert.ok(report.plan.new_bytes > report.plan.bytes, "contents, plus trees and details");
    assertSums(report);

    const before = (await repo.storage.list("")).length;
    await backup(repo, { paths: [src] });
    // The bill's own tally of the listing (what `permafrost cost` prints), less what was there.
    const bill = await repositoryBill(repo, pricing, new Date(), null);
    const real = new Map(bill.objects.map((k) => [k.kind, k]));
    assert.equal(real.get("config")!.objects + real.get("key")!.objects, before);
    assert.deepEqual(
      priced.kinds.map((k) => k.kind).sort(),
      [...real.keys()].filter((k) => k !== "config" && k !== "key").sort(),
    );
    for (const k of priced.kinds) {
      const r = real.get(k.kind)!;
      assert.equal(r.storage_class, k.storage_class, k.kind);
      assert.equal(r.objects, k.objects, k.kind);
      // Data packs are the same bytes; metadata (trees, snapshot details, index segments, the
      // manifest) records the backup's time and compresses to within a few bytes.
      const slack = k.kind === "data pack" ? 0 : 64;
      assert.ok(Math.abs(r.bytes - k.bytes) <= slack, `${k.kind}: ${r.bytes} vs ${k.bytes}`);
    }
    assert.equal(real.get("data pack")!.storage_class, "DEEP_ARCHIVE");
    assert.equal(real.get("metadata pack, hot copy")!.storage_class, "STANDARD");
    assert.equal(report.plan.put_requests, priced.kinds.reduce((n, k) => n + k.objects, 0));
  } finally {
    await repo.storage.close();
  }
});

Deno.test("priceBackup() prices each object in its tier's class, a multipart upload as its parts plus two requests", async () => {
  const { repo } = await newRepo();
  try {
    const dry = await backup(repo, { paths: [await source()], dryRun: true });
    const MiB = 2 ** 20;
    const written = [
      { name: layout.pack("a".repeat(64)), size: 200 * MiB }, // 3 parts of 96 MiB
      { name: layout.pack("b".repeat(64)), size: MiB, label: "meta" },
      { name: layout.metaCopy("b".repeat(64)), size: MiB },
      { name: layout.index("c".repeat(64)), size: 4096 },
    ];
    const table = shippedPriceTable("us-east-1");
    const pricing = { table, asIfS3: false, coldClass: "DEEP_ARCHIVE" as const };
    const priced = priceBackup(repo, { ...dry, written }, pricing);
    const snapshot = priced.kinds.find((k) => k.kind === "snapshot")!;
    assert.ok(snapshot.bytes > 0);
    assert.deepEqual(priced.kinds, [
      { kind: "data pack", storage_class: "DEEP_ARCHIVE", objects: 1, bytes: 200 * MiB },
      { kind: "metadata pack, cold copy", storage_class: "DEEP_ARCHIVE", objects: 1, bytes: MiB },
      { kind: "metadata pack, hot copy", storage_class: "STANDARD", objects: 1, bytes: MiB },
      { kind: "index segment", storage_class: "STANDARD", objects: 1, bytes: 4096 },
      { kind: "snapshot", storage_class: "STANDARD", objects: 1, bytes: snapshot.bytes },
    ]);
    assert.equal(priced.requests, (3 + 2) + 4);

    const item = (what: string) => priced.estimate.items.find((i) => i.what === what)!.quantity;
    assert.equal(item("multipart create + 3 parts each, at STANDARD rates"), 4 / 1000);
    assert.equal(item("multipart complete, at DEEP_ARCHIVE rates"), 1 / 1000);
    assert.equal(item("PUT requests, DEEP_ARCHIVE"), 1 / 1000, "the 1 MiB cold copy");
    assert.equal(item("PUT requests, STANDARD"), 3 / 1000);

    // A month of storage: 201 MiB in Deep Archive with 8 + 32 KB of overhead for each of its
    // two objects, and the hot objects in STANDARD.
    const GiB = 2 ** 30;
    const std = table.storage_gb_month.STANDARD[0].usd.value;
    const deep = table.storage_gb_month.DEEP_ARCHIVE[0].usd.value;
    const monthly = (201 * MiB / GiB) * deep + 2 * (8192 * std + 32768 * deep) / GiB +
      ((MiB + 4096 + snapshot.bytes) / GiB) * std;
    assert.ok(Math.abs(priced.monthly_usd - monthly) <= 5e-6, `${priced.monthly_usd} ${monthly}`);
  } finally {
    await repo.storage.close();
  }
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
