/**
 * The body of a compressor worker (see `compressor.ts`): zstd over frames, nothing else. Trusted
 * host code, started with no permissions; it never sees a key.
 *
 * @module
 */

import { serveRpc } from "../../plugins/sdk/rpc.ts";
import { compress } from "../crypto/zstd.ts";
import { release } from "../crypto/bytes.ts";

self.onmessage = (e: MessageEvent<{ port: MessagePort }>) => {
  serveRpc(e.data.port, "compressor", {
    compress: (plain: Uint8Array, level: number) => {
      const out = compress(plain, level);
      release(plain); // moved here by the host; free it now, not at this isolate's next GC
      return out;
    },
  });
};
