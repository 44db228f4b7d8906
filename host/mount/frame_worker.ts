/// <reference lib="deno.worker" />
/**
 * The body of a mount's frame workers (`frame_opener.ts`): opens a data pack's frame
 * (docs/format.md §6: authenticated decryption, then zstd) and verifies the blobs asked for
 * against their ids, off the thread that answers the kernel. Trusted host code; it holds the
 * repository's MAC key and is given each pack's data key with its frames.
 *
 * @module
 */

import { serveRpc } from "../../plugins/sdk/rpc.ts";
import type { BlobLocation } from "../repository/blob_table.ts";

// Loaded after `onmessage` is set: a message that comes while a static import of it (and its
// crypto libraries) still evaluates finds no handler and is lost.
const pack = import("../repository/pack.ts");

self.onmessage = (e: MessageEvent<{ port: MessagePort; macKey: Uint8Array }>) => {
  const { port, macKey } = e.data;
  serveRpc(port, "mount-frames", {
    /**
     * The plaintext of `frame` (at `frameOffset` of its pack), once every one of `blobs` in it
     * verifies; `IntegrityError` when the frame does not open or a blob does not match its id.
     */
    open: async (
      dataKey: Uint8Array,
      frame: Uint8Array,
      frameOffset: number,
      blobs: BlobLocation[],
    ): Promise<Uint8Array> => {
      const { blobFromFrame, openFrameAsync } = await pack;
      const plain = await openFrameAsync(dataKey, frame, frameOffset);
      for (const b of blobs) blobFromFrame(plain, b, macKey);
      return plain;
    },
  });
};
