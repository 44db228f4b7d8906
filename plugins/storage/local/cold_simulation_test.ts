import assert from "node:assert/strict";
import { join } from "node:path";
import { NeedsRestore, ObjectNotFound } from "../../sdk/mod.ts";
import { LocalStore } from "./local_store.ts";

const DAY = 86_400_000;
const pack = "packs/ab" + "0".repeat(62);
const index = "index/" + "1".repeat(64);

/** A cold-simulating store on a fresh folder, with a clock the test moves. */
async function withColdStore(
  delaySeconds: number,
  fn: (ctx: {
    s: LocalStore;
    root: string;
    clock: { now: number };
    reopen: () => LocalStore;
  }) => Promise<void>,
): Promise<void> {
  const base = await Deno.makeTempDir({ prefix: "pf-cold-" });
  const root = join(base, "repo");
  const clock = { now: Date.parse("2030-01-01T00:00:00Z") };
  const open = () =>
    new LocalStore(root, { cold: { restoreDelaySeconds: delaySeconds }, now: () => clock.now });
  const s = open();
  await s.init();
  try {
    await fn({ s, root, clock, reopen: open });
  } finally {
    await Deno.remove(base, { recursive: true });
  }
}

const state = async (s: LocalStore, name: string) => (await s.stat(name))?.availability;

Deno.test("a simulated restore becomes readable after the delay and archived again after its days", async () => {
  await withColdStore(3600, async ({ s, clock }) => {
    await s.create(pack, new Uint8Array([1, 2, 3]), { storageClass: "GLACIER" });
    await s.requestRestore(pack, { tier: "standard", days: 2 });
    assert.deepEqual(await state(s, pack), { state: "restoring" });
    await assert.rejects(s.read(pack), /object "packs\/ab0+" is being restored, readable from/);
    clock.now += 3600_000;
    const until = new Date(clock.now - 3600_000 + 2 * DAY).toISOString();
    assert.deepEqual(await state(s, pack), { state: "restored", until });
    assert.deepEqual(await s.read(pack, { offset: 1, length: 2 }), new Uint8Array([2, 3]));
    clock.now = Date.parse(until);
    assert.deepEqual(await state(s, pack), { state: "archived" });
    await assert.rejects(s.read(pack), NeedsRestore);
    await s.requestRestore(pack, { tier: "bulk", days: 1 });
    assert.deepEqual(await state(s, pack), { state: "restoring" }, "a new restore starts");
  });
});

Deno.test("a repeated restore request changes nothing while restoring and extends a restored copy", async () => {
  await withColdStore(60, async ({ s, clock }) => {
    await s.create(pack, new Uint8Array([1]), { storageClass: "DEEP_ARCHIVE" });
    await s.requestRestore(pack, { tier: "bulk", days: 1 });
    const start = clock.now;
    clock.now += 30_000;
    await s.requestRestore(pack, { tier: "standard", days: 5 });
    clock.now = start + 59_999;
    assert.deepEqual(await state(s, pack), { state: "restoring" }, "no faster tier, no reset");
    clock.now = start + 60_000;
    const oneDay = new Date(start + DAY).toISOString();
    assert.deepEqual(await state(s, pack), { state: "restored", until: oneDay });
    await s.requestRestore(pack, { tier: "bulk", days: 3 });
    const extended = new Date(clock.now + 3 * DAY).toISOString();
    assert.deepEqual(await state(s, pack), { state: "restored", until: extended });
    await s.requestRestore(pack, { tier: "bulk", days: 1 });
    assert.deepEqual(await state(s, pack), { state: "restored", until: extended }, "never shorter");
  });
});

Deno.test("archive and restore states survive a restart (a new store on the same folder)", async () => {
  await withColdStore(10, async ({ s, clock, reopen }) => {
    const other = "packs/cd" + "2".repeat(62);
    await s.create(pack, new Uint8Array([1]), { storageClass: "DEEP_ARCHIVE" });
    await s.create(other, new Uint8Array([2]), { storageClass: "DEEP_ARCHIVE" });
    await s.create(index, new Uint8Array([3]), { storageClass: "STANDARD_IA" });
    await s.requestRestore(pack, { tier: "bulk", days: 1 });
    const again = reopen();
    assert.deepEqual(await state(again, pack), { state: "restoring" });
    assert.deepEqual(await state(again, other), { state: "archived" });
    assert.equal((await again.stat(index))?.storageClass, "STANDARD_IA");
    clock.now += 10_000;
    assert.equal((await state(reopen(), pack))?.state, "restored");
    assert.deepEqual(await reopen().read(pack), new Uint8Array([1]));
  });
});

Deno.test("expedited restores of DEEP_ARCHIVE are refused, naming the object; bad options too", async () => {
  await withColdStore(0, async ({ s }) => {
    await s.create(pack, new Uint8Array([1]), { storageClass: "DEEP_ARCHIVE" });
    await assert.rejects(
      s.requestRestore(pack, { tier: "expedited", days: 1 }),
      new TypeError(`object "${pack}" is in DEEP_ARCHIVE, which has no "expedited" restores`),
    );
    await assert.rejects(s.requestRestore(pack, { tier: "now", days: 1 }), TypeError, pack);
    await assert.rejects(s.requestRestore(pack, { tier: "bulk", days: 0.5 }), TypeError, pack);
    await assert.rejects(
      s.create(index, new Uint8Array(1), { storageClass: "COLD" as never }),
      TypeError,
    );
    await s.create(index, new Uint8Array([1]), { storageClass: "GLACIER" });
    await s.requestRestore(index, { tier: "expedited", days: 1 }); // GLACIER has it
  });
});

Deno.test("the simulation keeps its records in .cold/, one per non-STANDARD object, removed on delete", async () => {
  await withColdStore(0, async ({ s, root }) => {
    await s.create(pack, new Uint8Array([1]), { storageClass: "DEEP_ARCHIVE" });
    await s.create(index, new Uint8Array([2]));
    const records = () => [...Deno.readDirSync(join(root, ".cold"))].map((e) => e.name);
    assert.equal(records().length, 1);
    assert.match(records()[0], /^[0-9a-f]{64}\.json$/);
    const record = JSON.parse(Deno.readTextFileSync(join(root, ".cold", records()[0])));
    assert.deepEqual(record, { v: 1, name: pack, storageClass: "DEEP_ARCHIVE" });
    assert.deepEqual((await s.list("")).map((o) => [o.name, o.storageClass]).sort(), [
      [index, "STANDARD"],
      [pack, "DEEP_ARCHIVE"],
    ]);
    await s.delete(pack);
    assert.deepEqual(records(), []);
    assert.deepEqual([...Deno.readDirSync(join(root, "tmp"))], []);
  });
});

Deno.test("a record left by a crashed delete neither archives the next object of that name nor a missing one", async () => {
  await withColdStore(0, async ({ s, root }) => {
    await s.create(pack, new Uint8Array([1]), { storageClass: "DEEP_ARCHIVE" });
    await Deno.remove(join(root, "packs", "ab", pack.slice(6))); // the delete, before its record
    await assert.rejects(s.read(pack), ObjectNotFound);
    assert.equal(await s.stat(pack), null);
    await assert.rejects(s.requestRestore(pack, { tier: "bulk", days: 1 }), ObjectNotFound);
    await s.create(pack, new Uint8Array([2]), { storageClass: "STANDARD" });
    assert.deepEqual((await s.stat(pack))?.availability, { state: "readable" });
    assert.deepEqual(await s.read(pack), new Uint8Array([2]));
  });
});

Deno.test("without the simulation the class is recorded nowhere and archive objects are readable", async () => {
  const base = await Deno.makeTempDir({ prefix: "pf-nocold-" });
  try {
    const s = new LocalStore(join(base, "repo"));
    await s.init();
    await s.create(pack, new Uint8Array([1]), { storageClass: "DEEP_ARCHIVE" });
    const stat = await s.stat(pack);
    assert.deepEqual(stat?.availability, { state: "readable" });
    assert.equal(stat?.storageClass, undefined);
    assert.deepEqual(await s.read(pack), new Uint8Array([1]));
    await s.requestRestore(pack, { tier: "bulk", days: 1 });
    await assert.rejects(s.requestRestore(index, { tier: "bulk", days: 1 }), ObjectNotFound);
    assert.deepEqual([...Deno.readDirSync(join(base, "repo"))].map((e) => e.name).sort(), [
      "packs",
      "tmp",
    ]);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});
