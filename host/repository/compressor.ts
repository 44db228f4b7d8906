/**
 * Frame compression off the main thread. zstd is about a quarter of a first backup's CPU; a
 * compressor worker does it while the main thread computes blob ids and seals frames, and the
 * engine worker reads and chunks, so a backup keeps two cores busy (docs/design.md §8).
 *
 * Contract: `compress(plain, level)` resolves to exactly what `zstd.compress` returns. `plain`
 * is moved to the worker (do not use it afterwards). Calls may overlap; each resolves with its
 * own result. `close()` ends the workers; later calls reject.
 *
 * @module
 */

import { RpcClient } from "../../plugins/sdk/rpc.ts";

export type FrameCompressor = (plain: Uint8Array, level: number) => Promise<Uint8Array>;

export class CompressorPool {
  #workers: Worker[] = [];
  #clients: RpcClient[] = [];
  #next = 0;

  /** Starts `size` workers (default: one per core beyond the first, at least one). */
  constructor(size = Math.max(1, navigator.hardwareConcurrency - 1)) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(new URL("./compressor_worker.ts", import.meta.url).href, {
        type: "module",
        name: "compressor",
        deno: { permissions: "none" },
      });
      const channel = new MessageChannel();
      worker.postMessage({ port: channel.port2 }, [channel.port2]);
      this.#workers.push(worker);
      this.#clients.push(new RpcClient(channel.port1));
    }
  }

  readonly compress: FrameCompressor = (plain, level) => {
    const client = this.#clients[this.#next++ % this.#clients.length];
    return client.call<Uint8Array>("compress", plain, level);
  };

  close(): void {
    for (const c of this.#clients) c.close();
    for (const w of this.#workers) w.terminate();
    this.#clients = [];
    this.#workers = [];
  }
}
