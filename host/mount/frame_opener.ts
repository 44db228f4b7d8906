/**
 * Opens data frames for a mount on worker threads (`frame_worker.ts`), so that decryption,
 * decompression and blob verification (docs/format.md §6) run beside the thread that talks to
 * the kernel and the storage: a `cat` of a large file keeps both cores busy.
 *
 * @module
 */

import { RpcClient } from "../../plugins/sdk/rpc.ts";
import type { BlobLocation } from "../repository/blob_table.ts";

/** Workers started: the reference machine has 2 cores. */
const WORKERS = 2;

/**
 * Frame workers, each replaced when it dies: an uncaught error ends a worker, and the calls it
 * had in flight fail (the reads waiting on them answer EIO); later calls go to its replacement.
 */
export class FrameOpener {
  #workers: { worker: Worker; client: RpcClient }[] = [];
  #macKey: Uint8Array;
  #closed = false;

  constructor(macKey: Uint8Array, workers = WORKERS) {
    this.#macKey = macKey.slice();
    for (let i = 0; i < workers; i++) this.#workers.push(this.#start(i));
  }

  /** A new worker for slot `i`, which replaces itself there when it dies. */
  #start(i: number): { worker: Worker; client: RpcClient } {
    const worker = new Worker(new URL("./frame_worker.ts", import.meta.url).href, {
      type: "module",
      name: "mount-frames",
      deno: { permissions: "inherit" },
    });
    const channel = new MessageChannel();
    worker.postMessage({ port: channel.port2, macKey: this.#macKey.slice() }, [channel.port2]);
    const client = new RpcClient(channel.port1);
    worker.onerror = (e) => {
      e.preventDefault();
      client.close(new Error(`a mount's frame worker failed: ${e.message}`));
      worker.terminate();
      if (!this.#closed && this.#workers[i]?.worker === worker) this.#workers[i] = this.#start(i);
    };
    return { worker, client };
  }

  /**
   * The plaintext of `frame` (the bytes at `frameOffset` of a pack sealed with `dataKey`), once
   * each of `blobs` in it verifies against its id. `frame` is moved to the worker: do not use
   * it after the call.
   */
  open(
    dataKey: Uint8Array,
    frame: Uint8Array,
    frameOffset: number,
    blobs: BlobLocation[],
  ): Promise<Uint8Array> {
    const least = this.#workers.reduce((a, b) => b.client.pending < a.client.pending ? b : a);
    return least.client.call<Uint8Array>("open", dataKey.slice(), frame, frameOffset, blobs);
  }

  close(): void {
    this.#closed = true;
    for (const { worker, client } of this.#workers) {
      client.close(new Error("the mount is closed"));
      worker.terminate();
    }
    this.#workers = [];
  }
}
