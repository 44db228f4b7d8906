import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startPlugin } from "../../../host/plugin/sandbox.ts";
import { ObjectExists } from "../../sdk/mod.ts";

const dir = fileURLToPath(new URL("./", import.meta.url));

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const base = await Deno.makeTempDir({ prefix: "pf-sqlitemod-" });
  try {
    await fn(base);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
}

const database = (file: string) => ["", "-wal", "-shm", "-journal"].map((s) => file + s);

Deno.test("the sqlite storage worker may read and write only its database file and SQLite's files beside it", async () => {
  await withDir(async (base) => {
    const file = join(base, "repo.db");
    const h = await startPlugin({
      kind: "storage",
      dir,
      vars: { $database: database(file) },
      config: { location: file },
    });
    try {
      assert.deepEqual(h.permissions, {
        read: database(file),
        write: database(file),
        net: false,
        env: false,
        sys: false,
        run: false,
        ffi: false,
        import: false,
      });
      await h.call("init");
      await h.call("create", "config", new Uint8Array([1]));
      await assert.rejects(h.call("create", "config", new Uint8Array([2])), ObjectExists);
    } finally {
      await h.close();
    }
  });
});

Deno.test("the sqlite storage worker cannot open another file, whatever its config says", async () => {
  await withDir(async (base) => {
    const file = join(base, "repo.db");
    const other = join(base, "other.db");
    const h = await startPlugin({
      kind: "storage",
      dir,
      vars: { $database: database(file) },
      config: { location: other },
    });
    try {
      await assert.rejects(h.call("init"), Deno.errors.NotCapable);
      await assert.rejects(h.call("list", ""), Deno.errors.NotCapable);
      assert.deepEqual([...Deno.readDirSync(base)], []);
    } finally {
      await h.close();
    }
  });
});

Deno.test("the sqlite storage plugin refuses to start without an absolute location", async () => {
  for (const config of [undefined, {}, { location: "repo.db" }, { location: "/x.db", cold: 1 }]) {
    await assert.rejects(
      startPlugin({ kind: "storage", dir, vars: { $database: ["/x.db"] }, config }),
      TypeError,
    );
  }
});
