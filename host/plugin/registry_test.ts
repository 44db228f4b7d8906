import assert from "node:assert/strict";
import { builtinPlugin, builtinPlugins, registerBuiltin } from "./registry.ts";

Deno.test("builtinPlugin() returns the folder of a registered built-in", async () => {
  const dir = builtinPlugin("storage", "local");
  assert.ok(dir.endsWith("/plugins/storage/local"), dir);
  assert.ok((await Deno.stat(`${dir}/plugin.json`)).isFile);
});

Deno.test("builtinPlugin() throws TypeError for an unknown built-in", () => {
  assert.throws(() => builtinPlugin("storage", "floppy"), TypeError);
});

Deno.test("registering a built-in name twice is an error", () => {
  const before = builtinPlugins().length;
  assert.throws(
    () => registerBuiltin("storage", "local", new URL("file:///elsewhere/")),
    /built-in plugin "storage\/local" is registered twice/,
  );
  assert.equal(builtinPlugins().length, before);
  assert.equal(builtinPlugin("storage", "local").endsWith("/plugins/storage/local"), true);
});
