/**
 * Checks that a restored tree is identical to its source: the same directories, regular files
 * and symlinks, each file with the same size and SHA-256, each symlink with the same target, and
 * nothing extra. Metadata (modes, times, owners) is not compared.
 *
 * @module
 */

import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/** The outcome of {@linkcode compareTrees}. */
export interface TreeComparison {
  /** True when no problem was found. */
  identical: boolean;
  /** Regular files compared. */
  files: number;
  /** Bytes of the source's regular files. */
  bytes: number;
  /** Total number of problems found. */
  problemCount: number;
  /** The first few problems, each a sentence naming the path in quotes. */
  problems: string[];
}

const MAX_LISTED = 10;
const READ = 1 << 20;

function sha256(file: string, buf: Uint8Array): string {
  const h = createHash("sha256");
  const fd = fs.openSync(file, "r");
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest("hex");
}

/** Compares the tree under `restored` against the tree under `source` (see the module doc). */
export function compareTrees(source: string, restored: string): TreeComparison {
  const result: TreeComparison = {
    identical: true,
    files: 0,
    bytes: 0,
    problemCount: 0,
    problems: [],
  };
  const problem = (s: string) => {
    result.identical = false;
    if (result.problemCount++ < MAX_LISTED) result.problems.push(s);
  };
  const buf = new Uint8Array(READ);
  const walk = (rel: string) => {
    const src = path.join(source, rel), dst = path.join(restored, rel);
    const srcNames = fs.readdirSync(src).sort();
    let dstNames: string[];
    try {
      dstNames = fs.readdirSync(dst).sort();
    } catch {
      problem(`directory "${rel || "."}" is missing`);
      return;
    }
    const srcSet = new Set(srcNames), dstSet = new Set(dstNames);
    for (const name of dstNames) {
      if (!srcSet.has(name)) problem(`"${path.join(rel, name)}" is extra`);
    }
    for (const name of srcNames) {
      const r = path.join(rel, name);
      if (!dstSet.has(name)) {
        problem(`"${r}" is missing`);
        continue;
      }
      const s = fs.lstatSync(path.join(source, r)), d = fs.lstatSync(path.join(restored, r));
      if (s.isDirectory()) {
        if (d.isDirectory()) walk(r);
        else problem(`"${r}" should be a directory`);
      } else if (s.isSymbolicLink()) {
        if (!d.isSymbolicLink()) problem(`"${r}" should be a symlink`);
        else if (
          fs.readlinkSync(path.join(source, r)) !== fs.readlinkSync(path.join(restored, r))
        ) {
          problem(`symlink "${r}" points elsewhere`);
        }
      } else if (s.isFile()) {
        result.files++;
        result.bytes += s.size;
        if (!d.isFile()) problem(`"${r}" should be a regular file`);
        else if (s.size !== d.size) problem(`"${r}" has ${d.size} bytes instead of ${s.size}`);
        else if (sha256(path.join(source, r), buf) !== sha256(path.join(restored, r), buf)) {
          problem(`"${r}" has different contents`);
        }
      }
    }
  };
  walk("");
  return result;
}

/**
 * Where a restore of `source` into `target` put the tree: `target/<absolute source path>`
 * (restic's layout), else `target/<basename of source>`, else `target` itself.
 */
export function restoredRoot(source: string, target: string): string {
  const candidates = [
    path.join(target, path.resolve(source)),
    path.join(target, path.basename(source)),
  ];
  for (const c of candidates) {
    try {
      if (fs.statSync(c).isDirectory()) return c;
    } catch {
      // not there
    }
  }
  return target;
}
