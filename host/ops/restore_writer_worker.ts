/// <reference lib="deno.worker" />
/**
 * The body of a restore's writer worker (see `restore_writer.ts`): applies batches of file
 * writes, in order, with synchronous `node:fs` calls. Trusted host code, started with the
 * host's permissions (see `RestoreWriter`); it never sees a key.
 *
 * @module
 */

import fs from "node:fs";
import { serveRpc } from "../../plugins/sdk/rpc.ts";
import { release } from "../crypto/bytes.ts";
import { applyMetadata, writeAll } from "./restore_fs.ts";
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
      try {
        // After a failure the restore stops: batches already on their way are not applied.
        if (failed) throw new Error("an earlier write of this restore failed");
        for (const op of ops) {
          applyOne(op, buffers, asRoot);
          applied++;
        }
        return { applied };
      } catch (err) {
        failed = true;
        const { name, message } = err instanceof Error ? err : new Error(String(err));
        return { applied, error: { name, message } };
      } finally {
        for (const b of buffers) release(b); // moved here: free now, not at this isolate's next GC
      }
    },
  });
};

function applyOne(op: WriteOp, buffers: Uint8Array[], asRoot: boolean): void {
  try {
    if (op.op === "rename") {
      fs.renameSync(op.path, op.final);
      return;
    }
    const data = buffers[op.buffer].subarray(op.start, op.end);
    if (op.op === "range") {
      const fd = fs.openSync(op.path, "r+");
      try {
        writeAll(fd, data, op.offset);
      } finally {
        fs.closeSync(fd);
      }
      return;
    }
    const fd = fs.openSync(op.path, "wx", 0o600);
    try {
      writeAll(fd, data, 0);
      applyMetadata(op.path, op.meta, asRoot, fd);
    } finally {
      fs.closeSync(fd);
    }
    if (op.final !== undefined) fs.renameSync(op.path, op.final);
  } catch (err) {
    // node:fs errors carry the path and errno in the message; keep them across the RPC.
    throw err instanceof Error && !err.message.includes(op.path)
      ? new Error(`"${op.path}": ${err.message}`)
      : err;
  }
}
