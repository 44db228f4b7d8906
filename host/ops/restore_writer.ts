/**
 * A restore's file writes, on a worker thread of their own (`restore_writer_worker.ts`).
 * Creating, writing, stamping and closing tens of thousands of files is mostly kernel time; on
 * the restore's own thread it came on top of decrypting, decompressing and verifying the frames.
 * Here it runs on the other core meanwhile (docs/bench.md "Restore writes off the main thread").
 *
 * Contract:
 * - Operations are applied in the order they are queued, one at a time.
 * - `frame(plain)` hands over one opened frame's plaintext: the writer owns it from then on (it
 *   is moved to the worker, or freed if nothing is written from it). `whole` and `range` take
 *   views of the current frame's plaintext; they queue work and return at once.
 * - Zeros are not written where they can be holes (`writeSparse` in `restore_fs.ts`): `whole`
 *   makes a new file, and `range` writes into a file that must read as zeros where it has not
 *   been written yet (new, pre-sized with `ftruncate`), so a sparse file is restored sparse.
 * - A file is stamped (owner, extended attributes, mode, times) by the operation that finishes
 *   it, then renamed to its final name if it has one: a file at its final name is complete
 *   and stamped, whenever the process stops (even by `kill -9`).
 * - `room()`, called between frames, sends the queued batch once it is large enough and waits
 *   while more than `MAX_IN_FLIGHT` bytes are being written.
 * - `onDone(path)` is called, with the path the file was written at, once the worker has applied
 *   the operation that finished it (`whole`, or a `range` marked as the file's last).
 *   Before that, `onWritten(bytes)` is told the bytes of file contents the batch wrote.
 * - `drain()` sends what is queued and resolves when everything is applied, or rejects with the
 *   first failure. After a failure nothing more is applied: the failing batch stops at the
 *   failing operation (the files finished before it are still reported to `onDone`), later
 *   batches are refused, and `room()` and `drain()` reject. A worker that dies fails them too.
 * - `stop(reason)` drops what is not sent yet, refuses what comes after (as a failure, `reason`)
 *   and waits for the batches being written, when the restore fails elsewhere or is interrupted.
 * - `close()` ends the worker; call it in every case, after a failure too.
 *
 * @module
 */

import { RpcClient } from "../../plugins/sdk/rpc.ts";
import { release } from "../crypto/bytes.ts";
import type { EntryMetadata } from "./restore_fs.ts";

/** One operation, as it crosses to the worker; `buffer` indexes the batch's buffer list. */
export type WriteOp =
  | {
    op: "whole";
    path: string;
    /** Renamed to this once written and stamped (a file swapped in for an existing one). */
    final?: string;
    buffer: number;
    start: number;
    end: number;
    meta: EntryMetadata;
  }
  | {
    op: "range";
    path: string;
    offset: number;
    buffer: number;
    start: number;
    end: number;
    /** The file's last write: it is stamped, then renamed if `final` is given. */
    finish?: Finish;
  };

/** How the last write of a file written in ranges finishes it. */
export interface Finish {
  meta: EntryMetadata;
  /** Renamed to this once stamped (a file written under a temporary name). */
  final?: string;
}

/** What the worker answers for a batch: operations applied, and the error that stopped it. */
export interface ApplyResult {
  applied: number;
  /** Extended attributes that could not be set (`applyMetadata`), one message each. */
  warnings?: string[];
  error?: { name: string; message: string };
}

/** Bytes queued or being written before `room()` waits. */
const MAX_IN_FLIGHT = 32 << 20;
/** A batch is sent once it holds this many bytes or operations. */
const BATCH_BYTES = 1 << 20;
const BATCH_OPS = 256;

export class RestoreWriter {
  /** Messages of the metadata the worker could not set (extended attributes), in order. */
  readonly warnings: string[] = [];
  #worker: Worker;
  #client: RpcClient;
  #batch: Batch = newBatch();
  /** The current frame's plaintext, and its index in the batch's buffers once referenced. */
  #frame?: { plain: Uint8Array; index: number };
  #inFlight = new Set<Promise<void>>();
  #bytes = 0;
  #failure: unknown;

  #onWritten: (bytes: number) => void;

  /**
   * `onWritten` hears the bytes each batch wrote (see the contract); `workerModule` is the
   * worker's body: tests pass a broken one to see a dead worker handled.
   */
  constructor(
    asRoot: boolean,
    private onDone: (path: string) => void,
    options: { onWritten?: (bytes: number) => void; workerModule?: URL } = {},
  ) {
    this.#onWritten = options.onWritten ?? (() => {});
    const workerModule = options.workerModule ??
      new URL("./restore_writer_worker.ts", import.meta.url);
    this.#worker = new Worker(workerModule.href, {
      type: "module",
      name: "restore-writer",
      // Trusted host code. Narrowed to the target, Deno resolved every component of every path
      // on each call (627,000 failed readlink calls restoring the bench corpus, ~2 s more).
      deno: { permissions: "inherit" },
    });
    const channel = new MessageChannel();
    this.#worker.postMessage({ port: channel.port2, asRoot }, [channel.port2]);
    this.#client = new RpcClient(channel.port1);
    // A worker that dies outside a call (it cannot load, or crashes) would leave its calls
    // pending for ever: fail them instead, so the restore stops and cleans up.
    this.#worker.onerror = (e) => {
      e.preventDefault();
      this.#client.close(new Error(`the restore's writer worker failed: ${e.message}`));
    };
  }

  /** Takes over one frame's plaintext; the next `whole` and `range` calls write from it. */
  frame(plain: Uint8Array): void {
    this.#endFrame();
    this.#frame = { plain, index: -1 };
  }

  /** Creates `path`, writes `data` into it, applies `meta`, and renames it to `final` if given. */
  whole(path: string, data: Uint8Array, meta: EntryMetadata, final?: string): void {
    const at = this.#locate(data);
    this.#push({ op: "whole", path, final, ...at, meta }, path);
  }

  /**
   * Writes `data` at `offset` of the file `path`, new and pre-sized (zeros are skipped, see the
   * contract); `finish` marks the file's last write, and says how to stamp and name it.
   */
  range(path: string, offset: number, data: Uint8Array, finish?: Finish): void {
    const at = this.#locate(data);
    this.#push({ op: "range", path, offset, ...at, finish }, finish ? path : undefined);
  }

  /** Between frames: sends a full batch, then waits while too many bytes are being written. */
  async room(): Promise<void> {
    this.#throwIfFailed();
    this.#endFrame();
    if (this.#batch.bytes >= BATCH_BYTES || this.#batch.ops.length >= BATCH_OPS) this.#send();
    while (this.#bytes > MAX_IN_FLIGHT && this.#inFlight.size > 0) {
      await Promise.race(this.#inFlight);
    }
    this.#throwIfFailed();
  }

  /** Sends what is queued and waits until every operation is applied. */
  async drain(): Promise<void> {
    this.#throwIfFailed();
    this.#endFrame();
    this.#send();
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    this.#throwIfFailed();
  }

  /**
   * After a failure elsewhere, or an interrupt: drops what is not sent yet, fails later calls
   * with `reason` (unless they failed already), and waits for the batches being written, so
   * the caller can clean up knowing nothing more will be written. Never rejects.
   */
  async stop(reason: unknown = new Error("the restore's writer was stopped")): Promise<void> {
    this.#failure ??= reason;
    this.#endFrame();
    for (const b of this.#batch.buffers) release(b);
    this.#batch = newBatch();
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /** Ends the worker. Operations not yet applied are dropped. */
  close(): void {
    this.#endFrame();
    this.#client.close();
    this.#worker.terminate();
  }

  /** Where `data` (a view of the current frame) sits in the batch's buffers. */
  #locate(data: Uint8Array): { buffer: number; start: number; end: number } {
    const frame = this.#frame;
    const start = frame ? data.byteOffset - frame.plain.byteOffset : -1;
    if (
      !frame || data.buffer !== frame.plain.buffer || start < 0 ||
      start + data.length > frame.plain.length
    ) {
      throw new TypeError("RestoreWriter: data must be a view of the current frame's plaintext");
    }
    if (frame.index < 0) {
      frame.index = this.#batch.buffers.length;
      this.#batch.buffers.push(frame.plain);
      this.#batch.bytes += frame.plain.length;
    }
    return { buffer: frame.index, start, end: start + data.length };
  }

  #push(op: WriteOp, finishes: string | undefined): void {
    this.#batch.ops.push(op);
    if (finishes !== undefined) {
      this.#batch.done.push({ op: this.#batch.ops.length - 1, path: finishes });
    }
  }

  /** Frees a frame nothing was written from (one that was is the worker's to free). */
  #endFrame(): void {
    if (this.#frame && this.#frame.index < 0) release(this.#frame.plain);
    this.#frame = undefined;
  }

  #send(): void {
    const batch = this.#batch;
    if (batch.ops.length === 0 || this.#failure !== undefined) return;
    this.#batch = newBatch();
    this.#bytes += batch.bytes;
    // `prepareValues` transfers each frame buffer the plaintext owns whole (copies any other).
    const call: Promise<void> = this.#client.call<ApplyResult>("apply", batch.ops, batch.buffers)
      .then(
        ({ applied, error, warnings }) => {
          this.#onWritten(contentBytes(batch.ops, applied));
          for (const d of batch.done) if (d.op < applied) this.onDone(d.path);
          this.warnings.push(...warnings ?? []);
          if (error) {
            this.#failure ??= Object.assign(new Error(error.message), { name: error.name });
          }
        },
        (err) => {
          this.#failure ??= err;
        },
      ).finally(() => {
        this.#bytes -= batch.bytes;
        this.#inFlight.delete(call);
      });
    this.#inFlight.add(call);
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure;
  }
}

interface Batch {
  ops: WriteOp[];
  buffers: Uint8Array[];
  bytes: number;
  /** Files the batch finishes (with the index of the operation that does), for `onDone`. */
  done: { op: number; path: string }[];
}

/** Bytes of file contents the first `applied` of `ops` wrote. */
function contentBytes(ops: WriteOp[], applied: number): number {
  let n = 0;
  for (let i = 0; i < applied && i < ops.length; i++) n += ops[i].end - ops[i].start;
  return n;
}

function newBatch(): Batch {
  return { ops: [], buffers: [], bytes: 0, done: [] };
}
