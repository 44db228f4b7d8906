/**
 * A VM disk image churned over versions, for the delta-vs-dedup evaluation
 * (docs/delta-vs-dedup.md): a real ext4 file system, made without root or loop mounts.
 *
 * {@link buildImage} copies a folder of real files (default `/usr/share`) into a staging root
 * with a syslog and an application database beside it, and makes a sparse raw image of it
 * (`mke2fs -t ext4 -b 4096 -d STAGE`). {@link churnImage} turns version `v-1` into `v` with
 * what a running system writes between two backups:
 *
 * - a package upgrade: 40-120 files replaced, and 2-6 files of 100 KB or more (debugfs `rm` + `write`, so ext4's own allocator
 *   places the new blocks, and the inode table, bitmaps and directory blocks change); most are
 *   lightly edited (docs, scripts), about a third rewritten whole (binaries);
 * - log growth: 50-500 KB appended to `/var/log/syslog` (the file is rewritten by debugfs);
 * - a database: 100-400 random 4 KiB pages of `/var/lib/app/app.db` rewritten in place, at the
 *   file's own physical blocks (`debugfs -R "blocks ..."`);
 * - the journal: the next 2-8 MiB of the jbd2 journal's ring (inode 8) written in place.
 *
 * Seeded (bench/prng.ts): the same source folder gives the same versions.
 *
 * @module
 */

import fs from "node:fs";
import path from "node:path";
import { keystream, Rng } from "../prng.ts";
import { text } from "./home.ts";

const BLOCK = 4096;

/** What {@link buildImage} made. */
export interface Image {
  path: string;
  stage: string;
  /** Bytes of the raw image (apparent size). */
  size: number;
  /** Files of the staging tree that an upgrade may replace (relative, debugfs-safe names). */
  files: string[];
  /** Physical block numbers of the database file, in file order. */
  dbBlocks: number[];
  /** Physical block numbers of the journal. */
  journalBlocks: number[];
  /** Next journal block to write (a ring). */
  journalAt: number;
}

/** Runs a command; its stdout, or a thrown error with its stderr. */
function run(cmd: string, args: string[], cwd?: string): string {
  const out = new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).outputSync();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

/** Physical blocks of `target` (a path in the image, or `<ino>`), expanded in file order. */
function physicalBlocks(image: string, target: string): number[] {
  return run("debugfs", ["-R", `blocks ${target}`, image]).trim().split(/\s+/).filter((s) => s)
    .map(Number);
}

/** Builds version 0: `image` of `sizeBytes` (sparse) from `source` plus a log and a database. */
export function buildImage(
  image: string,
  work: string,
  source = "/usr/share",
  sizeBytes = 2 * 1024 ** 3,
  seed = "vm",
): Image {
  const stage = path.join(work, "stage");
  fs.rmSync(stage, { recursive: true, force: true });
  fs.mkdirSync(path.join(stage, "usr"), { recursive: true });
  run("cp", ["-a", source, path.join(stage, "usr", path.basename(source))]);
  const rng = new Rng(`${seed}/build`);
  fs.mkdirSync(path.join(stage, "var/log"), { recursive: true });
  fs.writeFileSync(path.join(stage, "var/log/syslog"), text(rng, 4 << 20));
  fs.mkdirSync(path.join(stage, "var/lib/app"), { recursive: true });
  fs.writeFileSync(path.join(stage, "var/lib/app/app.db"), keystream(`${seed}/db`, 64 << 20));
  fs.mkdirSync(path.dirname(image), { recursive: true });
  fs.rmSync(image, { force: true });
  fs.closeSync(fs.openSync(image, "w"));
  fs.truncateSync(image, sizeBytes);
  run("mke2fs", ["-q", "-F", "-t", "ext4", "-b", String(BLOCK), "-d", stage, image]);
  const files: string[] = [];
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(stage, rel), { withFileTypes: true })) {
      const r = `${rel}/${e.name}`;
      if (!/^[A-Za-z0-9._+-]+$/.test(e.name)) continue;
      if (e.isDirectory()) walk(r);
      else if (e.isFile() && fs.statSync(path.join(stage, r)).size >= 1024) files.push(r);
    }
  };
  walk("usr");
  files.sort();
  return {
    path: image,
    stage,
    size: sizeBytes,
    files,
    dbBlocks: physicalBlocks(image, "/var/lib/app/app.db"),
    journalBlocks: physicalBlocks(image, "<8>"),
    journalAt: 1, // block 0 is the journal's superblock
  };
}

/** What one churn wrote. */
export interface ImageChurn {
  replaced: number;
  replacedBytes: number;
  logBytes: number;
  dbPages: number;
  journalBytes: number;
}

/** Turns version `v - 1` of `img` into version `v` (1-based), in place. */
export function churnImage(img: Image, v: number, seed = "vm"): ImageChurn {
  const rng = new Rng(`${seed}/v${v}`);
  const c: ImageChurn = { replaced: 0, replacedBytes: 0, logBytes: 0, dbPages: 0, journalBytes: 0 };
  const cmds: string[] = [];
  const replace = (rel: string) => {
    cmds.push(`cd /${path.dirname(rel)}`, `rm ${path.basename(rel)}`);
    cmds.push(`write ${path.join(img.stage, rel)} ${path.basename(rel)}`);
  };
  // A package upgrade: files replaced, most lightly edited, a third rewritten whole.
  const done = new Set<string>();
  const big = img.files.filter((f) => fs.statSync(path.join(img.stage, f)).size >= 100_000);
  const picks = [
    ...Array.from({ length: rng.int(40, 120) }, () => rng.pick(img.files)),
    ...Array.from({ length: rng.int(2, 6) }, () => rng.pick(big)),
  ];
  for (const rel of picks) {
    if (done.has(rel)) continue;
    done.add(rel);
    const p = path.join(img.stage, rel);
    const old = fs.readFileSync(p);
    let next: Uint8Array;
    if (rng.int(0, 2) === 0 || old.length > (4 << 20)) {
      next = keystream(`${seed}/v${v}/${rel}`, Math.max(1024, old.length + rng.int(-512, 4096)));
    } else {
      const at = rng.int(0, old.length);
      const ins = text(rng, rng.int(10, 2000));
      next = new Uint8Array(old.length + ins.length);
      next.set(old.subarray(0, at));
      next.set(ins, at);
      next.set(old.subarray(at), at + ins.length);
    }
    fs.writeFileSync(p, next);
    replace(rel);
    c.replaced++;
    c.replacedBytes += next.length;
  }
  // Log growth.
  const log = text(rng, rng.int(50_000, 500_000));
  fs.appendFileSync(path.join(img.stage, "var/log/syslog"), log);
  replace("var/log/syslog");
  c.logBytes = log.length;
  const cmdFile = path.join(path.dirname(img.stage), `debugfs-${v}.cmds`);
  fs.writeFileSync(cmdFile, cmds.join("\n") + "\n");
  run("debugfs", ["-w", "-f", cmdFile, img.path]);
  fs.rmSync(cmdFile);
  // In-place writes: database pages, then the journal's next stretch.
  const fd = fs.openSync(img.path, "r+");
  try {
    for (let k = rng.int(100, 400); k > 0; k--) {
      const block = img.dbBlocks[rng.int(0, img.dbBlocks.length - 1)];
      fs.writeSync(fd, keystream(`${seed}/v${v}/page/${k}`, BLOCK), 0, BLOCK, block * BLOCK);
      c.dbPages++;
    }
    const jblocks = rng.int(512, 2048);
    const j = keystream(`${seed}/v${v}/journal`, jblocks * BLOCK);
    for (let k = 0; k < jblocks; k++) {
      const block = img.journalBlocks[img.journalAt];
      img.journalAt = img.journalAt + 1 === img.journalBlocks.length ? 1 : img.journalAt + 1;
      fs.writeSync(fd, j, k * BLOCK, BLOCK, block * BLOCK);
    }
    c.journalBytes = jblocks * BLOCK;
  } finally {
    fs.closeSync(fd);
  }
  return c;
}
