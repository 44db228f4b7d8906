/**
 * Red team: backups racing garbage collection and each other, round after round (issue #12).
 * Each round changes the sources, forgets old snapshots, then runs for real at the same time,
 * each through a handle of its own (as separate processes would):
 *
 * - a backup and `gc compact --all`;
 * - a backup and `gc compact --all` followed by `gc purge --grace 0`;
 * - two backups of overlapping sources.
 *
 * The moment the other side starts moves from round to round: when the backup has stored its
 * first, second, ... pack. A backup may fail with a clear refusal (`RetiredDuringBackup`,
 * `PacksGone`: nothing committed); it is then run again at once, as its message says, and must
 * succeed. After every round, every snapshot in the repository restores byte-exact and `check`
 * finds no snapshot broken. A regression in the reuse guard, the pack checks of the backup or
 * purge's "named again" shows up as a snapshot that does not restore.
 *
 * @module
 */

import { ForwardingStorage } from "../host/storage/forwarding.ts";
import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { shippedPriceTable } from "../host/cost/price_table.ts";
import { backup } from "../host/ops/backup.ts";
import { check } from "../host/ops/check.ts";
import { compactWork, planCompact } from "../host/ops/gc_compact.ts";
import { executeCompact } from "../host/ops/gc_compact_execute.ts";
import { executePurge, planPurge } from "../host/ops/gc_purge.ts";
import { executeRestore } from "../host/ops/restore.ts";
import { planRestore } from "../host/ops/restore_plan.ts";
import { PacksGone, RetiredDuringBackup } from "../host/ops/reuse_guard.ts";
import { layout } from "../host/repository/layout.ts";
import { Repository } from "../host/repository/repository.ts";
import { openStorage } from "../host/storage/open.ts";
import type { CreateOptions, Storage } from "../host/storage/storage.ts";
import {
  describeTree,
  forgetOne,
  newRepo,
  PASSWORD,
  randomBytes,
  reopen,
  tempDir,
} from "./helpers.ts";

const ROUNDS = 6;
const table = shippedPriceTable("us-east-1");

/** A storage that calls `onPack(count)` after each pack it creates. */
class CountingPacks extends ForwardingStorage {
  #packs = 0;
  constructor(inner: Storage, private onPack: (count: number) => void) {
    super(inner);
  }
  override async create(name: string, data: Uint8Array, options?: CreateOptions): Promise<void> {
    await this.inner.create(name, data, options);
    if (name.startsWith(layout.prefixes.pack)) this.onPack(++this.#packs);
  }
}

/** What the repository's snapshots must restore to, by snapshot id. */
type Expected = Map<string, Record<string, string>>;

/**
 * Backs up `src` through a handle of its own; `started` resolves once it stored `packs` packs
 * (or when it ends). A clear refusal is run again at once. Records what the snapshot holds.
 */
async function backupRacing(
  dir: string,
  src: string,
  packs: number,
  expected: Expected,
  started: () => void,
): Promise<{ refused: number }> {
  const want = describeTree(src);
  const storage = new CountingPacks(await openStorage(dir, "admin"), (n) => {
    if (n === packs) started();
  });
  let refused = 0;
  let id: string | undefined;
  try {
    const repo = await Repository.open(storage, { passphrase: PASSWORD });
    try {
      id = (await backup(repo, { paths: [src] })).id;
    } catch (err) {
      if (!(err instanceof RetiredDuringBackup || err instanceof PacksGone)) throw err;
      assert.match(err.message, /nothing was committed: run the backup again/);
      refused++;
    }
  } finally {
    started();
    await storage.close();
  }
  if (id === undefined) {
    const again = await reopen(dir);
    try {
      id = (await backup(again, { paths: [src] })).id;
    } finally {
      await again.storage.close();
    }
  }
  expected.set(id!, want);
  return { refused };
}

/**
 * An admin's `gc compact --all`, through a handle of its own. Its own clear refusal (a snapshot
 * committed meanwhile needs a blob it did not copy: it retires nothing) is fine.
 */
async function compactAll(dir: string): Promise<void> {
  const admin = await reopen(dir);
  try {
    await executeCompact(
      admin,
      compactWork(await planCompact(admin, { table, to: "internet", all: true })),
    );
  } catch (err) {
    if (!/nothing was retired: run gc compact again/.test((err as Error).message)) throw err;
  } finally {
    await admin.storage.close();
  }
}

/** An admin's `gc purge --grace 0 --accept-early-fee`, through a handle of its own. */
async function purgeNow(dir: string): Promise<void> {
  const admin = await reopen(dir);
  try {
    const options = { table, graceMs: 0, acceptEarlyFee: true, minimumDurations: false };
    await executePurge(admin, await planPurge(admin, options));
  } finally {
    await admin.storage.close();
  }
}

/** Forgets every snapshot but the newest `keep`, so gc has dead data to collect. */
async function forgetAllBut(dir: string, keep: number, expected: Expected): Promise<void> {
  const repo = await reopen(dir);
  try {
    const snapshots = await repo.snapshots();
    for (const s of snapshots.slice(0, Math.max(0, snapshots.length - keep))) {
      await forgetOne(repo, s);
      expected.delete(s.id);
    }
  } finally {
    await repo.storage.close();
  }
}

/** Every snapshot restores byte-exact, and `check` finds none broken. */
async function everySnapshotRestores(dir: string, expected: Expected, round: string) {
  const repo = await reopen(dir);
  try {
    const broken = (await check(repo)).problems.filter((p) => p.snapshot !== undefined);
    assert.deepEqual(broken, [], `${round}: check`);
    const snapshots = await repo.snapshots();
    assert.deepEqual(snapshots.map((s) => s.id).sort(), [...expected.keys()].sort(), round);
    for (const s of snapshots) {
      const target = await tempDir();
      const plan = await planRestore(repo, s.id, s.manifest.root, "/");
      await executeRestore(repo, plan, { target });
      const name = s.manifest.paths[0].split("/").pop()!;
      assert.deepEqual(describeTree(join(target, name)), expected.get(s.id), `${round}: ${s.id}`);
    }
  } finally {
    await repo.storage.close();
  }
}

/** A source of a few files; `round` replaces one, adds one and removes one. */
function changeSource(src: string, round: number, seed: number): void {
  if (round === 0) {
    for (let i = 0; i < 4; i++) {
      fs.writeFileSync(join(src, `f${i}.bin`), randomBytes(300_000 + i * 50_000, seed + i));
    }
    return;
  }
  fs.writeFileSync(join(src, `f${round % 4}.bin`), randomBytes(350_000, seed + 100 + round));
  fs.writeFileSync(join(src, `new${round}.bin`), randomBytes(200_000, seed + 200 + round));
  fs.rmSync(join(src, `new${round - 1}.bin`), { force: true });
}

/**
 * Runs `ROUNDS` rounds of a backup of `src` racing `other` (started once the backup stored
 * `round % 3 + 1` packs), each after `before` and followed by `after`.
 */
async function rounds(
  other: (dir: string) => Promise<void>,
  { before, after }: { before?: (dir: string) => Promise<void>; after?: typeof before } = {},
) {
  const { dir, repo } = await newRepo({ dataSize: 256 << 10, metaSize: 64 << 10 });
  await repo.storage.close();
  const src = await tempDir();
  const expected: Expected = new Map();
  let refused = 0;
  for (let round = 0; round < ROUNDS; round++) {
    changeSource(src, round, 1000);
    await forgetAllBut(dir, 2, expected);
    await before?.(dir);
    let start!: () => void;
    const started = new Promise<void>((resolve) => start = resolve);
    const [mine] = await Promise.all([
      backupRacing(dir, src, round % 3 + 1, expected, start),
      started.then(() => other(dir)),
    ]);
    refused += mine.refused;
    await after?.(dir);
    await everySnapshotRestores(dir, expected, `round ${round}`);
  }
  return refused;
}

Deno.test("red team: backups during gc compact --all restore byte-exact, round after round", async () => {
  await rounds(compactAll, { after: purgeNow });
});

Deno.test("red team: backups during gc purge --grace 0 restore byte-exact, round after round", async () => {
  // The compaction before each round gives purge retired packs to delete besides the backup's
  // packs whose segments are not written yet (orphans, to a purge with no grace).
  await rounds(purgeNow, { before: compactAll });
});

Deno.test("red team: two backups at once, of overlapping sources, both restore byte-exact, round after round", async () => {
  const { dir, repo } = await newRepo({ dataSize: 256 << 10, metaSize: 64 << 10 });
  await repo.storage.close();
  const [a, b] = [await tempDir(), await tempDir()];
  const expected: Expected = new Map();
  for (let round = 0; round < ROUNDS; round++) {
    changeSource(a, round, 2000);
    changeSource(b, round, 3000);
    fs.copyFileSync(join(a, "f0.bin"), join(b, "shared.bin")); // both store it at once
    await forgetAllBut(dir, 2, expected);
    let start!: () => void;
    const started = new Promise<void>((resolve) => start = resolve);
    await Promise.all([
      backupRacing(dir, a, round % 3 + 1, expected, start),
      started.then(() => backupRacing(dir, b, 1, expected, () => {})),
    ]);
    await everySnapshotRestores(dir, expected, `round ${round}`);
  }
});
