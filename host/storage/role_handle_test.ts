import assert from "node:assert/strict";
import { CapabilityRefused } from "../../plugins/sdk/errors.ts";
import { layout } from "../repository/layout.ts";
import { RoleHandle, type StorageBackend } from "./role_handle.ts";

const id = "ab".repeat(32);

function recorder(): StorageBackend & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    call<T>(method: string, ...args: unknown[]): Promise<T> {
      calls.push(`${method} ${args[0]}`);
      return Promise.resolve(null as T);
    },
    close: () => Promise.resolve(),
  };
}

Deno.test("an ingest role handle refuses delete without reaching the plugin", async () => {
  const b = recorder();
  const s = new RoleHandle(b, "ingest");
  await assert.rejects(
    s.delete(layout.pack(id)),
    new CapabilityRefused(`the ingest role cannot "delete" objects`),
  );
  assert.deepEqual(b.calls, []);
});

Deno.test("an ingest role handle cannot read packs or metadata copies, nor unknown names", async () => {
  const b = recorder();
  const s = new RoleHandle(b, "ingest");
  for (const n of [layout.pack(id), layout.metaCopy(id), "packs/x", "other"]) {
    await assert.rejects(s.read(n), (e: Error) => {
      assert.ok(e instanceof CapabilityRefused);
      assert.equal(e.message, `the ingest role cannot read "${n}"`);
      return true;
    });
    await assert.rejects(s.read(n, { offset: 0, length: 1 }), CapabilityRefused);
  }
  assert.deepEqual(b.calls, []);
});

Deno.test("an ingest role handle reads hot objects and may create, stat and list", async () => {
  const b = recorder();
  const s = new RoleHandle(b, "ingest");
  for (const n of [layout.config(), layout.key(id), layout.index(id), layout.snapshot(id)]) {
    await s.read(n);
  }
  await s.create(layout.pack(id), new Uint8Array(1));
  await s.stat(layout.pack(id));
  await s.list("packs/");
  assert.deepEqual(b.calls, [
    "read config",
    `read keys/${id}`,
    `read index/${id}`,
    `read snapshots/${id}`,
    `create packs/${id}`,
    `stat packs/${id}`,
    "list packs/",
  ]);
});

Deno.test("a reader role handle reads packs but cannot delete", async () => {
  const b = recorder();
  const s = new RoleHandle(b, "reader");
  await s.read(layout.pack(id), { offset: 1, length: 2 });
  await assert.rejects(s.delete(layout.pack(id)), CapabilityRefused);
  assert.deepEqual(b.calls, [`read packs/${id}`]);
});

Deno.test("an admin role handle can delete", async () => {
  const b = recorder();
  const s = new RoleHandle(b, "admin");
  await s.delete(layout.pack(id));
  assert.deepEqual(b.calls, [`delete packs/${id}`]);
});

Deno.test("a role handle for an unknown role cannot be made", () => {
  assert.throws(() => new RoleHandle(recorder(), "root" as "admin"), TypeError);
});

Deno.test("only the admin role handle removes strays; a reader lists them, an ingest handle neither", async () => {
  const stray = "tmp/0123";
  const admin = recorder();
  await new RoleHandle(admin, "admin").strays();
  await new RoleHandle(admin, "admin").removeStray(stray);
  assert.deepEqual(admin.calls, ["strays undefined", `removeStray ${stray}`]);

  const reader = recorder();
  await new RoleHandle(reader, "reader").strays();
  await assert.rejects(
    new RoleHandle(reader, "reader").removeStray(stray),
    new CapabilityRefused(`the reader role cannot "removeStray" objects`),
  );
  assert.deepEqual(reader.calls, ["strays undefined"]);

  const ingest = recorder();
  await assert.rejects(new RoleHandle(ingest, "ingest").strays(), CapabilityRefused);
  await assert.rejects(new RoleHandle(ingest, "ingest").removeStray(stray), CapabilityRefused);
  assert.deepEqual(ingest.calls, []);
});
