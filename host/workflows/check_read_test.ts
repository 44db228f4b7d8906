import assert from "node:assert/strict";
import { surveyPacks } from "../cold/pack_survey.ts";
import { requestThaw } from "../cold/restore_requests.ts";
import { backup } from "../ops/backup.ts";
import { layout } from "../repository/layout.ts";
import type { Repository } from "../repository/repository.ts";
import {
  coldSampleRepo,
  finishColdRestores,
  newRepo,
  tempDir,
  writeSampleTree,
} from "../../test/helpers.ts";
import { estimateReadData, readDataEstimateReport } from "./check_read.ts";
import { InvalidRequest } from "./invalid_request.ts";

/** The indexed packs of `repo`: how many, and how many hold metadata. */
async function indexed(repo: Repository) {
  await repo.loadIndex();
  const packs = [...repo.index.packs()];
  return { packs, metadata: packs.filter((p) => p.metadata).length };
}

Deno.test("estimateReadData() of a plain folder prices every pack whole as archived on S3, metadata packs twice", async () => {
  const { repo } = await newRepo();
  try {
    const src = await tempDir();
    writeSampleTree(src);
    await backup(repo, { paths: [src] });
    const { packs, metadata } = await indexed(repo);
    const e = await estimateReadData(repo, { tier: "bulk", to: "region" });
    assert.equal(e.pricing.asIfS3, true);
    assert.deepEqual(e.summary, {
      packs: packs.length,
      metadata_packs: metadata,
      objects: packs.length + metadata,
      bytes: packs.reduce((sum, p) => sum + p.length, 0) +
        packs.filter((p) => p.metadata).reduce((sum, p) => sum + p.length, 0),
    });
    const cold = e.objects.filter((o) => o.storageClass === "DEEP_ARCHIVE");
    assert.equal(cold.length, packs.length);
    assert.ok(cold.every((o) => o.archived && o.gets === 1));
    assert.equal(e.chosen.tier, "bulk");
    assert.equal(e.chosen.to, "region");
    assert.ok(e.notes.some((n) => n.includes("does not request restores")), e.notes.join("\n"));
    assert.ok(e.notes.includes("restored copies are priced for 1 day (--days)"));
    assert.ok(e.notes.some((n) => n.includes("not on S3")));
    const report = readDataEstimateReport(e);
    assert.equal(report.total_usd, e.chosen.estimate.total_usd);
    assert.deepEqual(report.plan, e.summary);
  } finally {
    await repo.storage.close();
  }
});

Deno.test("estimateReadData() refuses a tier the packs' class does not offer", async () => {
  const { repo } = await newRepo();
  try {
    const src = await tempDir();
    writeSampleTree(src);
    await backup(repo, { paths: [src] });
    await assert.rejects(estimateReadData(repo, { tier: "expedited" }), InvalidRequest);
  } finally {
    await repo.storage.close();
  }
});

Deno.test("estimateReadData() on a store with cold states prices the packs as the survey finds them", async () => {
  const { dir, repo } = await coldSampleRepo();
  try {
    const archived = await estimateReadData(repo, { days: 3 });
    assert.equal(archived.pricing.asIfS3, false);
    assert.equal(archived.chosen.tier, "standard", "the default tier, which Deep Archive offers");
    assert.ok(archived.notes.includes("restored copies are priced for 3 days (--days)"));
    assert.ok(archived.chosen.estimate.total_usd > 0);

    // Once every pack is restored, reading them restores nothing: no tier, no restore line.
    const { packs } = await indexed(repo);
    const states = await surveyPacks(repo.storage, packs.map((p) => layout.pack(p.id)));
    await requestThaw(repo.storage, states, { tier: "bulk", days: 1 });
    assert.equal(finishColdRestores(dir), packs.length);
    const readable = await estimateReadData(repo);
    assert.equal(readable.chosen.tier, undefined);
    assert.ok(readable.objects.every((o) => !o.archived));
    assert.ok(!readable.notes.some((n) => n.includes("does not request restores")));
    assert.ok(readable.chosen.estimate.total_usd < archived.chosen.estimate.total_usd);
    assert.deepEqual(readable.summary, archived.summary, "the same packs and bytes are read");
  } finally {
    await repo.storage.close();
  }
});
