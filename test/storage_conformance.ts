/**
 * The one conformance suite every storage back end runs (STYLE habit 5). It checks the
 * `Storage` contract of `host/storage/storage.ts` through an admin-role `Storage`, using only
 * layout names. A back end's test file calls {@link storageConformance} with an opener, and
 * says what the back end offers beyond the base contract ({@link StorageTraits}).
 *
 * Every test but the cold group writes its objects in STANDARD (unless it names a class), so
 * back ends with archive tiers can read them back.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  CapabilityRefused,
  NeedsRestore,
  ObjectExists,
  ObjectNotFound,
} from "../plugins/sdk/errors.ts";
import { sha256Hex } from "../host/crypto/hash.ts";
import { layout } from "../host/repository/layout.ts";
import type {
  Availability,
  ObjectStat,
  Storage,
  StorageClass,
  UploadStart,
} from "../host/storage/storage.ts";

/** A fresh, empty store opened for a test. */
export interface StorageUnderTest {
  /** The store, with every method (admin role). */
  storage: Storage;
  /** Disposes of the store (after the suite closed every handle). */
  cleanup(): Promise<void>;
  /**
   * Opens another handle on the same store (another worker, connection or process), for races
   * between handles and state that must outlive a handle. Without it those tests use `storage`.
   */
  reopen?(): Promise<Storage>;
  /**
   * Leaves behind what a write interrupted by a crash leaves in this store (a file in `tmp/`,
   * an S3 multipart upload with one part of `size` bytes); needed with the `strays` trait.
   */
  interruptWrite?(size: number): Promise<void>;
  /** Turns the store's object versioning on (S3 `PutBucketVersioning`); with `versions`. */
  enableVersions?(): Promise<void>;
}

/** Opens a fresh, empty store for one test. */
export type OpenForTest = () => Promise<StorageUnderTest>;

/** What a back end offers beyond the base contract; the matching test groups run only then. */
export interface StorageTraits {
  /**
   * Archive tiers: GLACIER and DEEP_ARCHIVE objects are `archived` until `requestRestore`,
   * which makes them readable after about `restoreDelaySeconds` (keep it 0 or 1 in tests).
   */
  cold?: { restoreDelaySeconds: number };
  /**
   * The server's create-only check is not atomic with the write (moto's `If-None-Match`: it
   * looks, then writes), so two racing creates of one name with different bytes may both
   * succeed, the later replacing the earlier. Real S3, the local folder and SQLite are atomic.
   * With this trait the race test asks only what such a server allows: at least one create
   * wins, every other one is `ObjectExists`, and the object holds one winner's bytes.
   */
  racyCreateOnly?: boolean;
  /**
   * Which objects keep the label their create gave (`stat().label`, `CreateOptions.label`):
   * `"all"`, or `"archived"` (those created in an archive class; the contract lets a back end
   * drop the labels of always-readable objects). Absent: the back end keeps none, which the
   * contract allows only when every object is always readable.
   */
  labels?: "all" | "archived";
  /**
   * An interrupted write leaves something behind that `strays` lists (a temporary file, an
   * incomplete multipart upload), and the opener's `interruptWrite` makes one. Absent: the back
   * end's writes are transactions, and `strays` is always empty.
   */
  strays?: boolean;
  /**
   * The server gives every stray the same made-up time (moto: 2010-11-10 for every multipart
   * upload; real S3 gives the time the upload began), so the strays test does not check it.
   */
  fixedStrayTime?: boolean;
  /**
   * The store keeps object versions (`StoreProperties.versions`: S3), once the opener's
   * `enableVersions` turned them on. Absent: `versioning` is `off` and every other version
   * word rejects with `TypeError`.
   */
  versions?: boolean;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Random bytes of any length. */
export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}

/** A random 64-hex-digit object id; `first` fixes its leading characters. */
export function randomId(first = ""): string {
  const hex = Array.from(randomBytes(32), (b) => b.toString(16).padStart(2, "0")).join("");
  return (first + hex).slice(0, 64);
}

/** The name and size of a stat or listing entry (back ends may add more). */
export function nameAndSize(o: { name: string; size: number } | null) {
  return o === null ? null : { name: o.name, size: o.size };
}

/** Asserts that `s` is an ISO 8601 date and time with a zone, and about now (±10 minutes). */
export function assertRecentIsoTime(s: unknown, what: string): void {
  assert.equal(typeof s, "string", `${what}: modified is not a string`);
  assert.match(
    s as string,
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/,
    `${what}: modified "${s}" is not an ISO 8601 time`,
  );
  const age = Date.now() - Date.parse(s as string);
  assert.ok(age > -600_000 && age < 600_000, `${what}: modified ${s} is not about now`);
}

/**
 * Registers the conformance tests for back end `name`, each on a fresh storage from `open`;
 * the groups `traits` names run too, the others are registered as ignored, saying why.
 */
export function storageConformance(
  name: string,
  open: OpenForTest,
  traits: StorageTraits = {},
): void {
  /** `s`, and a second handle on the same store (or `s` itself when the opener has none). */
  const test = (
    title: string,
    fn: (s: Storage, other: () => Promise<Storage>, opened: StorageUnderTest) => Promise<void>,
  ) =>
    Deno.test(`${name}: ${title}`, async () => {
      const opened = await open();
      const { storage, cleanup, reopen } = opened;
      const others: Storage[] = [];
      const other = async () => {
        if (!reopen) return standardByDefault(storage);
        const s = await reopen();
        others.push(s);
        return standardByDefault(s);
      };
      try {
        await fn(standardByDefault(storage), other, opened);
      } finally {
        for (const s of others) await s.close();
        await storage.close();
        await cleanup();
      }
    });

  test("create() then read() returns the same bytes, for empty, small and large objects", async (s) => {
    const objects = [
      [layout.config(), new Uint8Array(0)],
      [layout.key(randomId()), randomBytes(1)],
      [layout.index(randomId()), randomBytes(4097)],
      [layout.pack(randomId()), randomBytes(9 << 20)],
    ] as const;
    for (const [n, data] of objects) await s.create(n, data.slice());
    for (const [n, data] of objects) assert.deepEqual(await s.read(n), data, n);
  });

  test("read() with a range returns exactly those bytes", async (s) => {
    const data = randomBytes(100_000);
    const n = layout.pack(randomId());
    await s.create(n, data.slice());
    for (
      const [offset, length] of [[0, 1], [0, 100_000], [99_999, 1], [12_345, 54_321], [500, 0]]
    ) {
      assert.deepEqual(await s.read(n, { offset, length }), data.subarray(offset, offset + length));
    }
    assert.deepEqual(await s.read(n, { offset: 100_000, length: 0 }), new Uint8Array(0));
  });

  test("read() with a range past the end rejects with RangeError", async (s) => {
    const n = layout.index(randomId());
    await s.create(n, randomBytes(10));
    await assert.rejects(s.read(n, { offset: 5, length: 6 }), RangeError);
    await assert.rejects(s.read(n, { offset: 11, length: 0 }), RangeError);
    await assert.rejects(s.read(n, { offset: -1, length: 2 }), RangeError);
  });

  test("create() of an existing name with the same bytes resolves", async (s) => {
    const n = layout.snapshot(randomId());
    const data = randomBytes(3000);
    await s.create(n, data.slice());
    await s.create(n, data.slice());
    assert.deepEqual(await s.read(n), data);
  });

  test("create() of an existing name with other bytes rejects with ObjectExists and keeps the original", async (s) => {
    const n = layout.pack(randomId());
    const data = randomBytes(3000);
    await s.create(n, data.slice());
    const other = data.slice();
    other[1234] ^= 1;
    await assert.rejects(s.create(n, other), ObjectExists);
    await assert.rejects(s.create(n, randomBytes(10)), ObjectExists);
    await assert.rejects(s.create(n, new Uint8Array(0)), ObjectExists);
    assert.deepEqual(await s.read(n), data);
    assert.deepEqual(nameAndSize(await s.stat(n)), { name: n, size: 3000 });
  });

  test("a missing object: read() rejects with ObjectNotFound, stat() is null, delete() resolves", async (s) => {
    const n = layout.pack(randomId());
    await assert.rejects(s.read(n), ObjectNotFound);
    await assert.rejects(s.read(n, { offset: 0, length: 1 }), ObjectNotFound);
    assert.equal(await s.stat(n), null);
    await s.delete(n);
  });

  test("stat() gives the name and size", async (s) => {
    const n = layout.index(randomId());
    await s.create(n, randomBytes(777));
    const stat = await s.stat(n);
    assert.deepEqual(nameAndSize(stat), { name: n, size: 777 });
    assert.equal(stat?.availability.state, "readable");
    if (stat?.modified !== undefined) assertRecentIsoTime(stat.modified, n);
  });

  test("list() gives each object's modified time, where it gives one, as an ISO 8601 time", async (s) => {
    const names = [layout.config(), layout.index(randomId()), layout.pack(randomId())];
    for (const n of names) await s.create(n, randomBytes(10));
    const listed = await s.list("");
    assert.deepEqual(listed.map((o) => o.name).sort(), [...names].sort());
    for (const o of listed) if (o.modified !== undefined) assertRecentIsoTime(o.modified, o.name);
  });

  test("list() yields exactly the objects under a prefix", async (s) => {
    const packs = [randomId("ab"), randomId("ab"), randomId("cd")].map(layout.pack);
    const indexes = [randomId(), randomId()].map(layout.index);
    const others = [layout.config(), layout.key(randomId()), layout.metaCopy(randomId())];
    for (const n of [...packs, ...indexes, ...others]) await s.create(n, randomBytes(n.length));
    const names = async (prefix: string) => (await s.list(prefix)).map((o) => o.name).sort();
    assert.deepEqual(await names(layout.prefixes.pack), [...packs].sort());
    assert.deepEqual(await names("packs/ab"), packs.slice(0, 2).sort());
    assert.deepEqual(await names("packs/a"), packs.slice(0, 2).sort());
    assert.deepEqual(await names(packs[2]), [packs[2]]);
    assert.deepEqual(await names(layout.prefixes.index), [...indexes].sort());
    assert.deepEqual(await names("snapshots/"), []);
    assert.deepEqual(await names(""), [...packs, ...indexes, ...others].sort());
    for (const o of await s.list("")) assert.equal(o.size, o.name.length, o.name);
  });

  test("list() returns every object when there are more than 1000", async (s) => {
    const all = Array.from({ length: 1100 }, () => layout.index(randomId()));
    for (let i = 0; i < all.length; i += 100) {
      await Promise.all(all.slice(i, i + 100).map((n) => s.create(n, new Uint8Array([1]))));
    }
    await s.create(layout.pack(randomId()), new Uint8Array([2]));
    const listed = await s.list(layout.prefixes.index);
    assert.equal(listed.length, 1100);
    assert.deepEqual(listed.map((o) => o.name).sort(), all.sort());
  });

  test(
    "concurrent creates of one name with the same bytes all resolve, from two handles",
    async (s, other) => {
      const handles = [s, await other()];
      const n = layout.pack(randomId());
      const data = randomBytes(200_000);
      await Promise.all(
        Array.from({ length: 8 }, (_, i) => handles[i % 2].create(n, data.slice())),
      );
      assert.deepEqual(await s.read(n), data);
      assert.deepEqual(await handles[1].read(n), data);
    },
  );

  test(
    "concurrent creates of one name with different bytes, from two handles: one wins, the rest get ObjectExists",
    async (s, other) => {
      const handles = [s, await other()];
      for (let round = 0; round < 3; round++) {
        const n = layout.pack(randomId());
        const datas = Array.from({ length: 8 }, () => randomBytes(100_000));
        const results = await Promise.allSettled(
          datas.map((d, i) => handles[i % 2].create(n, d.slice())),
        );
        const won = results.flatMap((r, i) => r.status === "fulfilled" ? [i] : []);
        if (traits.racyCreateOnly) assert.ok(won.length >= 1, `round ${round}: no create won`);
        else assert.equal(won.length, 1, `round ${round}: ${won.length} creates won`);
        for (const r of results) {
          if (r.status === "rejected") assert.ok(r.reason instanceof ObjectExists, `${r.reason}`);
        }
        const stored = await s.read(n);
        assert.ok(won.some((i) => equalBytes(stored, datas[i])), "holds a winner's bytes");
      }
    },
  );

  test("concurrent creates of different names from two handles all land", async (s, other) => {
    const handles = [s, await other()];
    const objects = Array.from({ length: 40 }, (_, i) =>
      [
        i % 2 ? layout.pack(randomId()) : layout.index(randomId()),
        randomBytes(1000 + i * 997),
      ] as const);
    await Promise.all(objects.map(([n, d], i) => handles[(i >> 1) % 2].create(n, d.slice())));
    for (const [n, d] of objects) assert.deepEqual(await s.read(n), d);
    assert.equal((await handles[1].list("")).length, objects.length);
  });

  test("delete() removes an object, after which its name can be created again", async (s) => {
    const n = layout.pack(randomId());
    const keep = layout.pack(randomId());
    await s.create(n, randomBytes(10));
    await s.create(keep, randomBytes(10));
    await s.delete(n);
    assert.equal(await s.stat(n), null);
    await assert.rejects(s.read(n), ObjectNotFound);
    assert.deepEqual((await s.list("packs/")).map((o) => o.name), [keep]);
    const again = randomBytes(20);
    await s.create(n, again.slice());
    assert.deepEqual(await s.read(n), again);
  });

  test("create() with a label: stat() gives it back where the back end keeps labels, never another; a malformed label is refused", async (s) => {
    const labelled = layout.pack(randomId());
    const plain = layout.index(randomId());
    const data = randomBytes(100);
    await s.create(labelled, data.slice(), { label: "meta" });
    await s.create(plain, randomBytes(10));
    const got = (await s.stat(labelled))?.label;
    if (traits.labels === "all") assert.equal(got, "meta");
    else assert.ok(got === undefined || got === "meta", `label "${got}"`);
    assert.equal((await s.stat(plain))?.label, undefined, "no label given, none returned");
    // The label is the first create's: the same bytes again resolve and do not change it.
    await s.create(labelled, data.slice(), { label: "data" });
    assert.equal((await s.stat(labelled))?.label, got);
    for (const bad of ["", "two words", "x".repeat(33), "métadonnée", "a/b"]) {
      const n = layout.pack(randomId());
      await assert.rejects(s.create(n, randomBytes(5), { label: bad }), TypeError, `"${bad}"`);
      assert.equal(await s.stat(n), null, `label "${bad}": nothing created`);
    }
  });

  test("strays() is empty when every write finished; removeStray() refuses an object's name and leaves the object", async (s) => {
    const n = layout.pack(randomId());
    await s.create(n, randomBytes(100));
    await s.create(layout.index(randomId()), randomBytes(10));
    await s.delete(layout.index(randomId()));
    assert.deepEqual(await s.strays(), []);
    await assert.rejects(s.removeStray(n), TypeError);
    assert.equal((await s.stat(n))?.size, 100);
  });

  const strayTitle = "an interrupted write is a stray, with its size and time, until " +
    "removeStray() removes it; removing it again resolves";
  if (!traits.strays) {
    Deno.test({
      name: `${name}: ${strayTitle} (skipped: the back end's writes are transactions)`,
      ignore: true,
      fn() {},
    });
  } else {
    test(strayTitle, async (s, _other, opened) => {
      assert.ok(opened.interruptWrite, "the opener can interrupt a write");
      const keep = layout.pack(randomId());
      await s.create(keep, randomBytes(100));
      await opened.interruptWrite(5 << 20);
      const strays = await s.strays();
      assert.equal(strays.length, 1);
      const [stray] = strays;
      assert.equal(stray.size, 5 << 20);
      if (stray.modified !== undefined && !traits.fixedStrayTime) {
        assertRecentIsoTime(stray.modified, stray.name);
      }
      assert.deepEqual((await s.list("")).map((o) => o.name), [keep], "a stray is no object");
      await s.removeStray(stray.name);
      assert.deepEqual(await s.strays(), []);
      await s.removeStray(stray.name);
      assert.equal((await s.stat(keep))?.size, 100);
    });
  }

  if (traits.versions) {
    test(
      "versions: putVersion() keeps every version of a mirror's object, each read, stat'ed, listed and deleted alone",
      async (s, _other, opened) => {
        assert.ok(opened.enableVersions, "the opener can turn versioning on");
        assert.equal(await s.versioning(), "off");
        await opened.enableVersions();
        assert.equal(await s.versioning(), "enabled");
        const name = `mirror/site/${randomId().slice(0, 8)}.html`;
        const old = randomBytes(100), now = randomBytes(150);
        const v1 = await s.putVersion(name, old.slice());
        const v2 = await s.putVersion(name, now.slice());
        assert.notEqual(v1, v2);
        assert.ok(equalBytes(await s.readVersion(name, v1), old));
        assert.ok(
          equalBytes(
            await s.readVersion(name, v2, { offset: 10, length: 5 }),
            now.subarray(10, 15),
          ),
        );
        assert.ok(equalBytes(await s.read(name), now), "the newest version is the object");
        assert.equal((await s.statVersion(name, v1))?.size, 100);
        const listed = (await s.listVersions("mirror/site/")).filter((v) => v.name === name);
        assert.deepEqual(
          listed.map((v) => [v.version, v.size, v.latest]).sort(),
          [[v1, 100, false], [v2, 150, true]].sort(),
        );
        await s.deleteVersion(name, v1);
        await s.deleteVersion(name, v1);
        assert.equal(await s.statVersion(name, v1), null);
        await assert.rejects(s.readVersion(name, v1), ObjectNotFound);
        assert.ok(equalBytes(await s.readVersion(name, v2), now));
        await assert.rejects(s.putVersion(layout.pack(randomId()), old.slice()), CapabilityRefused);
      },
    );
  } else {
    test("versions: without them versioning() is off and every other version word is refused", async (s) => {
      assert.equal(await s.versioning(), "off");
      const name = "mirror/site/a.txt";
      await assert.rejects(s.putVersion(name, randomBytes(1)), TypeError);
      await assert.rejects(s.readVersion(name, "1"), TypeError);
      await assert.rejects(s.statVersion(name, "1"), TypeError);
      await assert.rejects(s.listVersions("mirror/"), TypeError);
      await assert.rejects(s.deleteVersion(name, "1"), TypeError);
    });
  }

  test(
    "pieces: where the store declares them, startUpload/writeUpload/finishUpload store the object whole and create-only; abortUpload, a short upload or other bytes store nothing; elsewhere each word is refused",
    async (_s, _other, opened) => {
      const s = opened.storage;
      const name = `mirror/site/${randomId().slice(0, 8)}.bin`;
      const bytes = randomBytes((9 << 20) + 123);
      const start: UploadStart = {
        size: bytes.length,
        sha256: sha256Hex(bytes),
        storageClass: "STANDARD",
      };
      if (!s.properties?.pieces) {
        for (
          const word of [
            () => s.startUpload?.(name, start),
            () => s.writeUpload?.("1", randomBytes(1)),
            () => s.finishUpload?.("1"),
            () => s.abortUpload?.("1"),
          ]
        ) {
          const answer = word();
          if (answer !== undefined) await assert.rejects(answer, TypeError);
        }
        return;
      }
      /** One upload of `data` in pieces of 4 MiB, announced as `announced`. */
      const upload = async (key: string, data: Uint8Array, announced = start) => {
        const id = await s.startUpload!(key, announced);
        for (let at = 0; at < data.length; at += 4 << 20) {
          await s.writeUpload!(id, data.slice(at, at + (4 << 20)));
        }
        return id;
      };
      assert.deepEqual(await s.finishUpload!(await upload(name, bytes)), {});
      assert.ok(equalBytes(await s.read(name), bytes));
      assert.equal((await s.stat(name))?.size, bytes.length);
      // Create-only: the same bytes again resolve; other bytes are ObjectExists, the object kept.
      await s.finishUpload!(await upload(name, bytes));
      const other = randomBytes(bytes.length);
      await assert.rejects(
        (async () =>
          s.finishUpload!(await upload(name, other, { ...start, sha256: sha256Hex(other) })))(),
        ObjectExists,
      );
      assert.ok(equalBytes(await s.read(name), bytes));

      // Bytes that are not the announced ones, or too few of them, and an abort: nothing stored.
      const fresh = `mirror/site/${randomId().slice(0, 8)}.bin`;
      await assert.rejects((async () => s.finishUpload!(await upload(fresh, other)))(), TypeError);
      await assert.rejects(
        (async () => s.finishUpload!(await upload(fresh, bytes.subarray(0, 5 << 20))))(),
        TypeError,
      );
      const aborted = await upload(fresh, bytes);
      await s.abortUpload!(aborted);
      await s.abortUpload!(aborted);
      assert.equal(await s.stat(fresh), null);
      assert.deepEqual((await s.list(fresh)).map((o) => o.name), []);
    },
  );

  if (!traits.cold) {
    Deno.test({
      name: `${name}: cold behaviour (skipped: the back end has no archive tiers)`,
      ignore: true,
      fn() {},
    });
    return;
  }
  const { restoreDelaySeconds } = traits.cold;
  const bulk = { tier: "bulk", days: 1 } as const;

  test("cold: a GLACIER or DEEP_ARCHIVE object is archived: stat() says so, read() rejects with NeedsRestore naming it", async (s) => {
    const objects: [string, StorageClass][] = [
      [layout.pack(randomId()), "DEEP_ARCHIVE"],
      [layout.pack(randomId()), "GLACIER"],
    ];
    for (const [n, storageClass] of objects) {
      await s.create(n, randomBytes(1000), { storageClass });
      const stat = await s.stat(n);
      assert.deepEqual(stat?.availability, { state: "archived" }, n);
      assert.equal(stat?.storageClass, storageClass, n);
      for (const range of [undefined, { offset: 0, length: 1 }]) {
        await assert.rejects(s.read(n, range), (e: Error) => {
          assert.ok(e instanceof NeedsRestore, `${e}`);
          assert.ok(e.message.includes(n), `"${e.message}" does not name the object`);
          return true;
        });
      }
    }
  });

  test("cold: STANDARD, STANDARD_IA and GLACIER_IR objects in the same store stay readable", async (s) => {
    await s.create(layout.pack(randomId()), randomBytes(10), { storageClass: "DEEP_ARCHIVE" });
    for (const storageClass of ["STANDARD", "STANDARD_IA", "GLACIER_IR"] as const) {
      const n = layout.index(randomId());
      const data = randomBytes(500);
      await s.create(n, data.slice(), { storageClass });
      const stat = await s.stat(n);
      assert.deepEqual(stat?.availability, { state: "readable" }, storageClass);
      assert.equal(stat?.storageClass, storageClass);
      assert.deepEqual(await s.read(n), data);
      assert.deepEqual(await s.read(n, { offset: 10, length: 5 }), data.subarray(10, 15));
    }
  });

  test("cold: an archived object's label is given by stat() before any restore, and after it", async (s) => {
    const n = layout.pack(randomId());
    await s.create(n, randomBytes(1000), { storageClass: "DEEP_ARCHIVE", label: "meta" });
    const other = layout.pack(randomId());
    await s.create(other, randomBytes(1000), { storageClass: "GLACIER", label: "data" });
    const stat = await s.stat(n);
    assert.deepEqual(stat?.availability, { state: "archived" });
    assert.equal(stat?.label, "meta");
    assert.equal((await s.stat(other))?.label, "data");
    await s.requestRestore(n, bulk);
    await waitForRestore(s, n, restoreDelaySeconds);
    assert.equal((await s.stat(n))?.label, "meta");
  });

  test("cold: list() gives each object's storage class", async (s) => {
    const classes = new Map<string, StorageClass>([
      [layout.pack(randomId()), "DEEP_ARCHIVE"],
      [layout.pack(randomId()), "GLACIER"],
      [layout.metaCopy(randomId()), "STANDARD"],
      [layout.index(randomId()), "STANDARD_IA"],
    ]);
    for (const [n, storageClass] of classes) await s.create(n, randomBytes(9), { storageClass });
    const listed = await s.list("");
    assert.equal(listed.length, classes.size);
    for (const o of listed) assert.equal(o.storageClass, classes.get(o.name), o.name);
  });

  test("cold: requestRestore() makes an archived object restoring, then restored until a later time, then readable", async (s) => {
    const n = layout.pack(randomId());
    const data = randomBytes(100_000);
    await s.create(n, data.slice(), { storageClass: "DEEP_ARCHIVE" });
    await s.requestRestore(n, bulk);
    const first = (await s.stat(n))!.availability;
    if (restoreDelaySeconds > 0) {
      assert.equal(first.state, "restoring");
      await assert.rejects(s.read(n), NeedsRestore);
    } else {
      assert.ok(first.state === "restoring" || first.state === "restored", first.state);
    }
    await s.requestRestore(n, bulk); // again, while in progress: fine
    const restored = await waitForRestore(s, n, restoreDelaySeconds);
    assert.ok(Date.parse(restored.until) > Date.now(), `until ${restored.until} is not later`);
    assert.deepEqual(await s.read(n), data);
    assert.deepEqual(
      await s.read(n, { offset: 4321, length: 54_321 }),
      data.subarray(4321, 4321 + 54_321),
    );
    await s.requestRestore(n, bulk); // and once restored
    assert.equal((await s.stat(n))?.availability.state, "restored");
    assert.equal((await s.stat(n))?.storageClass, "DEEP_ARCHIVE");
  });

  test("cold: requestRestore() of a missing object rejects with ObjectNotFound; of a readable one it changes nothing", async (s) => {
    const missing = layout.pack(randomId());
    await assert.rejects(s.requestRestore(missing, bulk), ObjectNotFound);
    assert.equal(await s.stat(missing), null);
    const hot = layout.index(randomId());
    await s.create(hot, randomBytes(5), { storageClass: "STANDARD" });
    await s.requestRestore(hot, bulk);
    assert.deepEqual((await s.stat(hot))?.availability, { state: "readable" });
  });

  test(
    "cold: another handle on the store sees the same archive and restore states",
    async (s, other) => {
      const archived = layout.pack(randomId());
      const asked = layout.pack(randomId());
      for (const n of [archived, asked]) {
        await s.create(n, randomBytes(10), { storageClass: "DEEP_ARCHIVE" });
      }
      await s.requestRestore(asked, bulk);
      const s2 = await other();
      assert.deepEqual((await s2.stat(archived))?.availability, { state: "archived" });
      const seen = (await s2.stat(asked))!.availability.state;
      assert.ok(seen === "restoring" || seen === "restored", seen);
      if (restoreDelaySeconds > 0) assert.equal(seen, "restoring");
    },
  );
}

/**
 * `s`, creating objects in STANDARD unless a test names a class: the general tests read back
 * what they write, which an archive class would refuse.
 */
function standardByDefault(s: Storage): Storage {
  return {
    create: (n, data, options) => s.create(n, data, { storageClass: "STANDARD", ...options }),
    read: (n, range) => s.read(n, range),
    stat: (n) => s.stat(n),
    list: (prefix) => s.list(prefix),
    requestRestore: (n, options) => s.requestRestore(n, options),
    delete: (n) => s.delete(n),
    strays: () => s.strays(),
    removeStray: (n) => s.removeStray(n),
    versioning: () => s.versioning(),
    putVersion: (n, data, options) =>
      s.putVersion(n, data, { storageClass: "STANDARD", ...options }),
    readVersion: (n, version, range) => s.readVersion(n, version, range),
    statVersion: (n, version) => s.statVersion(n, version),
    listVersions: (prefix) => s.listVersions(prefix),
    deleteVersion: (n, version) => s.deleteVersion(n, version),
    close: () => s.close(),
  };
}

/** Polls `stat(name)` until it is `restored` (rejects after the delay plus 10 s). */
async function waitForRestore(
  s: Storage,
  name: string,
  delaySeconds: number,
): Promise<Extract<Availability, { state: "restored" }>> {
  const deadline = Date.now() + delaySeconds * 1000 + 10_000;
  for (;;) {
    const stat: ObjectStat | null = await s.stat(name);
    const a = stat?.availability;
    if (a?.state === "restored") return a;
    assert.equal(a?.state, "restoring", `object "${name}" is ${a?.state ?? "missing"}`);
    if (Date.now() > deadline) assert.fail(`object "${name}" is still restoring`);
    await new Promise((r) => setTimeout(r, Math.min(250, delaySeconds * 250 + 10)));
  }
}
