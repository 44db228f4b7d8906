/**
 * The `sqlite` store alone (`plugins/storage/sqlite/sqlite_store.ts`, called directly, no
 * worker): `create` of 64 MiB and of 2 KB objects, whole reads and 64 KiB ranged reads, in a
 * fresh database in the system temp folder; prints one JSON line, and which files were left
 * beside the database after `close`. Run it in two checkouts to compare them.
 *
 * `deno run --allow-all bench/sqlite_bench.ts [--big N] [--small N] [--ranges N]`
 * (defaults: 8 objects of 64 MiB, 500 of 2 KB, 2,000 ranged reads).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { SqliteStore } from "../plugins/storage/sqlite/sqlite_store.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { big: { type: "string" }, small: { type: "string" }, ranges: { type: "string" } },
});
const big = Number(values.big ?? 8);
const small = Number(values.small ?? 500);
const ranges = Number(values.ranges ?? 2000);

const dir = await Deno.makeTempDir({ prefix: "pf-sqlite-bench-" });
const store = new SqliteStore(join(dir, "repo.db"));
await store.init();
const pack = new Uint8Array(64 << 20);
for (let i = 0; i < pack.length; i += 65536) crypto.getRandomValues(pack.subarray(i, i + 65536));
const doc = crypto.getRandomValues(new Uint8Array(2048));

/** Seconds `fn` takes. */
async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

const out: Record<string, string> = {};
let s = await time(async () => {
  for (let i = 0; i < big; i++) {
    pack[0] = i;
    await store.create(`packs/${i}`, pack.slice());
  }
});
out["create 64 MiB"] = `${(big * 64 / s).toFixed(0)} MiB/s`;
s = await time(async () => {
  for (let i = 0; i < small; i++) await store.create(`index/${i}`, doc.slice());
});
out["create 2 KB"] = `${(s / small * 1000).toFixed(2)} ms`;
s = await time(async () => {
  for (let i = 0; i < big; i++) await store.read(`packs/${i}`);
});
out["read 64 MiB whole"] = `${(big * 64 / s).toFixed(0)} MiB/s`;
s = await time(async () => {
  for (let i = 0; i < ranges; i++) {
    const offset = (i * 7919 % 1000) * 65536;
    await store.read(`packs/${i % big}`, { offset, length: 65536 });
  }
});
out["read 64 KiB range"] = `${(s / ranges * 1e6).toFixed(0)} µs`;
store.close();
out["files after close"] = [...Deno.readDirSync(dir)].map((e) => e.name).sort().join(" ");
await Deno.remove(dir, { recursive: true });
console.log(JSON.stringify(out));
