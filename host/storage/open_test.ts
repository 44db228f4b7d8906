import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { CapabilityRefused, NeedsRestore, ObjectNotFound } from "../../plugins/sdk/errors.ts";
import { layout } from "../repository/layout.ts";
import { openStorage } from "./open.ts";
import { defaultScheme, storageSchemes } from "./schemes.ts";

const id = "cd".repeat(32);

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "pf-open-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("openStorage() rejects an unknown scheme with a TypeError naming it", async () => {
  await assert.rejects(openStorage("ftp://host/x", "ingest"), /scheme "ftp:" is not supported/);
  await assert.rejects(openStorage("toString:x", "ingest"), /scheme "toString:" is not supported/);
});

Deno.test("every storage scheme is one entry of the scheme table; a plain path is local", () => {
  assert.ok(Object.hasOwn(storageSchemes, "local"));
  assert.ok(Object.hasOwn(storageSchemes, "sqlite"));
  assert.equal(defaultScheme, "local");
});

Deno.test("openStorage() rejects unknown, repeated or bad location options, quoting the location", async () => {
  await withDir(async (dir) => {
    for (
      const [options, why] of [
        ["?colde=simulate", /unknown option "colde"/],
        ["?cold=simulate&cold=simulate", /option "cold" twice/],
        ["?cold=real", /"cold" can only be "simulate"/],
        ["?restore-delay=1", /"restore-delay" needs "cold=simulate"/],
        ["?cold=simulate&restore-delay=soon", /"restore-delay" must be seconds/],
        ["?cold=simulate&restore-delay=-1", /"restore-delay" must be seconds/],
      ] as const
    ) {
      await assert.rejects(openStorage(`local:${dir}${options}`, "admin"), TypeError);
      await assert.rejects(openStorage(`local:${dir}${options}`, "admin"), why);
    }
    await assert.rejects(openStorage(`sqlite:${dir}/r.db?x=1`, "admin"), /unknown option "x"/);
    await assert.rejects(openStorage("sqlite:", "admin"), /names no file/);
    await assert.rejects(openStorage(`sqlite:${dir}`, "admin"), /is not a file/);
  });
});

Deno.test("openStorage() of local:…?cold=simulate archives DEEP_ARCHIVE objects; without it they stay readable", async () => {
  await withDir(async (dir) => {
    const cold = await openStorage(`local:${dir}?cold=simulate`, "admin", { create: true });
    const plain = await openStorage(dir, "admin");
    try {
      await cold.create(layout.pack(id), new Uint8Array([1]));
      assert.deepEqual((await cold.stat(layout.pack(id)))?.availability, { state: "archived" });
      await assert.rejects(cold.read(layout.pack(id)), NeedsRestore);
      assert.deepEqual((await plain.stat(layout.pack(id)))?.availability, { state: "readable" });
      assert.deepEqual(await plain.read(layout.pack(id)), new Uint8Array([1]));
    } finally {
      await cold.close();
      await plain.close();
    }
  });
});

Deno.test("openStorage() of sqlite: needs create for a missing file, and then makes its folders", async () => {
  await withDir(async (dir) => {
    const file = join(dir, "a", "b", "repo.db");
    await assert.rejects(
      openStorage(`sqlite:${file}`, "admin"),
      new Deno.errors.NotFound(`repository database "${file}" does not exist`),
    );
    const s = await openStorage(`sqlite:${file}`, "admin", { create: true });
    await s.create(layout.config(), new Uint8Array([7]));
    await s.close();
    const again = await openStorage(`sqlite:${relative(Deno.cwd(), file)}`, "reader");
    assert.deepEqual(await again.read(layout.config()), new Uint8Array([7]));
    await again.close();
    if (Deno.build.os !== "windows") {
      assert.equal((await Deno.stat(join(dir, "a"))).mode! & 0o777, 0o700);
    }
  });
});

Deno.test("openStorage() without create rejects a missing folder with NotFound", async () => {
  await withDir(async (dir) => {
    await assert.rejects(openStorage(join(dir, "none"), "admin"), Deno.errors.NotFound);
    await assert.rejects(Deno.stat(join(dir, "none")), Deno.errors.NotFound);
  });
});

Deno.test("openStorage() with create makes the folder; local: and relative paths name it too", async () => {
  await withDir(async (dir) => {
    const root = join(dir, "a", "repo");
    const s = await openStorage(`local:${root}`, "admin", { create: true });
    await s.create(layout.config(), new Uint8Array([1, 2]));
    await s.close();
    const again = await openStorage(relative(Deno.cwd(), root), "reader");
    assert.deepEqual(await again.read(layout.config()), new Uint8Array([1, 2]));
    await again.close();
  });
});

Deno.test("an ingest storage handle has no delete and cannot read packs or meta copies", async () => {
  await withDir(async (dir) => {
    const admin = await openStorage(dir, "admin");
    await admin.create(layout.pack(id), new Uint8Array([1]));
    await admin.create(layout.metaCopy(id), new Uint8Array([2]));
    await admin.create(layout.index(id), new Uint8Array([3]));
    const ingest = await openStorage(dir, "ingest");
    try {
      await assert.rejects(ingest.delete(layout.pack(id)), CapabilityRefused);
      await assert.rejects(ingest.read(layout.pack(id)), CapabilityRefused);
      await assert.rejects(ingest.read(layout.metaCopy(id)), CapabilityRefused);
      assert.deepEqual(await ingest.read(layout.index(id)), new Uint8Array([3]));
      assert.equal((await ingest.stat(layout.pack(id)))?.size, 1);
      await ingest.create(layout.snapshot(id), new Uint8Array([4]));
      assert.deepEqual(await admin.read(layout.pack(id)), new Uint8Array([1]), "still there");
      await admin.delete(layout.pack(id));
      await assert.rejects(admin.read(layout.pack(id)), ObjectNotFound);
    } finally {
      await ingest.close();
      await admin.close();
    }
  });
});

Deno.test("create() moves the caller's bytes to the storage worker", async () => {
  await withDir(async (dir) => {
    const s = await openStorage(dir, "admin");
    try {
      const data = new Uint8Array([5, 6, 7]);
      await s.create(layout.config(), data);
      assert.equal(data.byteLength, 0, "detached: a sender must not reuse it");
      assert.deepEqual(await s.read(layout.config()), new Uint8Array([5, 6, 7]));
    } finally {
      await s.close();
    }
  });
});

Deno.test("a closed storage rejects further calls", async () => {
  await withDir(async (dir) => {
    const s = await openStorage(dir, "admin");
    await s.close();
    await s.close();
    await assert.rejects(s.stat(layout.config()), /storage ".*" is closed/);
  });
});
