/**
 * Microbenchmark of the FastCDC chunker (plugins/engine/dedup/fastcdc.ts): the repository default
 * parameters (256 KiB / 1 MiB / 4 MiB) over incompressible data fed in 4 MiB pieces, as the
 * dedup walker reads files. Prints MB/s (10^6 bytes per second); the best of several rounds.
 *
 * Run: `deno run --allow-all bench/chunker_bench.ts [--mib N] [--rounds N]`
 *
 * @module
 */

import { parseArgs } from "node:util";
import {
  Chunker,
  type ChunkerParams,
  DEFAULT_CHUNKER_PARAMS,
} from "../plugins/engine/dedup/fastcdc.ts";
import { keystream } from "./prng.ts";

/** The outcome of {@linkcode chunkerThroughput}. */
export interface ChunkerBenchResult {
  /** Bytes chunked per round. */
  bytes: number;
  /** Chunks per round. */
  chunks: number;
  /** Best round, in MB/s (10^6 bytes per second). */
  mbPerSec: number;
  /** Every round, in MB/s. */
  rounds: number[];
}

/**
 * Chunks `mib` MiB of pseudo-random bytes `rounds` times with a fixed gear table and returns the
 * throughput. Synchronous and CPU-bound; allocates the data once (plus the chunk copies).
 */
export function chunkerThroughput(
  mib = 256,
  rounds = 5,
  params: ChunkerParams = DEFAULT_CHUNKER_PARAMS,
): ChunkerBenchResult {
  const data = keystream("chunker-bench-data", mib << 20);
  const gearBytes = keystream("chunker-bench-gear", 1024);
  const gear = new Uint32Array(gearBytes.buffer, gearBytes.byteOffset, 256);
  const piece = 4 << 20;
  const result: number[] = [];
  let chunks = 0;
  for (let r = 0; r < rounds; r++) {
    const chunker = new Chunker(gear, params);
    const t0 = performance.now();
    let n = 0;
    for (let off = 0; off < data.length; off += piece) {
      n += chunker.push(data.subarray(off, off + piece)).length;
    }
    n += chunker.finish().length;
    const seconds = (performance.now() - t0) / 1000;
    result.push(data.length / seconds / 1e6);
    chunks = n;
  }
  return { bytes: data.length, chunks, mbPerSec: Math.max(...result), rounds: result };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { mib: { type: "string", default: "256" }, rounds: { type: "string", default: "5" } },
  });
  const r = chunkerThroughput(Number(values.mib), Number(values.rounds));
  console.log(
    `FastCDC ${DEFAULT_CHUNKER_PARAMS.min >> 10}K/${DEFAULT_CHUNKER_PARAMS.avg >> 10}K/` +
      `${DEFAULT_CHUNKER_PARAMS.max >> 10}K over ${r.bytes >> 20} MiB: ${
        r.mbPerSec.toFixed(0)
      } MB/s best (rounds: ${r.rounds.map((x) => x.toFixed(0)).join(", ")}), ` +
      `${r.chunks} chunks, mean ${(r.bytes / r.chunks / 1024).toFixed(0)} KiB`,
  );
}
