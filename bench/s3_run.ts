/**
 * The `permafrost-s3` tool of `deno task bench`: Permafrost through its CLI, as in
 * `permafrostTool`, but with its repository at `s3://bench/run` on moto, the local S3 of the
 * tests (test/rig/moto.ts), on loopback. The endpoint reaches the CLI as `AWS_ENDPOINT_URL_S3`.
 *
 * The repository keeps the default cold class, so data packs are stored in DEEP_ARCHIVE and the
 * full restore is the real cold flow: `restore latest --target T --wait --poll 1` plans,
 * surveys the packs, sends RestoreObject for each, polls until they are readable (moto
 * restores at once by default, so no poll interval is waited) and downloads the needed ranges.
 *
 * moto is one Python process answering requests one at a time in a few milliseconds each: the
 * numbers show our client's overhead and the protocol path, not what AWS would do.
 *
 * @module
 */

import {
  CreateBucketCommand,
  type ListObjectsV2CommandOutput,
  paginateListObjectsV2,
  S3Client,
} from "@aws-sdk/client-s3";
import path from "node:path";
import { type Moto, MOTO_VERSION, startMoto } from "../test/rig/moto.ts";
import { fmtBytes } from "./report.ts";
import {
  type BenchTool,
  permafrostCommand,
  permafrostMissing,
  permafrostVersion,
  type Workspace,
} from "./tools.ts";

export const S3_BUCKET = "bench";
export const S3_PREFIX = "run";
/** The repository location the CLI is given. */
export const S3_LOCATION = `s3://${S3_BUCKET}/${S3_PREFIX}`;

/** Credentials moto accepts (it checks none unless IAM enforcement is switched on). */
const KEYS = { accessKeyId: "bench", secretAccessKey: "bench" };

/** Objects and bytes per storage class. */
export type ClassTotals = Record<string, { objects: number; bytes: number }>;

/** Adds listed objects to per-class totals; an object without a class is STANDARD. */
export function addToClassTotals(
  totals: ClassTotals,
  objects: readonly { StorageClass?: string; Size?: number }[],
): ClassTotals {
  for (const o of objects) {
    const c = totals[o.StorageClass ?? "STANDARD"] ??= { objects: 0, bytes: 0 };
    c.objects++;
    c.bytes += o.Size ?? 0;
  }
  return totals;
}

/** `ClassTotals` as `8 DEEP_ARCHIVE (484.4 MB), 120 STANDARD (3.1 MB)`, largest first. */
export function describeClasses(totals: ClassTotals): string {
  return Object.entries(totals)
    .sort((a, b) => b[1].bytes - a[1].bytes)
    .map(([name, t]) => `${t.objects} ${name} (${fmtBytes(t.bytes)})`)
    .join(", ");
}

/**
 * Permafrost on moto. `unavailable()` installs moto when it is missing (test/rig/moto.ts:
 * needs Python 3 with `venv`, and pip reaching the package index), starts it and creates the
 * bucket; it answers why not when any of that fails. `close()` stops the server.
 */
export function permafrostS3Tool(root: string): BenchTool {
  let moto: Moto | undefined;
  let s3: S3Client | undefined;
  const cli = (ws: Workspace, ...args: string[]) =>
    permafrostCommand(root, ws, args, {
      AWS_ENDPOINT_URL_S3: moto!.endpoint,
      AWS_ACCESS_KEY_ID: KEYS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: KEYS.secretAccessKey,
      AWS_REGION: "us-east-1",
      // An empty profile lets the SDK's chain take the keys above from the environment.
      AWS_PROFILE: "",
      AWS_EC2_METADATA_DISABLED: "true",
      // Restore jobs (`restore --wait` saves one until it completes) stay in the workspace.
      PERMAFROST_STATE_DIR: path.join(ws.dir, "state"),
    });
  const classTotals = async (): Promise<ClassTotals> => {
    const totals: ClassTotals = {};
    const pages = paginateListObjectsV2(
      { client: s3! },
      { Bucket: S3_BUCKET, Prefix: `${S3_PREFIX}/` },
    );
    for await (const page of pages as AsyncIterable<ListObjectsV2CommandOutput>) {
      addToClassTotals(totals, page.Contents ?? []);
    }
    return totals;
  };
  return {
    name: "permafrost-s3",
    async unavailable() {
      const missing = permafrostMissing(root);
      if (missing) return missing;
      try {
        moto = await startMoto();
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        return `moto could not be installed or started (test/rig/moto.ts needs Python 3 with ` +
          `venv on PATH, and pip reaching the package index, the first time): ${why}`;
      }
      s3 = new S3Client({
        region: "us-east-1",
        endpoint: moto.endpoint,
        forcePathStyle: true,
        credentials: KEYS,
      });
      try {
        await s3.send(new CreateBucketCommand({ Bucket: S3_BUCKET }));
      } catch (err) {
        return `moto did not create bucket "${S3_BUCKET}": ${
          err instanceof Error ? err.message : err
        }`;
      }
      return undefined;
    },
    version: async () => `${await permafrostVersion(root)}, moto ${MOTO_VERSION}`,
    init: (ws) => cli(ws, "init", "--repo", S3_LOCATION),
    backup: (ws, source) => cli(ws, "backup", "--repo", S3_LOCATION, source),
    restore: (ws) =>
      cli(
        ws,
        "restore",
        "latest",
        "--repo",
        S3_LOCATION,
        "--target",
        ws.target,
        "--wait",
        "--poll",
        "1",
      ),
    plan: (ws, at) =>
      cli(ws, "restore", `latest:${at}`, "--repo", S3_LOCATION, "--dry-run", "--json"),
    async repoBytes() {
      return Object.values(await classTotals()).reduce((sum, c) => sum + c.bytes, 0);
    },
    async describe() {
      return `${S3_LOCATION} on moto ${MOTO_VERSION} at ${moto!.endpoint} (loopback): ` +
        describeClasses(await classTotals());
    },
    async close() {
      s3?.destroy();
      await moto?.stop();
    },
  };
}
