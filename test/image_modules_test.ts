/**
 * The job image caches the modules `deno task cache:image` names and runs with `--cached-only`
 * (Dockerfile, docs/in-region.md §3): a module the host loads only by URL at run time (a
 * worker, the plugin subprocess runner, a built-in plugin's entry) and that the task's module
 * graph misses would fail in the job, not here. So every such module must be in that graph.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Every `.ts` file under `dir`, tests left out. */
function sources(dir: string): string[] {
  return fs.readdirSync(join(ROOT, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts") && !f.endsWith("_test.ts"))
    .map((f) => join(ROOT, dir, f));
}

/** Modules named by `new URL("./x.ts", import.meta.url)` in the host's and plugins' code. */
function loadedByUrl(): string[] {
  const out = new Set<string>();
  for (const file of [...sources("host"), ...sources("plugins")]) {
    const text = fs.readFileSync(file, "utf8");
    for (const m of text.matchAll(/new URL\("(\.{1,2}\/[^"]+\.ts)", import\.meta\.url\)/g)) {
      out.add(resolve(dirname(file), m[1]));
    }
  }
  return [...out];
}

/** Each built-in plugin's entry module, from its plugin.json. */
function pluginEntries(): string[] {
  const out: string[] = [];
  for (const kind of fs.readdirSync(join(ROOT, "plugins"))) {
    const kindDir = join(ROOT, "plugins", kind);
    if (!fs.statSync(kindDir).isDirectory()) continue;
    for (const name of fs.readdirSync(kindDir)) {
      const manifest = join(kindDir, name, "plugin.json");
      if (!fs.existsSync(manifest)) continue;
      out.push(join(kindDir, name, JSON.parse(fs.readFileSync(manifest, "utf8")).entry));
    }
  }
  return out;
}

Deno.test("the image's cache task covers every worker, runner and built-in plugin the host loads by URL", async () => {
  const config = JSON.parse(fs.readFileSync(join(ROOT, "deno.json"), "utf8"));
  const command: string = config.tasks["cache:image"].command;
  assert.match(command, /^deno cache --frozen /);
  const entries = command.split(/\s+/).slice(3);
  // `deno info` takes one module: one that imports every entry stands for the task's graph.
  const all = join(await Deno.makeTempDir(), "all.ts");
  fs.writeFileSync(
    all,
    entries.map((e) => `import ${JSON.stringify(pathToFileURL(join(ROOT, e)).href)};\n`).join(""),
  );
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--config", join(ROOT, "deno.json"), all],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(info.success, new TextDecoder().decode(info.stderr));
  const graph = new Set<string>(
    (JSON.parse(new TextDecoder().decode(info.stdout)).modules as { specifier: string }[])
      .map((m) => m.specifier),
  );
  const needed = [...loadedByUrl(), ...pluginEntries()];
  assert.ok(needed.length > 10, `only ${needed.length} modules found: the scan is broken`);
  const missing = needed.filter((f) => !graph.has(pathToFileURL(f).href));
  assert.deepEqual(missing, [], "add these to deno.json's cache:image task");
});
