import assert from "node:assert/strict";
import fs from "node:fs";
import { basename, join } from "node:path";
import { ObjectNotFound } from "../../plugins/sdk/errors.ts";
import { shippedPriceTable } from "../cost/mod.ts";
import { backup } from "../ops/backup.ts";
import { idOf, kindOf } from "../repository/layout.ts";
import { Repository } from "../repository/repository.ts";
import { openStorage } from "../storage/open.ts";
import type { StorageClass } from "../storage/storage.ts";
import {
  coldSampleRepo,
  finishColdRestores,
  PASSWORD,
  randomBytes,
  tempDir,
  TEST_KDF,
} from "../../test/helpers.ts";
import { InvalidRequest } from "./invalid_request.ts";
import type { RepoPricing } from "./pricing.ts";
import {
  DEFAULT_RESTORE_DAYS,
  estimateRestore,
  needsThaw,
  prepareRestore,
  priceRestore,
  summarize,
} from "./restore_estimate.ts";

const GiB = 2 ** 30;

/** The data packs of `repo` as its store lists them (a metadata pack also has a hot copy). */
async function dataPacks(repo: Repository): Promise<{ name: string; size: number }[]> {
  const listed = await repo.storage.list("");
  const metadata = new Set(
    listed.filter((o) => kindOf(o.name) === "meta").map((o) => idOf(o.name)),
  );
  return listed.filter((o) => kindOf(o.name) === "pack" && !metadata.has(idOf(o.name)));
}

/** Files (each name of a hard link), dirs, and content bytes (a hard link's once) under `root`. */
function countTree(root: string): { files: number; dirs: number; bytes: number } {
  const out = { files: 0, dirs: 0, bytes: 0 };
  const inodes = new Set<string>();
  const walk = (p: string) => {
    const st = fs.lstatSync(p);
    if (st.isDirectory()) {
      out.dirs++;
      for (const name of fs.readdirSync(p)) walk(join(p, name));
    } else if (st.isFile()) {
      out.files++;
      const inode = `${st.dev}:${st.ino}`;
      if (!inodes.has(inode)) out.bytes += st.size;
      inodes.add(inode);
    }
  };
  walk(root);
  return out;
}

/** A new repository at `location` whose cold class is `coldClass`, with two files backed up. */
async function repoAt(location: string, coldClass: StorageClass) {
  const repo = await Repository.init(
    await openStorage(location, "admin", { create: true }),
    PASSWORD,
    { kdf: TEST_KDF, config: { pack: { dataSize: 256 << 10 }, cold: { storageClass: coldClass } } },
  );
  const src = await tempDir();
  fs.writeFileSync(join(src, "a.bin"), randomBytes(400_000, 3));
  fs.writeFileSync(join(src, "b.txt"), "small\n");
  await backup(repo, { paths: [src] });
  return repo;
}

/** The shipped us-east-1 table, whatever a `prices refresh` left in this machine's cache. */
const shipped: RepoPricing = {
  table: shippedPriceTable("us-east-1"),
  asIfS3: false,
  coldClass: "DEEP_ARCHIVE",
};

Deno.test("a restore planned and priced on simulated cold storage, as the backup left it", async (t) => {
  const { repo, src, snapshot } = await coldSampleRepo();
  try {
    await t.step(
      "prepareRestore() of a snapshot on cold storage plans every file and finds every data pack archived",
      async () => {
        const preview = await prepareRestore(repo, { snapshot: "latest" });
        const packs = await dataPacks(repo);
        assert.ok(packs.length >= 2);
        assert.deepEqual(preview.coldPacks.toSorted(), packs.map((p) => p.name).sort());
        assert.ok(
          preview.states.every((s) =>
            s.storageClass === "DEEP_ARCHIVE" && s.availability.state === "archived"
          ),
        );
        assert.equal(needsThaw(preview), true);

        const summary = summarize(preview);
        assert.deepEqual(
          { files: summary.files, dirs: summary.dirs, bytes: summary.bytes },
          countTree(src),
        );
        assert.equal(summary.snapshot, snapshot);
        assert.equal(summary.path, "/");
        assert.equal(summary.packs, preview.plan.packs.length);
        const packBytes = packs.reduce((n, p) => n + p.size, 0);
        assert.deepEqual(summary.cold.archived, { packs: packs.length, bytes: packBytes });
        assert.equal(summary.cold.readable.packs + summary.cold.restoring.packs, 0);
      },
    );

    await t.step("prepareRestore() of one file surveys only the packs that hold it", async () => {
      const all = await prepareRestore(repo, { snapshot: "latest" });
      const one = await prepareRestore(repo, {
        snapshot: "latest",
        path: `/${basename(src)}/hello.txt`,
      });
      assert.deepEqual(
        { files: one.plan.files, bytes: one.plan.bytes },
        { files: 1, bytes: "hello, world\n".length },
      );
      assert.equal(one.coldPacks.length, 1);
      assert.ok(all.coldPacks.includes(one.coldPacks[0]));
      assert.deepEqual(one.states.map((s) => s.name), one.coldPacks);
    });

    await t.step(
      "priceRestore() prices the archived data packs as the store reports them: a restore request each, their bytes, a GET per frame",
      async () => {
        const preview = await prepareRestore(repo, { snapshot: "latest" });
        assert.ok(preview.plan.packs.every((p) => !p.metadata), "file contents are in data packs");
        const packs = await dataPacks(repo);
        const gb = packs.reduce((n, p) => n + p.size, 0) / GiB;
        const frames = preview.plan.packs.reduce((n, p) => n + p.frames.length, 0);
        const table = shipped.table;
        const price = table.restore.DEEP_ARCHIVE!.standard!;

        const e = priceRestore(preview, shipped);
        assert.equal(e.chosen.tier, "standard");
        assert.equal(e.chosen.to, "internet");
        const expected: [string, number, number][] = [
          [
            "restore requests, DEEP_ARCHIVE standard",
            packs.length / 1000,
            price.per_1000.value,
          ],
          ["retrieval, DEEP_ARCHIVE standard", gb, price.per_gb.value],
          [
            `restored copy, ${DEFAULT_RESTORE_DAYS} days at STANDARD rates (first 50 TB)`,
            gb * DEFAULT_RESTORE_DAYS / 30,
            table.storage_gb_month.STANDARD[0].usd.value,
          ],
          [
            "GET requests, DEEP_ARCHIVE",
            frames / 1000,
            table.requests_per_1000.DEEP_ARCHIVE.get.value,
          ],
          ["internet egress, monthly free allowance", preview.plan.readBytes / GiB, 0],
        ];
        const items = e.chosen.estimate.items;
        assert.deepEqual(items.map((i) => i.what), expected.map(([what]) => what));
        for (const [i, [what, quantity, unit]] of expected.entries()) {
          assert.equal(items[i].unit_usd, unit, what);
          assert.ok(
            Math.abs(items[i].quantity - quantity) <= 1e-6,
            `${what}: ${items[i].quantity}`,
          );
        }
        const total = expected.reduce((n, [, quantity, unit]) => n + quantity * unit, 0);
        assert.ok(Math.abs(e.chosen.estimate.total_usd - total) <= 1e-5, `${total}`);

        assert.deepEqual(e.summary, summarize(preview));
        assert.equal(e.pricing, shipped);
        assert.deepEqual(e.notes, [
          "one GET per frame read; metadata packs are read from their hot copies",
        ]);

        const week = priceRestore(preview, shipped, { days: 7, tier: "bulk", to: "region" });
        assert.equal(`${week.chosen.tier}/${week.chosen.to}`, "bulk/region");
        const copy = week.chosen.estimate.items.find((i) => i.what.startsWith("restored copy"))!;
        assert.equal(copy.what, "restored copy, 7 days at STANDARD rates (first 50 TB)");
        assert.ok(Math.abs(copy.quantity - gb * 7 / 30) <= 1e-6);
      },
    );

    await t.step(
      "estimateRestore() prices with the region asked for, and refuses a region without a table",
      async () => {
        const e = await estimateRestore(repo, { snapshot: "latest" }, { region: "eu-west-1" });
        assert.equal(e.pricing.table.region, "eu-west-1");
        assert.ok(e.alternatives.every((a) => a.estimate.prices.region === "eu-west-1"));
        assert.ok(
          e.alternatives.filter((a) => a.to === "region").every((a) =>
            a.estimate.items.some((i) => i.what === "transfer to EC2/Fargate in eu-west-1")
          ),
        );
        await assert.rejects(
          estimateRestore(repo, { snapshot: "latest" }, { region: "mars-north-1" }),
          (err: unknown) => err instanceof InvalidRequest && /"mars-north-1"/.test(err.message),
        );
      },
    );

    await t.step(
      "prepareRestore() of a snapshot or path that does not exist rejects, naming it",
      async () => {
        const naming = (what: string) => (e: unknown) =>
          e instanceof ObjectNotFound && e.message.includes(`"${what}"`);
        await assert.rejects(prepareRestore(repo, { snapshot: "ffffffff" }), naming("ffffffff"));
        const path = `/${basename(src)}/no-such-file`;
        await assert.rejects(prepareRestore(repo, { snapshot: "latest", path }), naming(path));
      },
    );
  } finally {
    await repo.storage.close();
  }
});

Deno.test("needsThaw() stays true while a pack is archived or being restored, and is false once all are restored", async () => {
  const { dir, repo } = await coldSampleRepo();
  try {
    const [first, ...rest] = (await prepareRestore(repo, { snapshot: "latest" })).coldPacks;
    await repo.storage.requestRestore(first, { tier: "bulk", days: 1 });
    const some = await prepareRestore(repo, { snapshot: "latest" });
    assert.equal(needsThaw(some), true);
    assert.equal(summarize(some).cold.restoring.packs, 1);

    for (const name of rest) await repo.storage.requestRestore(name, { tier: "bulk", days: 1 });
    const restoring = await prepareRestore(repo, { snapshot: "latest" });
    assert.equal(needsThaw(restoring), true, "nothing is archived, but nothing is readable yet");
    assert.equal(summarize(restoring).cold.restoring.packs, rest.length + 1);

    assert.equal(finishColdRestores(dir), rest.length + 1);
    const thawed = await prepareRestore(repo, { snapshot: "latest" });
    assert.equal(needsThaw(thawed), false);
    assert.equal(summarize(thawed).cold.restored.packs, rest.length + 1);

    // Reading restored copies costs GETs and the download, and no restore at any tier.
    const e = priceRestore(thawed, shipped, { tier: "bulk" });
    assert.deepEqual(e.alternatives.map((a) => [a.tier, a.to]), [
      [undefined, "internet"],
      [undefined, "region"],
    ]);
    const items = e.chosen.estimate.items.map((i) => i.what);
    assert.ok(
      !items.some((w) => /^(restore requests|retrieval|restored copy)/.test(w)),
      `${items}`,
    );
    assert.ok(items.includes("GET requests, DEEP_ARCHIVE"));
  } finally {
    await repo.storage.close();
  }
});

Deno.test("a repository whose cold class is GLACIER offers bulk, standard and expedited, in a plain folder and on simulated cold storage", async () => {
  for (const cold of [false, true]) {
    const dir = join(await tempDir(), "repo");
    const repo = await repoAt(cold ? `local:${dir}?cold=simulate` : dir, "GLACIER");
    try {
      const e = await estimateRestore(repo, { snapshot: "latest" }, { tier: "expedited" });
      assert.equal(e.pricing.asIfS3, !cold);
      assert.deepEqual([...new Set(e.alternatives.map((a) => a.tier))], [
        "bulk",
        "standard",
        "expedited",
      ]);
      assert.equal(e.chosen.tier, "expedited");
      // One restore request per data pack, priced in GLACIER whether or not the store says so.
      const preview = await prepareRestore(repo, { snapshot: "latest" });
      const requests = e.chosen.estimate.items.find((i) => i.what.startsWith("restore requests"))!;
      assert.equal(requests.what, "restore requests, GLACIER expedited");
      assert.equal(requests.quantity, preview.coldPacks.length / 1000);
      const notOnS3 = e.notes.filter((n) => n.includes("is not on S3"));
      assert.equal(notOnS3.length, cold ? 0 : 1);
      if (!cold) assert.match(notOnS3[0], /priced as if its packs were in GLACIER/);
    } finally {
      await repo.storage.close();
    }
  }
});
