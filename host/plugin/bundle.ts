/**
 * Bundling a third-party plugin into one self-contained ES module (docs/plugins.md §7.4), with
 * esbuild's WebAssembly build (`esbuild-wasm`, `worker: false`: no native binary, no
 * subprocess). esbuild reads no file itself: every import goes through the resolver below,
 * which allows only
 *
 * - a relative import of a file inside the plugin's folder (symlinks resolved), and
 * - `@permafrost/sdk`, the host's SDK (`plugins/sdk/mod.ts`), bundled in with the files it
 *   imports from its own folder, and the `node:` built-ins the SDK uses ({@link NODE_BUILTINS},
 *   left as imports: they are part of the runtime and load no code from anywhere),
 *
 * and refuses every other specifier (outside the folder, bare, `npm:`, `jsr:`, `http(s):`,
 * `data:`, `blob:`, `file:`, absolute) with an error naming the file and the specifier. The
 * output is checked again: an import left that is not one of those built-ins, or any dynamic
 * `import(` (a computed specifier esbuild could not follow), refuses the bundle.
 *
 * @module
 */

import { dirname, extname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type * as EsbuildTypes from "esbuild-wasm/esm/browser.d.ts";
import type { Manifest } from "../../plugins/sdk/manifest.ts";

/** The `node:` built-ins a bundle may import (the SDK's, and others that load no code). */
export const NODE_BUILTINS = [
  "node:buffer",
  "node:crypto",
  "node:fs",
  "node:fs/promises",
  "node:path",
  "node:util",
];

/** The one bare specifier a plugin may import: the SDK. */
export const SDK_SPECIFIER = "@permafrost/sdk";

const sdkDir = fileURLToPath(new URL("../../plugins/sdk/", import.meta.url)).replace(/\/$/, "");

/** A plugin that cannot be bundled as it is: `file` (if known) imports `specifier`. */
export class BundleRefused extends Error {
  override name = "BundleRefused";
  constructor(message: string, readonly file?: string, readonly specifier?: string) {
    super(message);
  }
}

let esbuild: Promise<typeof EsbuildTypes> | undefined;

/** esbuild, initialised once per process (~0.3 s). */
function loadEsbuild(): Promise<typeof EsbuildTypes> {
  esbuild ??= (async () => {
    const mod = await import("esbuild-wasm/esm/browser.js") as typeof EsbuildTypes;
    const wasm = await Deno.readFile(new URL(import.meta.resolve("esbuild-wasm/esbuild.wasm")));
    await mod.initialize({ wasmModule: await WebAssembly.compile(wasm), worker: false });
    return mod;
  })();
  return esbuild;
}

const loaders: Record<string, EsbuildTypes.Loader> = {
  ".ts": "ts",
  ".mts": "ts",
  ".js": "js",
  ".mjs": "js",
  ".json": "json",
};

/** Whether real path `file` is `folder` or below it. */
function inside(file: string, folder: string): boolean {
  return file === folder || file.startsWith(folder + sep);
}

/**
 * Bundles the plugin in `dir` (its `manifest` already validated) into one ES module's code.
 * Rejects with {@link BundleRefused} naming the file and the specifier a refused import is in,
 * or what else is wrong.
 */
export async function bundlePlugin(dir: string, manifest: Manifest): Promise<string> {
  const root = await Deno.realPath(resolve(dir));
  const sdkRoot = await Deno.realPath(sdkDir);
  const refusals: BundleRefused[] = [];
  const confined: EsbuildTypes.Plugin = {
    name: "permafrost-confined",
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        const spec = args.path;
        const from = args.importer === "" ? root : args.importer;
        const shown = args.importer === "" ? "plugin.json" : relative(root, from) || from;
        if (args.kind === "entry-point") return { path: await Deno.realPath(spec) };
        if (spec === SDK_SPECIFIER) return { path: join(sdkRoot, "mod.ts") };
        if (NODE_BUILTINS.includes(spec)) return { path: spec, external: true };
        const within = inside(from, sdkRoot) ? sdkRoot : root;
        const refuse = (why: string) => {
          refusals.push(new BundleRefused(`"${shown}" imports "${spec}": ${why}`, from, spec));
          return { path: spec, namespace: "refused" };
        };
        if (!spec.startsWith("./") && !spec.startsWith("../")) {
          return refuse(
            `a plugin may import only files in its folder (relative paths) and ` +
              `"${SDK_SPECIFIER}"`,
          );
        }
        let real: string;
        try {
          real = await Deno.realPath(resolve(dirname(from), spec));
        } catch {
          return refuse("there is no such file in the plugin's folder");
        }
        if (!inside(real, within)) return refuse("it is outside the plugin's folder");
        if (!(extname(real) in loaders)) return refuse("only .ts, .js, .mjs and .json files load");
        return { path: real };
      });
      build.onLoad({ filter: /.*/, namespace: "refused" }, () => ({ contents: "", loader: "js" }));
      build.onLoad({ filter: /.*/ }, async (args) => ({
        contents: await Deno.readTextFile(args.path),
        loader: loaders[extname(args.path)] ?? "js",
      }));
    },
  };
  const esb = await loadEsbuild();
  let result: EsbuildTypes.BuildResult & { outputFiles: EsbuildTypes.OutputFile[] };
  try {
    result = await esb.build({
      entryPoints: [join(root, manifest.entry)],
      absWorkingDir: root, // the bundle's file comments relative to the plugin's folder
      bundle: true,
      write: false,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      metafile: true,
      logLevel: "silent",
      plugins: [confined],
    });
  } catch (e) {
    if (refusals.length > 0) throw refusals[0];
    const first = (e as { errors?: EsbuildTypes.Message[] }).errors?.[0];
    const where = first?.location
      ? ` ("${relative(root, first.location.file)}" line ` +
        `${first.location.line})`
      : "";
    throw new BundleRefused(
      `plugin "${manifest.name}" does not build${where}: ${first?.text ?? e}`,
    );
  }
  if (refusals.length > 0) throw refusals[0];
  const code = result.outputFiles[0].text;
  checkNoImportLeft(manifest.name, code, result.metafile!);
  return code;
}

/**
 * Refuses a bundle that still imports anything but {@link NODE_BUILTINS}, or holds a dynamic
 * `import(` at all (a specifier computed at run time; a string that only looks like one is
 * refused too: rewrite it).
 */
export function checkNoImportLeft(name: string, code: string, meta: EsbuildTypes.Metafile): void {
  for (const output of Object.values(meta.outputs)) {
    for (const imp of output.imports) {
      if (!NODE_BUILTINS.includes(imp.path)) {
        throw new BundleRefused(
          `the bundle of plugin "${name}" still imports "${imp.path}"`,
          undefined,
          imp.path,
        );
      }
    }
  }
  const dynamic = /\bimport\s*\(/.exec(code);
  if (dynamic) {
    const line = code.slice(0, dynamic.index).split("\n").length;
    throw new BundleRefused(
      `the bundle of plugin "${name}" holds a dynamic "import(" (bundle line ${line}): a ` +
        "plugin cannot load code at run time; import its files statically",
    );
  }
}
