/**
 * RPC and local-storage benchmark: prints numbers, asserts nothing (docs/design.md §9).
 *
 *   npx -y deno run --allow-all bench/rpc_bench.ts [--mib 1024] [--pack-mib 64] [--packs 8]
 *
 * Measures, against a real plugin worker (test/fixtures/plugins/echo): the round trip of a
 * trivial call (sequential and pipelined), 1 MiB `Uint8Array` throughput host -> worker
 * (transferred, and copied for comparison), worker -> host, and both ways; the same against
 * the same plugin bundled and run as a third-party plugin is, in a subprocess
 * (host/plugin/subprocess.ts; a quarter of the bytes); then `create` and `read` of large
 * packs through the `local` storage plugin on the temp folder's disk.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { bundlePlugin } from "../host/plugin/bundle.ts";
import { readManifest } from "../host/plugin/manifest.ts";
import { type PluginHandle, startPlugin } from "../host/plugin/sandbox.ts";
import { openStorage } from "../host/storage/open.ts";

const { values } = parseArgs({
  options: {
    mib: { type: "string", default: "1024" },
    "pack-mib": { type: "string", default: "64" },
    packs: { type: "string", default: "8" },
  },
});
const totalMiB = Number(values.mib);
const packMiB = Number(values["pack-mib"]);
const packs = Number(values.packs);
const MiB = 1 << 20;

function rate(bytes: number, secs: number): string {
  return `${(bytes / MiB / secs).toFixed(0)} MiB/s`;
}

function line(label: string, value: string): void {
  console.log(`${label.padEnd(52)} ${value}`);
}

async function time(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

const echoDir = fileURLToPath(new URL("../test/fixtures/plugins/echo/", import.meta.url));

/** The calls above against `echo`, `chunks` MiB each, labelled `where`. */
async function measure(echo: PluginHandle, where: string, chunks: number): Promise<void> {
  const line = (label: string, value: string) =>
    console.log(`${where}: ${label.padEnd(48)} ${value}`);
  for (let i = 0; i < 2000; i++) await echo.call("noop"); // warm up
  const n = 20_000;
  let s = await time(async () => {
    for (let i = 0; i < n; i++) await echo.call("noop");
  });
  line("trivial call, sequential round trip", `${(s / n * 1e6).toFixed(1)} µs/call`);
  s = await time(async () => {
    for (let i = 0; i < n; i += 256) {
      await Promise.all(Array.from({ length: 256 }, () => echo.call("noop")));
    }
  });
  line("trivial call, pipelined 256 deep", `${(s / n * 1e6).toFixed(1)} µs/call`);

  s = await time(async () => {
    for (let i = 0; i < chunks; i++) await echo.call("sink", new Uint8Array(MiB));
  });
  line(`1 MiB host -> worker, transferred, incl. allocation`, rate(chunks * MiB, s));
  s = 0;
  for (let done = 0; done < chunks; done += 128) {
    const ready = Array.from({ length: 128 }, () => new Uint8Array(MiB).fill(1));
    s += await time(async () => {
      for (const u of ready) await echo.call("sink", u);
    });
  }
  line(`1 MiB host -> worker, transferred, preallocated`, rate(chunks * MiB, s));
  const big = new Uint8Array(MiB + 1);
  s = await time(async () => {
    for (let i = 0; i < chunks; i++) await echo.call("sink", big.subarray(1));
  });
  line(`1 MiB host -> worker, copied (a subarray view)`, rate(chunks * MiB, s));
  s = await time(async () => {
    for (let i = 0; i < chunks; i++) await echo.call("source", MiB);
  });
  line(`1 MiB worker -> host, transferred`, rate(chunks * MiB, s));
  s = await time(async () => {
    for (let i = 0; i < chunks; i++) await echo.call("bounce", new Uint8Array(MiB));
  });
  line(`1 MiB there and back, transferred (bytes one way)`, rate(chunks * MiB, s));
  s = await time(async () => {
    for (let i = 0; i < chunks; i += 8) {
      await Promise.all(Array.from({ length: 8 }, () => echo.call("sink", new Uint8Array(MiB))));
    }
  });
  line(`1 MiB host -> worker, transferred, 8 in flight`, rate(chunks * MiB, s));
}

const echo = await startPlugin({ kind: "engine", dir: echoDir });
try {
  await measure(echo, "worker", totalMiB);
} finally {
  await echo.close();
}

// The same plugin as a third-party one: its SDK import made the one bare specifier allowed.
const copy = await Deno.makeTempDir({ prefix: "pf-bench-echo-" });
try {
  await Deno.copyFile(join(echoDir, "plugin.json"), join(copy, "plugin.json"));
  const code = await Deno.readTextFile(join(echoDir, "mod.ts"));
  await Deno.writeTextFile(
    join(copy, "mod.ts"),
    code.replace(/"[./]*plugins\/sdk\/mod\.ts"/, `"@permafrost/sdk"`),
  );
  const bundle = await bundlePlugin(copy, await readManifest(copy));
  const t0 = performance.now();
  const sub = await startPlugin({ kind: "engine", dir: copy, bundle });
  line("subprocess: start-up (deno run to ready)", `${(performance.now() - t0).toFixed(0)} ms`);
  try {
    await measure(sub, "subprocess", Math.max(1, Math.round(totalMiB / 4)));
  } finally {
    await sub.close();
  }
} finally {
  await Deno.remove(copy, { recursive: true });
}

const dir = await Deno.makeTempDir({ prefix: "pf-bench-" });
try {
  const storage = await openStorage(`${dir}/repo`, "admin", { create: true });
  try {
    const data = new Uint8Array(packMiB * MiB);
    for (let i = 0; i < data.length; i += 65536) {
      crypto.getRandomValues(data.subarray(i, i + 65536));
    }
    const ids = Array.from(
      { length: packs },
      (_, i) => `packs/${i.toString(16).padStart(64, "0")}`,
    );
    let s = await time(async () => {
      for (const id of ids) await storage.create(id, data.slice());
    });
    line(
      `local create, ${packs} x ${packMiB} MiB (fsync'd; incl. slice)`,
      rate(packs * packMiB * MiB, s),
    );
    s = await time(async () => {
      for (const id of ids) await storage.read(id);
    });
    line(`local read, ${packs} x ${packMiB} MiB (page cache)`, rate(packs * packMiB * MiB, s));
    const reads = 2000;
    s = await time(async () => {
      for (let i = 0; i < reads; i++) {
        await storage.read(ids[i % packs], {
          offset: (i * 4099) % (packMiB * MiB - 65536),
          length: 65536,
        });
      }
    });
    line(`local ranged read, 64 KiB`, `${(s / reads * 1e6).toFixed(0)} µs/read`);
  } finally {
    await storage.close();
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
