/**
 * A home folder churned over versions, for the delta-vs-dedup evaluation (docs/delta-vs-dedup.md).
 *
 * Version 0 is written by {@link writeHome}: documents (prose-like text, compressible), source
 * code (many small files), photos (incompressible, 0.5-6 MiB), a mailbox and a log (appended
 * to), and an application database (pages rewritten in place). {@link churnHome} turns version
 * `v-1` into version `v` in place: text edits (bytes inserted and deleted mid-file), appends,
 * database page rewrites, renames (moved to another folder, content unchanged), new files and
 * deleted files. Everything comes from seeded generators (bench/prng.ts): the same scale gives
 * the same bytes on every machine.
 *
 * @module
 */

import fs from "node:fs";
import path from "node:path";
import { keystream, Rng } from "../prng.ts";

const WORDS = (
  "the of and to in is it that for on was with as be by at this have from or an are not but " +
  "backup archive glacier restore pack chunk delta block image version snapshot budget cost " +
  "report meeting notes draft invoice project summary travel family photo recipe garden " +
  "letter tax school music plan week month year review result table figure chapter section"
).split(" ");

/** What {@link writeHome} makes: about `scale` × 200 MiB. */
export interface HomeSpec {
  docs: number;
  code: number;
  photos: number;
  /** Bytes of the database file (rewritten in 4 KiB pages). */
  dbBytes: number;
}

export function homeSpec(scale = 1): HomeSpec {
  return {
    docs: Math.round(600 * scale),
    code: Math.round(3000 * scale),
    photos: Math.round(50 * scale),
    dbBytes: Math.round(24 * scale) << 20,
  };
}

/** Text-like bytes: words from a small vocabulary, lines of 8-16 words. */
export function text(rng: Rng, bytes: number): Uint8Array {
  const parts: string[] = [];
  let n = 0;
  while (n < bytes) {
    const words = rng.int(8, 16);
    let line = "";
    for (let i = 0; i < words; i++) line += (i ? " " : "") + rng.pick(WORDS);
    line += rng.int(0, 3) === 0 ? ` ${rng.u32()}\n` : "\n";
    parts.push(line);
    n += line.length;
  }
  return new TextEncoder().encode(parts.join("")).subarray(0, bytes);
}

/** Writes version 0 into `dir` (made empty first). */
export function writeHome(dir: string, spec: HomeSpec, seed = "home"): void {
  fs.rmSync(dir, { recursive: true, force: true });
  const rng = new Rng(`${seed}/v0`);
  const put = (rel: string, bytes: Uint8Array) => {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, bytes);
  };
  for (let i = 0; i < spec.docs; i++) {
    put(
      `Documents/${rng.pick(WORDS)}-${i % 20}/doc-${i}.txt`,
      text(rng, rng.logInt(2_000, 400_000)),
    );
  }
  for (let i = 0; i < spec.code; i++) {
    put(`src/proj-${i % 7}/mod-${i % 41}/file-${i}.ts`, text(rng, rng.logInt(300, 40_000)));
  }
  for (let i = 0; i < spec.photos; i++) {
    put(
      `Pictures/${2020 + (i % 5)}/IMG_${1000 + i}.jpg`,
      keystream(`${seed}/photo/${i}`, rng.logInt(500_000, 6 << 20)),
    );
  }
  put("Mail/inbox.mbox", text(rng, 8 << 20));
  put(".local/state/app.log", text(rng, 2 << 20));
  put(".local/share/app/app.db", keystream(`${seed}/db`, spec.dbBytes));
}

/** Every regular file under `dir`, relative, sorted. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else if (e.isFile()) out.push(r);
    }
  };
  walk("");
  return out.sort();
}

/** What one churn did. */
export interface ChurnStats {
  edited: number;
  appendedBytes: number;
  dbPages: number;
  renamed: number;
  added: number;
  addedBytes: number;
  deleted: number;
}

/** Turns version `v - 1` in `dir` into version `v` (1-based), in place. */
export function churnHome(dir: string, v: number, seed = "home"): ChurnStats {
  const rng = new Rng(`${seed}/v${v}`);
  const s: ChurnStats = {
    edited: 0,
    appendedBytes: 0,
    dbPages: 0,
    renamed: 0,
    added: 0,
    addedBytes: 0,
    deleted: 0,
  };
  const files = listFiles(dir);
  const texts = files.filter((f) => f.endsWith(".txt") || f.endsWith(".ts"));
  // Edits: 1% of text files, a few insertions and deletions in the middle.
  for (let i = 0; i < Math.max(1, Math.round(texts.length / 100)); i++) {
    const p = path.join(dir, rng.pick(texts));
    let b: Uint8Array = fs.readFileSync(p);
    for (let k = rng.int(1, 4); k > 0; k--) {
      const at = rng.int(0, b.length);
      const del = rng.int(0, Math.min(200, b.length - at));
      const ins = text(rng, rng.int(0, 400));
      const next = new Uint8Array(b.length - del + ins.length);
      next.set(b.subarray(0, at));
      next.set(ins, at);
      next.set(b.subarray(at + del), at + ins.length);
      b = next;
    }
    fs.writeFileSync(p, b);
    s.edited++;
  }
  // Appends: mail and log grow.
  for (const [rel, max] of [["Mail/inbox.mbox", 400_000], [".local/state/app.log", 100_000]]) {
    const add = text(rng, rng.int(1_000, max as number));
    fs.appendFileSync(path.join(dir, rel as string), add);
    s.appendedBytes += add.length;
  }
  // Database: 50-300 pages of 4 KiB rewritten in place.
  const db = path.join(dir, ".local/share/app/app.db");
  const fd = fs.openSync(db, "r+");
  const pages = fs.fstatSync(fd).size / 4096;
  for (let k = rng.int(50, 300); k > 0; k--) {
    fs.writeSync(
      fd,
      keystream(`${seed}/v${v}/page/${k}`, 4096),
      0,
      4096,
      rng.int(0, pages - 1) * 4096,
    );
    s.dbPages++;
  }
  fs.closeSync(fd);
  // Renames: 0.5% of files moved to another folder, content unchanged.
  const movable = files.filter((f) => !f.startsWith("."));
  for (let i = 0; i < Math.round(movable.length / 200); i++) {
    const from = rng.pick(movable);
    const to = `${path.dirname(from)}/../moved-${v}/${path.basename(from)}`;
    const dest = path.normalize(path.join(dir, to));
    if (!fs.existsSync(path.join(dir, from)) || fs.existsSync(dest)) continue;
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.renameSync(path.join(dir, from), dest);
    s.renamed++;
  }
  // Deletions: 0.3% of files.
  for (let i = 0; i < Math.round(movable.length / 300); i++) {
    const p = path.join(dir, rng.pick(movable));
    if (!fs.existsSync(p)) continue;
    fs.rmSync(p);
    s.deleted++;
  }
  // New files: a few documents, source files and a photo or two.
  for (let i = 0; i < rng.int(5, 20); i++) {
    const bytes = text(rng, rng.logInt(300, 100_000));
    const p = path.join(dir, `src/new-${v}/file-${i}.ts`);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, bytes);
    s.added++;
    s.addedBytes += bytes.length;
  }
  for (let i = 0; i < rng.int(0, 2); i++) {
    const bytes = keystream(`${seed}/v${v}/photo/${i}`, rng.logInt(500_000, 6 << 20));
    fs.mkdirSync(path.join(dir, "Pictures/new"), { recursive: true });
    fs.writeFileSync(path.join(dir, `Pictures/new/IMG_v${v}_${i}.jpg`), bytes);
    s.added++;
    s.addedBytes += bytes.length;
  }
  return s;
}
