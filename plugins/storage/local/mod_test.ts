import assert from "node:assert/strict";
import { join } from "node:path";
import { startPlugin } from "../../../host/plugin/sandbox.ts";
import { ObjectExists } from "../../sdk/mod.ts";

async function withDirs(fn: (repo: string, other: string) => Promise<void>): Promise<void> {
  const base = await Deno.makeTempDir({ prefix: "pf-localmod-" });
  try {
    await fn(join(base, "repo"), join(base, "other"));
  } finally {
    await Deno.remove(base, { recursive: true });
  }
}

Deno.test("the local storage worker may read and write only its $location", async () => {
  await withDirs(async (repo) => {
    const h = await startPlugin({
      kind: "storage",
      name: "local",
      vars: { $location: [repo] },
      config: { location: repo },
    });
    try {
      assert.deepEqual(h.permissions, {
        read: [repo],
        write: [repo],
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

Deno.test("the local storage worker cannot touch another folder, whatever its config says", async () => {
  await withDirs(async (repo, other) => {
    await Deno.mkdir(other);
    const h = await startPlugin({
      kind: "storage",
      name: "local",
      vars: { $location: [repo] },
      config: { location: other },
    });
    try {
      await assert.rejects(h.call("init"), Deno.errors.NotCapable);
      await assert.rejects(h.call("create", "config", new Uint8Array([1])), Deno.errors.NotCapable);
      await assert.rejects(h.call("list", ""), Deno.errors.NotCapable);
      assert.deepEqual([...Deno.readDirSync(other)], []);
    } finally {
      await h.close();
    }
  });
});

Deno.test("the local storage plugin refuses to start without an absolute location or with a bad cold option", async () => {
  for (
    const config of [
      undefined,
      {},
      { location: "relative" },
      { location: "/x", cold: true },
      { location: "/x", cold: { restoreDelaySeconds: -1 } },
      { location: "/x", cold: { restoreDelaySeconds: 1, tier: "bulk" } },
    ]
  ) {
    await assert.rejects(
      startPlugin({
        kind: "storage",
        name: "local",
        vars: { $location: ["/nonexistent"] },
        config,
      }),
      TypeError,
    );
  }
});
