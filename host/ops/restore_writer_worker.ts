/// <reference lib="deno.worker" />
/**
 * The body of a restore's writer worker (see `restore_writer.ts`): applies batches of file
 * writes, in order, with synchronous `node:fs` calls. Runs of zeros are left as holes
 * (`writeSparse`). Trusted host code, started with the host's permissions (see
 * `RestoreWriter`); it never sees a key.
 *
 * @module
 */

import fs from "node:fs";
import { serveRpc } from "../../plugins/sdk/rpc.ts";
import { release } from "../crypto/bytes.ts";
import { applyMetadata, dataRuns, HOLE_BLOCK, writeSparse } from "./restore_fs.ts";
import type { ApplyResult, WriteOp } from "./restore_writer.ts";

self.onmessage = (e: MessageEvent<{ port: MessagePort; asRoot: boolean }>) => {
  const { asRoot } = e.data;
  let failed = false;
  serveRpc(e.data.port, "restore-writer", {
    /**
     * Applies `ops` in order. Resolves to how many were applied and, when one failed, its
     * error: the operations before it are done (the caller reports the files they finished).
     */
    apply: (ops: WriteOp[], buffers: Uint8Array[]): ApplyResult => {
      let applied = 0;
      const warnings: string[] = [];
      try {
        // After a failure the restore stops: batches already on their way are not applied.
        if (failed) throw new Error("an earlier write of this restore failed");
        // One blob written to many places (a file of zeros is one blob, many times) is scanned
        // for zeros once.
        const runs = new Map<string, [number, number][]>();
        for (const op of ops) {
          warnings.push(...applyOne(op, buffers, asRoot, runs));
          applied++;
        }
        return { applied, warnings };
      } catch (err) {
        failed = true;
        const { name, message } = err instanceof Error ? err : new Error(String(err));
        return { applied, warnings, error: { name, message } };
      } finally {
        for (const b of buffers) release(b); // moved here: free now, not at this isolate's next GC
      }
    },
  });
};

function applyOne(
  op: WriteOp,
  buffers: Uint8Array[],
  asRoot: boolean,
  runsOf: Map<string, [number, number][]>,
): string[] {
  try {
    if (op.op === "rename") {
      fs.renameSync(op.path, op.final);
      return [];
    }
    const data = buffers[op.buffer].subarray(op.start, op.end);
    const position = op.op === "range" ? op.offset : 0;
    const key = `${op.buffer}:${op.start}:${op.end}:${position % HOLE_BLOCK}`;
    let runs = runsOf.get(key);
    if (runs === undefined) runsOf.set(key, runs = dataRuns(data, position));
    if (op.op === "range") {
      // Pre-sized by the restore and never written here before: skipped zeros stay holes.
      const fd = fs.openSync(op.path, "r+");
      try {
        writeSparse(fd, data, op.offset, runs);
      } finally {
        fs.closeSync(fd);
      }
      return [];
    }
    const fd = fs.openSync(op.path, "wx", 0o600);
    let warnings: string[];
    try {
      if (writeSparse(fd, data, 0, runs) < data.length) fs.ftruncateSync(fd, data.length);
      warnings = applyMetadata(op.path, op.meta, asRoot, fd, op.final);
    } finally {
      fs.closeSync(fd);
    }
    if (op.final !== undefined) fs.renameSync(op.path, op.final);
    return warnings;
  } catch (err) {
    // node:fs errors carry the path and errno in the message; keep them across the RPC.
    throw err instanceof Error && !err.message.includes(op.path)
      ? new Error(`"${op.path}": ${err.message}`)
      : err;
  }
}
