/**
 * The body of a compressor worker (see `compressor.ts`): zstd over frames, nothing else. Trusted
 * host code, started with no permissions; it never sees a key.
 *
 * @module
 */

import { serveRpc } from "../../plugins/sdk/rpc.ts";
import { compress } from "../crypto/zstd.ts";

self.onmessage = (e: MessageEvent<{ port: MessagePort }>) => {
  serveRpc(e.data.port, "compressor", {
    compress: (plain: Uint8Array, level: number) => compress(plain, level),
  });
};
