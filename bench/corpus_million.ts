/**
 * The million-file corpus of `deno task bench --corpus million` (issue #16's scale table): 1,000
 * folders of 1,000 files each, 200 B - 8 KiB (uniform), 5% exact copies of an earlier file, the
 * rest unique. Most files are prose-like text (slices of a fixed text pool), one in ten
 * incompressible (slices of a keystream pool); each unique file starts with a line naming it,
 * so no two are equal by accident. Every choice comes from a seeded generator (bench/prng.ts).
 *
 * File names are unique in the whole corpus (`<word>-<number>.txt`), so `find` of one name has
 * one hit. The probe (`CorpusInfo.probe`) is the middle file of the middle folder.
 *
 * Files are written a folder at a time, all of a folder's writes in flight at once (Deno runs
 * them on its blocking-thread pool), so that file creation overlaps generation.
 *
 * @module
 */

import fs from "node:fs";
import path from "node:path";
import type { CorpusInfo } from "./corpus.ts";
import { keystream, Rng } from "./prng.ts";

/** Bump when the generator changes: a new version gets a new directory. */
export const MILLION_VERSION = 1;
export const MIN_SIZE = 200;
export const MAX_SIZE = 8192;
export const DUPLICATE_SHARE = 0.05;

export interface MillionSpec {
  folders: number;
  perFolder: number;
}

/** 1,000 folders of 1,000 files. */
export const MILLION: MillionSpec = { folders: 1000, perFolder: 1000 };

export function millionName(spec: MillionSpec): string {
  return `million-v${MILLION_VERSION}-d${spec.folders}-f${spec.perFolder}`;
}

const POOL = 4 << 20;
const SAMPLE = 1000;

/** Folder `i`'s name. */
function folderName(i: number): string {
  return `d${String(i).padStart(4, "0")}`;
}

/**
 * Returns the corpus for `spec` under `cacheDir`, generating it first unless its marker
 * (`<dir>.complete.json`, written last) says a complete copy is there.
 */
export async function ensureMillion(
  cacheDir: string,
  spec: MillionSpec,
  log = (_: string) => {},
): Promise<CorpusInfo> {
  const dir = path.join(cacheDir, millionName(spec));
  const marker = `${dir}.complete.json`;
  try {
    const info = JSON.parse(fs.readFileSync(marker, "utf8")) as CorpusInfo;
    if (fs.statSync(dir).isDirectory()) return { ...info, dir, generatedSeconds: 0 };
  } catch {
    // no complete corpus yet
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  log(`generating ${spec.folders} x ${spec.perFolder} files in ${dir} ...`);
  const t0 = performance.now();
  const rng = new Rng(
    `permafrost-bench million v${MILLION_VERSION} ${spec.folders}x${spec.perFolder}`,
  );
  const text = textPool(new Rng("million text pool"));
  const random = keystream("million random pool", POOL);
  const earlier: Uint8Array[] = [];
  const words = "ka ro mi tel san dor vek lu pha in ex gor ti nal bre qu os arn el yd".split(" ");
  let files = 0, bytes = 0, probe = { dir: "", file: "" };
  for (let d = 0; d < spec.folders; d++) {
    const folder = folderName(d);
    fs.mkdirSync(path.join(dir, folder));
    const writes: Promise<void>[] = [];
    for (let f = 0; f < spec.perFolder; f++) {
      const name = `${rng.pick(words)}${rng.pick(words)}-${String(files).padStart(7, "0")}.txt`;
      let data: Uint8Array;
      if (earlier.length > 0 && rng.float() < DUPLICATE_SHARE) data = rng.pick(earlier);
      else {
        const size = rng.int(MIN_SIZE, MAX_SIZE);
        const pool = rng.float() < 0.1 ? random : text;
        data = new Uint8Array(size);
        const head = new TextEncoder().encodeInto(`${folder}/${name}\n`, data).written;
        const from = rng.int(0, POOL - size);
        data.set(pool.subarray(from, from + size - head), head);
        if (earlier.length < SAMPLE) earlier.push(data);
        else earlier[rng.int(0, SAMPLE - 1)] = data;
      }
      if (d === spec.folders >> 1 && f === spec.perFolder >> 1) {
        probe = { dir: folder, file: `${folder}/${name}` };
      }
      writes.push(Deno.writeFile(path.join(dir, folder, name), data));
      files++;
      bytes += data.length;
    }
    await Promise.all(writes);
    if (d % 100 === 99) log(`  ${files} files`);
  }
  const info: CorpusInfo = {
    dir,
    files,
    dirs: spec.folders,
    bytes,
    generatedSeconds: (performance.now() - t0) / 1000,
    probe,
    source: `${spec.folders} folders x ${spec.perFolder} files, ${MIN_SIZE}-${MAX_SIZE} B, ${
      DUPLICATE_SHARE * 100
    }% duplicates (${millionName(spec)})`,
  };
  fs.writeFileSync(marker, JSON.stringify(info, null, 2));
  return info;
}

/** `POOL` bytes of prose-like text from a 1,024-word vocabulary (zstd compresses it ~3x). */
function textPool(rng: Rng): Uint8Array {
  const syllables = "ka ro mi tel san dor vek lu pha in ex gor ti nal bre qu os arn el yd"
    .split(" ");
  const vocab: string[] = [];
  for (let i = 0; i < 1024; i++) {
    let w = "";
    for (let n = rng.int(1, 4); n > 0; n--) w += rng.pick(syllables);
    vocab.push(w);
  }
  const parts: string[] = [];
  let len = 0;
  while (len < POOL) {
    const u = rng.float();
    const w = vocab[Math.floor(u * u * u * vocab.length)] + (rng.float() < 0.08 ? ".\n" : " ");
    parts.push(w);
    len += w.length;
  }
  return new TextEncoder().encode(parts.join("")).subarray(0, POOL);
}
