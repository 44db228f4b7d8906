/**
 * The Fargate task size of an in-region job (docs/in-region.md §4): {@link jobSize} from the
 * bytes it processes, and {@link checkFargateSize} for a size given.
 *
 * @module
 */

/** A Fargate task size. */
export interface JobSize {
  vcpu: number;
  memoryGB: number;
}

const TiB = 2 ** 40;

/**
 * The task size for a job that processes `bytes` (reads and writes): 2 vCPU and 4 GB up to 1 TiB
 * (the job the cost model prices, docs/cost-model.md §1.4: 2.4 hours per TiB at its slow end),
 * 4 vCPU and 8 GB up to 16 TiB, 8 vCPU and 16 GB beyond. More vCPU shortens what runs in
 * workers: compression, one worker per core beyond the first (`host/repository/compressor.ts`,
 * docs/design.md §8), and a restore's file writes; decryption and decompression stay on the main
 * thread (docs/bench.md "Restore writes off the main thread"). Memory is 2 GB per vCPU,
 * Fargate's smallest ratio at these sizes: the job streams packs one at a time and needs little.
 * Pass the result as `Assumptions.job` so the estimate prices the same task.
 */
export function jobSize(bytes: number): JobSize {
  if (bytes <= TiB) return { vcpu: 2, memoryGB: 4 };
  if (bytes <= 16 * TiB) return { vcpu: 4, memoryGB: 8 };
  return { vcpu: 8, memoryGB: 16 };
}

/** Memory Fargate accepts for each vCPU count, in GB: from, to, step. */
const fargateSizes: Record<number, [number, number, number]> = {
  0.25: [0.5, 2, 0.5],
  0.5: [1, 4, 1],
  1: [2, 8, 1],
  2: [4, 16, 1],
  4: [8, 30, 1],
  8: [16, 60, 4],
  16: [32, 120, 8],
};

/** A `RangeError` unless Fargate runs a task of `size`. */
export function checkFargateSize(size: JobSize): void {
  const range = fargateSizes[size.vcpu];
  const ok = range !== undefined && size.memoryGB >= range[0] && size.memoryGB <= range[1] &&
    Number.isInteger((size.memoryGB - range[0]) / range[2]);
  if (!ok) {
    throw new RangeError(
      `Fargate runs no task of ${size.vcpu} vCPU and ${size.memoryGB} GB; ` +
        "vCPU 0.25, 0.5, 1, 2, 4, 8 or 16 with 2 to 8 GB per vCPU (see docs/in-region.md §4)",
    );
  }
}
