/**
 * The size of an in-region job (docs/in-region.md §4): {@link jobSize} from the bytes it
 * processes, {@link jobDisk} for what it keeps on disk,
 * {@link checkFargateSize} for a size given, and {@link fargateFit}: whether Fargate runs it at
 * all, and with how much ephemeral storage.
 *
 * @module
 */

/** A job's size: vCPU, memory, and (when more than Fargate's default) the disk it needs. */
export interface JobSize {
  vcpu: number;
  memoryGB: number;
  /** GiB of disk the job needs ({@link jobDisk}); absent: Fargate's default is enough. */
  diskGiB?: number;
}

const GiB = 2 ** 30;
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

/** What a job keeps on disk, from the repository's numbers (each absent: none). */
export interface DiskNeeds {
  /** Files of the snapshots the job reads: the file cache holds a row for each. */
  files?: number;
  /** Blobs the index names: the index cache (`index.sqlite`) holds an entry for each. */
  blobs?: number;
  /** Bytes of packs spooled to disk at once (read or being written). */
  spoolBytes?: number;
  /** Bytes a restore stages on disk before they go to their target. */
  stagingBytes?: number;
}

/** A job's disk, in GiB, and what makes it up (bytes). */
export interface JobDisk {
  gib: number;
  parts: { image: number; fileCache: number; index: number; spool: number; staging: number };
}

/** The image and the system under it (Fargate counts the image's layers against the disk). */
const IMAGE_BYTES = 2 * GiB;
/** A file cache row (path, size, times, content ids) with SQLite's own overhead. */
export const FILE_CACHE_BYTES_PER_FILE = 512;
/** An index cache entry (blob id, pack, offsets, and SQLite's b-tree around them). */
export const INDEX_DISK_BYTES_PER_BLOB = 128;
/** Room kept free on top of the sum (the file system, logs, a margin for the estimate). */
const HEADROOM = 1.25;

/**
 * The disk the job needs: the image, the cache folder (file cache, index), any spool of packs
 * and a restore's staging, with a quarter on top, in whole GiB.
 */
export function jobDisk(n: DiskNeeds): JobDisk {
  const parts = {
    image: IMAGE_BYTES,
    fileCache: (n.files ?? 0) * FILE_CACHE_BYTES_PER_FILE,
    index: (n.blobs ?? 0) * INDEX_DISK_BYTES_PER_BLOB,
    spool: n.spoolBytes ?? 0,
    staging: n.stagingBytes ?? 0,
  };
  const sum = Object.values(parts).reduce((a, b) => a + b, 0);
  return { gib: Math.ceil((sum * HEADROOM) / GiB), parts };
}

/** Fargate's ephemeral storage: what every task has, and the most a task may ask for. */
export const FARGATE_DEFAULT_DISK_GIB = 20;
export const FARGATE_MAX_DISK_GIB = 200;

/** Whether Fargate runs a job, and the ephemeral storage to ask for (over the default). */
export type FargateFit =
  | { fits: true; ephemeralGiB?: number }
  | { fits: false; reason: string };

/**
 * Whether Fargate runs a job of `size`: a size of its table, and at most
 * {@link FARGATE_MAX_DISK_GIB} of disk; `ephemeralGiB` (21 to 200, the task definition's
 * `ephemeralStorage.sizeInGiB`) when the disk is over the default 20 GiB.
 */
export function fargateFit(size: JobSize): FargateFit {
  try {
    checkFargateSize(size);
  } catch (err) {
    return { fits: false, reason: (err as Error).message };
  }
  const disk = size.diskGiB ?? 0;
  if (disk > FARGATE_MAX_DISK_GIB) {
    return {
      fits: false,
      reason: `the job needs ${disk} GiB of disk; a Fargate task has at most ` +
        `${FARGATE_MAX_DISK_GIB} GiB`,
    };
  }
  return disk > FARGATE_DEFAULT_DISK_GIB ? { fits: true, ephemeralGiB: disk } : { fits: true };
}
