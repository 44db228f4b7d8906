/**
 * The real-tree corpus of `deno task bench --corpus real`: a copy of the system's own C headers
 * and shared data, as issue #16 measured (717 MB, 48,840 files there). The selection is
 * deterministic on a given system: `/usr/include` and then `/usr/share`, each walked in sorted
 * name order, every regular file and symlink copied (other kinds, unreadable entries and the
 * folders in {@linkcode REAL_SKIP} skipped) until the next file would pass
 * {@linkcode REAL_MAX_BYTES} or {@linkcode REAL_MAX_FILES}. On the 2-core reference system
 * (Debian 12) that is every file of both but the skipped folders' (~51,000 files, ~690 MB). The
 * marker records the counts and the last path copied, so the report says what the corpus is.
 *
 * @module
 */

import fs from "node:fs";
import path from "node:path";
import type { CorpusInfo } from "./corpus.ts";

export const REAL_VERSION = 1;
export const REAL_ROOTS = ["/usr/include", "/usr/share"];
/** Many small icons and one build tool's modules: without them the size is issue #16's. */
export const REAL_SKIP = ["/usr/share/icons", "/usr/share/cmake-3.25"];
export const REAL_MAX_BYTES = 720e6;
export const REAL_MAX_FILES = 52_000;

export interface RealSpec {
  roots: string[];
  /** Folders not copied (absolute paths). */
  skip: string[];
  maxBytes: number;
  maxFiles: number;
}

export const REAL: RealSpec = {
  roots: REAL_ROOTS,
  skip: REAL_SKIP,
  maxBytes: REAL_MAX_BYTES,
  maxFiles: REAL_MAX_FILES,
};

/**
 * Returns the copy under `cacheDir/real-v1`, making it first unless its marker says a complete
 * copy is there. Each root `/a/b` is copied to `<dir>/a/b`.
 */
export function ensureReal(
  cacheDir: string,
  spec: RealSpec = REAL,
  log = (_: string) => {},
): CorpusInfo {
  const dir = path.join(cacheDir, `real-v${REAL_VERSION}`);
  const marker = `${dir}.complete.json`;
  try {
    const info = JSON.parse(fs.readFileSync(marker, "utf8")) as CorpusInfo;
    if (fs.statSync(dir).isDirectory()) return { ...info, dir, generatedSeconds: 0 };
  } catch {
    // no complete copy yet
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  log(`copying ${spec.roots.join(" and ")} into ${dir} ...`);
  const t0 = performance.now();
  let files = 0, dirs = 0, bytes = 0, last = "";
  let full = false;
  const walk = (from: string, to: string) => {
    fs.mkdirSync(to, { recursive: true });
    dirs++;
    let names: string[];
    try {
      names = fs.readdirSync(from).sort();
    } catch {
      return; // unreadable: skipped
    }
    for (const name of names) {
      if (full) return;
      const src = path.join(from, name), dst = path.join(to, name);
      if (spec.skip.includes(src)) continue;
      const st = fs.lstatSync(src, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(src, dst);
      else if (st.isFile() || st.isSymbolicLink()) {
        const size = st.isFile() ? st.size : 0;
        if (bytes + size > spec.maxBytes || files + 1 > spec.maxFiles) {
          full = true;
          return;
        }
        try {
          if (st.isFile()) fs.copyFileSync(src, dst);
          else fs.symlinkSync(fs.readlinkSync(src), dst);
        } catch {
          continue; // unreadable: skipped
        }
        files++;
        bytes += size;
        last = src;
      }
    }
  };
  for (const root of spec.roots) {
    if (!full && fs.existsSync(root)) walk(root, path.join(dir, root));
  }
  const info: CorpusInfo = {
    dir,
    files,
    dirs,
    bytes,
    generatedSeconds: (performance.now() - t0) / 1000,
    source: `copy of ${spec.roots.join(", ")}` +
      (spec.skip.length > 0 ? ` but ${spec.skip.join(", ")}` : "") +
      `, in sorted order up to ${(spec.maxBytes / 1e6).toFixed(0)} MB or ${spec.maxFiles} files; ` +
      `last copied: ${last}`,
  };
  fs.writeFileSync(marker, JSON.stringify(info, null, 2));
  return info;
}
