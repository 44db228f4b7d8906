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
    const data = buffers[op.buffer].subarray(op.start, op.end);
    const position = op.op === "range" ? op.offset : 0;
    const key = `${op.buffer}:${op.start}:${op.end}:${position % HOLE_BLOCK}`;
    let runs = runsOf.get(key);
    if (runs === undefined) runsOf.set(key, runs = dataRuns(data, position));
    // A range goes into a file pre-sized by the restore and never written here before, so
    // skipped zeros stay holes; its last one finishes it as `whole` does.
    const finish = op.op === "whole" ? { meta: op.meta, final: op.final } : op.finish;
    const fd = fs.openSync(op.path, op.op === "whole" ? "wx" : "r+", 0o600);
    let warnings: string[] = [];
    try {
      if (op.op === "range") writeSparse(fd, data, op.offset, runs);
      else if (writeSparse(fd, data, 0, runs) < data.length) fs.ftruncateSync(fd, data.length);
      // Stamped before it takes its final name: a file there is complete (docs/cli/restore.txt).
      if (finish) warnings = applyMetadata(op.path, finish.meta, asRoot, fd, finish.final);
    } finally {
      fs.closeSync(fd);
    }
    if (finish?.final !== undefined) fs.renameSync(op.path, finish.final);
    return warnings;
  } catch (err) {
    // node:fs errors carry the path and errno in the message; keep them across the RPC.
    throw err instanceof Error && !err.message.includes(op.path)
      ? new Error(`"${op.path}": ${err.message}`)
      : err;
  }
}
