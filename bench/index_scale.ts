/**
 * The index at scale, on a synthetic index (no backup): builds an index cache
 * (host/repository/disk_index.ts) of N blob entries in segments of 20,000 entries in packs of
 * 2,000, in one sync (as a first `ls` of such a repository would), then measures in a fresh process what a command that looks up a few blobs pays: open,
 * a sync that finds nothing new, and lookups of present and absent blobs; and, for comparison,
 * the same entries in a `MemoryIndex` (what every command loaded before).
 *
 *   deno run --allow-all bench/index_scale.ts [N...]     (default: 1000000 10000000)
 *   deno run --allow-all bench/index_scale.ts --no-memory 10000000   (skip the memory index)
 *
 * Prints one line per N, and per million entries: file bytes, build time, and RSS.
 *
 * @module
 */

import { join } from "node:path";
import { cpuUsage } from "node:process";
import { DiskIndex } from "../host/repository/disk_index.ts";
import type { IndexedPack } from "../host/repository/index_segment.ts";
import { MemoryIndex } from "../host/repository/repo_index.ts";

const PER_SEGMENT = 20_000;
const PER_PACK = 2_000;
const LOOKUPS = 10_000;
const OWNER = { repository: "b".repeat(64), fingerprint: "f".repeat(64) };

/** Blob id `i`: 32 pseudo-random bytes (a splitmix-like mix of i), as hex. */
function blobId(i: number): string {
  const out = new Uint8Array(32);
  const view = new DataView(out.buffer);
  let x = BigInt(i) * 0x9e3779b97f4a7c15n;
  for (let w = 0; w < 4; w++) {
    x = (x ^ (x >> 30n)) * 0xbf58476d1ce4e5b9n & 0xffffffffffffffffn;
    x = (x ^ (x >> 27n)) * 0x94d049bb133111ebn & 0xffffffffffffffffn;
    view.setBigUint64(w * 8, x ^ (x >> 31n));
  }
  return out.toHex();
}

/** Segment `s` of the synthetic index (entries s*PER_SEGMENT ... up to `total`). */
function segment(s: number, total: number): IndexedPack[] {
  const packs: IndexedPack[] = [];
  const end = Math.min(total, (s + 1) * PER_SEGMENT);
  for (let first = s * PER_SEGMENT; first < end; first += PER_PACK) {
    const blobs = [];
    for (let i = first; i < Math.min(end, first + PER_PACK); i++) {
      const at = (i - first) * 4096;
      blobs.push({
        id: blobId(i),
        type: "data" as const,
        frameOffset: at,
        frameLength: 4096,
        offsetInFrame: 0,
        length: 4000,
      });
    }
    const pack = blobId(first + 0x40000000);
    packs.push({ pack, metadata: false, length: blobs.length * 4096, blobs });
  }
  return packs;
}

function segmentCount(total: number): number {
  return Math.ceil(total / PER_SEGMENT);
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(0)} MB`;
}

/** CPU seconds (user and system) this process used since `from`. */
function cpuSince(from: NodeJS.CpuUsage): number {
  const d = cpuUsage(from);
  return (d.user + d.system) / 1e6;
}

/** Builds the index cache of `total` entries at `file`: wall and CPU seconds. */
function build(file: string, total: number): { wall: number; cpu: number } {
  DiskIndex.remove(file);
  const disk = DiskIndex.open(file, OWNER, () => {});
  const t0 = performance.now();
  const c0 = cpuUsage();
  for (let s = 0; s < segmentCount(total); s++) {
    const packs = segment(s, total);
    const info = {
      id: blobId(s + 0x70000000),
      packs: packs.map((p) => p.pack),
      supersedes: [],
      attested: [],
    };
    disk.stage(info, packs);
  }
  disk.commit();
  disk.close();
  return { wall: (performance.now() - t0) / 1000, cpu: cpuSince(c0) };
}

/** In a fresh process: opens the cache, reads its segments, looks up blobs. Prints JSON. */
function lookups(file: string, total: number): void {
  const t0 = performance.now();
  const disk = DiskIndex.open(file, OWNER, (w) => console.error(w));
  const segments = disk.segments().length;
  const opened = performance.now() - t0;
  const present = Array.from({ length: LOOKUPS }, (_, k) => blobId((k * 2654435761) % total));
  const absent = Array.from({ length: LOOKUPS }, (_, k) => blobId(total + k));
  let c = cpuUsage();
  for (const id of present) if (!disk.get(id)) throw new Error(`blob ${id} is missing`);
  const hit = cpuSince(c) * 1e6 / LOOKUPS;
  c = cpuUsage();
  for (const id of absent) if (disk.has(id)) throw new Error(`blob ${id} is present`);
  const miss = cpuSince(c) * 1e6 / LOOKUPS;
  console.log(JSON.stringify({ segments, opened, hit, miss, rss: Deno.memoryUsage().rss }));
  disk.close();
}

/** In a fresh process: the same entries in a MemoryIndex. Prints JSON. */
function inMemory(total: number): void {
  const base = Deno.memoryUsage().rss;
  const t0 = performance.now();
  const index = new MemoryIndex();
  for (let s = 0; s < segmentCount(total); s++) index.add(segment(s, total));
  const seconds = (performance.now() - t0) / 1000;
  const present = Array.from({ length: LOOKUPS }, (_, k) => blobId((k * 2654435761) % total));
  const c = cpuUsage();
  for (const id of present) if (!index.get(id)) throw new Error(`blob ${id} is missing`);
  const hit = cpuSince(c) * 1e6 / LOOKUPS;
  console.log(JSON.stringify({ seconds, hit, rss: Deno.memoryUsage().rss, base }));
}

async function child(args: string[]): Promise<Record<string, number>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--v8-flags=--max-old-space-size=16000",
      import.meta.filename!,
      ...args,
    ],
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`the child run ${args.join(" ")} failed`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

async function main(): Promise<void> {
  const [mode, ...rest] = Deno.args;
  if (mode === "--lookups") return lookups(rest[0], Number(rest[1]));
  if (mode === "--memory") return inMemory(Number(rest[0]));
  const memory = !Deno.args.includes("--no-memory");
  const sizes = Deno.args.filter((a) => /^\d+$/.test(a)).map(Number);
  const dir = await Deno.makeTempDir({ prefix: "pf-index-scale-" });
  try {
    for (const total of sizes.length > 0 ? sizes : [1_000_000, 10_000_000]) {
      const file = join(dir, `index-${total}.sqlite`);
      const built = build(file, total);
      const bytes = Deno.statSync(file).size;
      const q = await child(["--lookups", file, String(total)]);
      const per = total / 1e6;
      console.log(
        `${total.toLocaleString("en")} entries, ${q.segments} segments: index cache ` +
          `${mb(bytes)} (${mb(bytes / per)}/M), built in ${built.wall.toFixed(1)} s ` +
          `(CPU ${built.cpu.toFixed(1)} s, ${(built.cpu / per).toFixed(1)} s/M); fresh process: ` +
          `open ${q.opened.toFixed(0)} ms, get ${q.hit.toFixed(1)} µs CPU, absent ` +
          `${q.miss.toFixed(1)} µs CPU, RSS ${mb(q.rss)}`,
      );
      if (memory) {
        const m = await child(["--memory", String(total)]);
        console.log(
          `  in memory (MemoryIndex): loaded in ${m.seconds.toFixed(1)} s, get ` +
            `${m.hit.toFixed(2)} µs CPU, RSS ${mb(m.rss)} (${mb((m.rss - m.base) / per)}/M above ` +
            `the ${mb(m.base)} of an empty process)`,
        );
      }
      DiskIndex.remove(file);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await main();
