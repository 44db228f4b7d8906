/**
 * The import hole, attacked (docs/plugins.md §8): a third-party plugin that is granted nothing
 * tries to load code or data from outside its bundle. The bundler (`bundle.ts`) refuses every
 * such import, literal or computed, naming the file and the specifier; and a bundle run in its
 * subprocess (`subprocess.ts`), even one edited after that check, loads nothing from a file,
 * npm, JSR or the network, cannot make code from strings, and a runaway one dies alone. A local
 * server counts the requests that reach it: none may.
 *
 * @module
 */

import assert from "node:assert/strict";
import fs from "node:fs";
import { join } from "node:path";
import { bundlePlugin, BundleRefused } from "./bundle.ts";
import { readManifest } from "./manifest.ts";
import { startPlugin } from "./sandbox.ts";

/** A local server that counts what reaches it, for the test's lifetime. */
function countingServer() {
  const hits: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (r) => {
    hits.push(r.url);
    return new Response("export const stolen = 1;", {
      headers: { "content-type": "text/javascript" },
    });
  });
  return { hits, url: `http://127.0.0.1:${server.addr.port}/`, close: () => server.shutdown() };
}

const made: string[] = [];
globalThis.addEventListener("unload", () => {
  for (const dir of made) Deno.removeSync(dir, { recursive: true });
});

/** A plugin folder (granted nothing) whose `mod.ts` is `code`, next to an outside key and module. */
async function pluginWith(code: string): Promise<{ dir: string; outside: string }> {
  const top = await Deno.makeTempDir({ prefix: "pf-attack-" });
  made.push(top);
  const dir = join(top, "plugin");
  fs.mkdirSync(dir);
  fs.writeFileSync(join(top, "ingest-key.json"), JSON.stringify({ secret: "the ingest key" }));
  fs.writeFileSync(join(top, "outside.js"), "export const stolen = 1;");
  fs.writeFileSync(
    join(dir, "plugin.json"),
    JSON.stringify({
      name: "attack",
      kind: "filter",
      api: 1,
      entry: "mod.ts",
      permissions: {},
      capabilities: [],
      methods: ["attempt"],
    }),
  );
  fs.writeFileSync(join(dir, "mod.ts"), code);
  return { dir, outside: top };
}

async function bundleOf(dir: string): Promise<string> {
  return await bundlePlugin(dir, await readManifest(dir));
}

const serve = `import { servePlugin } from "@permafrost/sdk";\n`;

Deno.test("the bundler refuses every import that leaves the plugin's folder, naming file and specifier", async () => {
  const net = countingServer();
  try {
    const cases: [string, string][] = [
      [`import { stolen } from "../outside.js"; console.log(stolen);`, "../outside.js"],
      [
        `import key from "../ingest-key.json" with { type: "json" }; console.log(key);`,
        "../ingest-key.json",
      ],
      [`const m = await import("../outside.js"); console.log(m);`, "../outside.js"],
      [
        `import "data:text/javascript,export const x = 1";`,
        "data:text/javascript,export const x = 1",
      ],
      [
        `await import("data:text/javascript,export const x = 1");`,
        "data:text/javascript,export const x = 1",
      ],
      [
        `await import("blob:null/0b1e5b1e-0000-4000-8000-000000000000");`,
        "blob:null/0b1e5b1e-0000-4000-8000-000000000000",
      ],
      [`import pm from "npm:picomatch@4.0.7"; console.log(pm);`, "npm:picomatch@4.0.7"],
      [`import * as path from "jsr:@std/path@1"; console.log(path);`, "jsr:@std/path@1"],
      [`import pm from "picomatch"; console.log(pm);`, "picomatch"],
      [`import { stolen } from "${net.url}a.js"; console.log(stolen);`, `${net.url}a.js`],
      [`await import("${net.url}b.js");`, `${net.url}b.js`],
      [`import "/etc/hostname";`, "/etc/hostname"],
      [`import "file:///etc/hostname";`, "file:///etc/hostname"],
    ];
    for (const [code, specifier] of cases) {
      const { dir } = await pluginWith(code); // refused before the rest is read: no SDK needed
      await assert.rejects(bundleOf(dir), (e: BundleRefused) => {
        assert.ok(e instanceof BundleRefused, `${specifier}: ${e}`);
        assert.equal(e.specifier, specifier);
        assert.equal(e.file, join(Deno.realPathSync(dir), "mod.ts"));
        assert.match(e.message, new RegExp(`^"mod.ts" imports "`));
        return true;
      });
    }
    assert.deepEqual(net.hits, []);
  } finally {
    await net.close();
  }
});

Deno.test("the bundler refuses a computed import() and a symlink that leads out of the folder", async () => {
  const net = countingServer();
  try {
    const computed = await pluginWith(
      serve +
        `const where = ["${net.url}", "c.js"].join("");\n` +
        `servePlugin(() => ({ attempt: () => import(where) }));`,
    );
    await assert.rejects(bundleOf(computed.dir), /holds a dynamic "import\(".*cannot load code/);
    const linked = await pluginWith(
      serve +
        `import { stolen } from "./inside.js";\nservePlugin(() => ({ attempt: () => stolen }));`,
    );
    fs.symlinkSync(join(linked.outside, "outside.js"), join(linked.dir, "inside.js"));
    await assert.rejects(bundleOf(linked.dir), /"mod.ts" imports ".\/inside.js": it is outside/);
    assert.deepEqual(net.hits, []);
  } finally {
    await net.close();
  }
});

Deno.test("a bundle keeps nothing to import but node: built-ins, and runs with no permission", async () => {
  const { dir } = await pluginWith(
    serve + `import { twice } from "./lib/twice.ts";\n` +
      `servePlugin(() => ({ attempt: (n: number) => twice(n) }));`,
  );
  fs.mkdirSync(join(dir, "lib"));
  fs.writeFileSync(join(dir, "lib", "twice.ts"), "export const twice = (n: number) => 2 * n;");
  const code = await bundleOf(dir);
  assert.doesNotMatch(code, /from\s*"(?!node:)/);
  const h = await startPlugin({ kind: "filter", dir, bundle: code });
  try {
    assert.equal(await h.call("attempt", 21), 42);
    assert.ok(Object.values(h.permissions).every((p) => p === false));
  } finally {
    await h.close();
  }
});

/**
 * The attacks a bundle could make if it got past the bundler (its text edited after the check,
 * `__load(` made `import(`), each answered with what happened.
 */
const runtimeAttacks = `
const load = (s: string, json = false) => __load(s, json ? { with: { type: "json" } } : undefined);
const attacks: Record<string, (base: string, net: string) => Promise<unknown>> = {
  fileJs: (base) => load("file://" + base + "/outside.js"),
  json: (base) => load("file://" + base + "/ingest-key.json", true),
  npm: () => load(["npm:", "picomatch@4.0.7"].join("")),
  jsr: () => load(["jsr:", "@std/path@1"].join("")),
  http: (_, net) => load(net + "d.js"),
  dataThenFile: (base) =>
    load("data:text/javascript," + encodeURIComponent('import "file://' + base + '/outside.js";')),
  evalData: () => (0, eval)(["imp", 'ort("data:text/javascript,export const x = 1")'].join("")),
  newFunction: () => new Function("return 1")(),
  worker: () => Promise.resolve(new (globalThis as any).Worker("data:text/javascript,1")),
  blobUrl: () => Promise.resolve(URL.createObjectURL(new Blob(["export const x = 1"]))),
  readKey: (base) => Deno.readTextFile(base + "/ingest-key.json"),
  env: () => Promise.resolve(Deno.env.get("HOME")),
};
servePlugin(() => ({
  async attempt(base: string, net: string) {
    const out: Record<string, string> = {};
    for (const [name, attack] of Object.entries(attacks)) {
      try {
        await attack(base, net);
        out[name] = "LOADED";
      } catch (e) {
        out[name] = (e as Error).name + ": " + (e as Error).message;
      }
    }
    return out;
  },
}));
declare function __load(s: string, o?: unknown): Promise<unknown>;
`;

Deno.test("a plugin subprocess loads nothing from a file, npm, JSR or the network, and makes no code from strings", async () => {
  const net = countingServer();
  try {
    const { dir, outside } = await pluginWith(serve + runtimeAttacks);
    const code = (await bundleOf(dir)).replaceAll("__load(", "import(");
    const h = await startPlugin({ kind: "filter", dir, bundle: code });
    try {
      const out = await h.call<Record<string, string>>("attempt", outside, net.url);
      assert.match(out.fileJs, /Requires read access to ".*outside\.js"/);
      assert.match(out.json, /Requires read access to ".*ingest-key\.json"/);
      assert.match(out.npm, /npm specifiers were requested; but --no-npm is specified/);
      assert.match(out.jsr, /Requires import access to "jsr\.io:443"/);
      assert.match(out.http, /Requires import access to "127\.0\.0\.1:\d+"/);
      assert.match(out.dataThenFile, /Requires read access to ".*outside\.js"/);
      assert.match(out.evalData, /^EvalError: Code generation from strings disallowed/);
      assert.match(out.newFunction, /^EvalError: Code generation from strings disallowed/);
      assert.match(out.worker, /^TypeError: .*not a constructor/);
      assert.match(out.blobUrl, /^TypeError: a plugin cannot make blob: URLs/);
      assert.match(out.readKey, /^NotCapable: Requires read access/);
      assert.match(out.env, /^NotCapable: Requires env access/);
    } finally {
      await h.close();
    }
    assert.deepEqual(net.hits, []);
  } finally {
    await net.close();
  }
});

Deno.test("a plugin that exhausts its heap dies alone, with a clear error", async () => {
  const { dir } = await pluginWith(
    serve +
      `servePlugin(() => ({ attempt() { const hog: number[][] = []; ` +
      `for (;;) hog.push(new Array(1 << 16).fill(hog.length)); } }));`,
  );
  const h = await startPlugin({
    kind: "filter",
    dir,
    bundle: await bundleOf(dir),
    limits: { memoryMiB: 32 },
  });
  try {
    await assert.rejects(
      h.call("attempt"),
      /plugin "attack" crashed: ran out of memory \(its limit is 32 MiB\)/,
    );
    await assert.rejects(h.call("attempt"), /crashed/);
  } finally {
    await h.close();
  }
});

Deno.test("a plugin that fills memory outside its heap (ArrayBuffers) is stopped alone", async () => {
  const { dir } = await pluginWith(
    serve +
      `servePlugin(() => ({ async attempt() { const hog: Uint8Array[] = []; for (;;) { ` +
      `hog.push(new Uint8Array(16 << 20).fill(1)); ` +
      `await new Promise((next) => setTimeout(next, 0)); } } }));`,
  );
  const h = await startPlugin({
    kind: "filter",
    dir,
    bundle: await bundleOf(dir),
    limits: { memoryMiB: 32, residentMiB: 256 },
  });
  try {
    await assert.rejects(
      h.call("attempt"),
      /plugin "attack" crashed: used more than 256 MiB of memory \(its limit\) and was stopped/,
    );
  } finally {
    await h.close();
  }
});

Deno.test("a plugin stuck in a loop is stopped by the CPU watchdog", async () => {
  const { dir } = await pluginWith(serve + `servePlugin(() => ({ attempt() { for (;;); } }));`);
  const h = await startPlugin({
    kind: "filter",
    dir,
    bundle: await bundleOf(dir),
    limits: { quietCpuMs: 300 },
  });
  try {
    await assert.rejects(h.call("attempt"), /used more than 300 ms of CPU time without a word/);
  } finally {
    await h.close();
  }
});
