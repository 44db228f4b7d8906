/**
 * The host runs engines and filters as plugins and knows none of their modules (docs/plugins.md
 * §1): what it shares with them is in `plugins/sdk`. This reads every TypeScript file under
 * `host/` (tests too) and checks the modules each imports.
 *
 * @module
 */

import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const hostDir = dirname(fileURLToPath(import.meta.url));
const repoDir = dirname(hostDir);
/** Folders the host must not import from. */
const forbidden = ["plugins/engine/", "plugins/filter/"];

/**
 * The module specifiers `source` imports or re-exports: static `import`/`export ... from`
 * (types too, over several lines), side-effect imports, and dynamic `import("...")`.
 */
function importSpecifiers(source: string): string[] {
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[^;'"]*?\bfrom\s*["']([^"']+)["']/g,
    /\bimport\s*["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  return patterns.flatMap((p) => [...source.matchAll(p)].map((m) => m[1]));
}

/** Every `.ts` file under `dir`. */
function tsFiles(dir: string): string[] {
  return [...Deno.readDirSync(dir)].flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory) return tsFiles(path);
    return e.isFile && e.name.endsWith(".ts") ? [path] : [];
  });
}

Deno.test("importSpecifiers() finds static, multi-line, type, re-export and dynamic imports", () => {
  const source = [
    `import { a } from "./a.ts";`,
    `import type {\n  B,\n  C,\n} from '../b.ts';`,
    `export { d } from "./d.ts";`,
    `export * from "./e.ts";`,
    `import "./side.ts";`,
    `const f = await import("./f.ts");`,
    `const url = new URL("../../plugins/engine/dedup/", import.meta.url); // not an import`,
  ].join("\n");
  assert.deepEqual(importSpecifiers(source).sort(), [
    "../b.ts",
    "./a.ts",
    "./d.ts",
    "./e.ts",
    "./f.ts",
    "./side.ts",
  ]);
});

Deno.test("no file under host/ imports a module of an engine or filter plugin", () => {
  const offences: string[] = [];
  for (const file of tsFiles(hostDir)) {
    for (const spec of importSpecifiers(Deno.readTextFileSync(file))) {
      if (!spec.startsWith(".")) continue; // npm:, node:, the import map: no plugin folder
      const target = relative(repoDir, resolve(dirname(file), spec));
      if (forbidden.some((f) => target.startsWith(f))) {
        offences.push(`${relative(repoDir, file)} imports ${target}`);
      }
    }
  }
  assert.deepEqual(offences, [], "the host shares only plugins/sdk with plugins");
});
