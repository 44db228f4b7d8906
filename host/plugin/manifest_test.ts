import assert from "node:assert/strict";
import { join } from "node:path";
import { ManifestError, readManifest, validateManifest } from "./manifest.ts";
import { builtinPlugins } from "./registry.ts";

const good = {
  name: "local",
  kind: "storage",
  api: 1,
  entry: "mod.ts",
  description: "A folder.",
  permissions: { read: ["$location"], write: ["$location"], net: [], env: false },
  capabilities: [],
  methods: ["create", "read"],
};

function rejects(change: Record<string, unknown>, field: string): void {
  const raw = { ...good, ...change };
  for (const [k, v] of Object.entries(change)) if (v === undefined) delete (raw as any)[k];
  assert.throws(() => validateManifest(raw, "/p/plugin.json"), (e: Error) => {
    assert.ok(e instanceof ManifestError, `${e}`);
    assert.equal(e.field, field);
    assert.equal(e.file, "/p/plugin.json");
    assert.match(
      e.message,
      new RegExp(`^plugin manifest "/p/plugin.json": field "${field.replace(/[[\]]/g, "\\$&")}"`),
    );
    return true;
  });
}

Deno.test("validateManifest() accepts a well-formed manifest and keeps its fields", () => {
  const m = validateManifest(good, "/p/plugin.json");
  assert.deepEqual(m, good);
  assert.equal(validateManifest({ ...good, description: undefined }, "f").description, "");
});

Deno.test("validateManifest() rejects an unknown kind", () => rejects({ kind: "rootkit" }, "kind"));

Deno.test("validateManifest() rejects an api other than 1", () => {
  rejects({ api: 2 }, "api");
  rejects({ api: "1" }, "api");
});

Deno.test("validateManifest() rejects unknown fields at the top and in permissions", () => {
  rejects({ inherit: true }, "inherit");
  rejects({ permissions: { read: [], hrtime: true } }, "permissions.hrtime");
  rejects({ permissions: { import: true } }, "permissions.import");
  rejects({ permissions: JSON.parse(`{"__proto__": true}`) }, "permissions.__proto__");
});

Deno.test("validateManifest() rejects an entry that escapes the plugin folder", () => {
  rejects({ entry: "../other/mod.ts" }, "entry");
  rejects({ entry: "/etc/mod.ts" }, "entry");
  rejects({ entry: "a/../../mod.ts" }, "entry");
  rejects({ entry: "mod.py" }, "entry");
});

Deno.test("validateManifest() rejects malformed names, lists and permission entries", () => {
  rejects({ name: "Local Store" }, "name");
  rejects({ name: undefined }, "name");
  rejects({ methods: "create" }, "methods");
  rejects({ methods: ["create", "create"] }, "methods[1]");
  rejects({ methods: ["__proto__"] }, "methods[0]");
  rejects({ capabilities: [1] }, "capabilities[0]");
  rejects({ permissions: { read: "all" } }, "permissions.read");
  rejects({ permissions: { read: ["relative/path"] } }, "permissions.read[0]");
  rejects({ permissions: { net: ["$bad-name"] } }, "permissions.net[0]");
  rejects({ permissions: null }, "permissions");
  rejects({ description: 3 }, "description");
});

Deno.test("readManifest() names the file when it is missing or not JSON", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(readManifest(dir), (e: Error) => {
      assert.ok(e instanceof ManifestError);
      assert.equal(e.file, join(dir, "plugin.json"));
      return true;
    });
    await Deno.writeTextFile(join(dir, "plugin.json"), "{ not json");
    await assert.rejects(readManifest(dir), ManifestError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readManifest() rejects a missing entry and an entry symlinked out of the folder", async () => {
  const dir = await Deno.makeTempDir();
  const outside = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(join(dir, "plugin.json"), JSON.stringify(good));
    await assert.rejects(
      readManifest(dir),
      (e: Error) => e instanceof ManifestError && e.field === "entry",
    );
    await Deno.symlink(outside, join(dir, "mod.ts"));
    await assert.rejects(readManifest(dir), /outside the plugin folder/);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(outside);
  }
});

Deno.test("every built-in plugin has a valid manifest matching its registered kind and name", async () => {
  const list = builtinPlugins();
  assert.ok(list.length >= 2);
  for (const b of list) {
    const m = await readManifest(b.dir);
    assert.equal(m.kind, b.kind);
    assert.equal(m.name, b.name);
  }
});
