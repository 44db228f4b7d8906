/**
 * The framing a plugin subprocess speaks on its stdin and stdout (docs/plugins.md §4.7): each
 * frame is a 4-byte big-endian length, then that many bytes of `[channel, message]` in V8's
 * structured-clone format (`node:v8` `serialize`), so a message crosses exactly as it would
 * between a worker and its host (`Uint8Array`s, errors as `{ name, message }`, nested objects).
 * Channel 0 is the worker's global scope (`init`, `ready`/`error`); channel `n > 0` is the
 * `n`-th port handed over in `init`. The host and `subprocess_main.ts` both use this file.
 *
 * @module
 */

import v8 from "node:v8";

/** One frame: which channel, and the message on it. */
export type Frame = [channel: number, message: unknown];

/** Frames longer than this are refused: a plugin cannot make the host allocate without bound. */
export const MAX_FRAME = 1 << 30;

/** The bytes of one frame. */
export function encodeFrame(channel: number, message: unknown): Uint8Array {
  const body = v8.serialize([channel, message]);
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

/**
 * Reads frames from `stream` as they arrive. A length over {@link MAX_FRAME}, a body that does
 * not decode to `[channel, message]`, or a stream ending inside a frame is a `TypeError`
 * (a plugin that writes anything but frames to its stdout ends that way).
 */
export async function* readFrames(stream: ReadableStream<Uint8Array>): AsyncGenerator<Frame> {
  let chunks: Uint8Array[] = [];
  let head = 0; // chunks before it are used up
  let buffered = 0;
  /** The first `n` buffered bytes as one array (joined only when they span chunks), removed. */
  const take = (n: number): Uint8Array => {
    const first = chunks[head];
    const out = first.length >= n ? first.subarray(0, n) : join(chunks, head, n);
    let left = n;
    while (left > 0) {
      if (chunks[head].length <= left) left -= chunks[head++].length;
      else {
        chunks[head] = chunks[head].subarray(left);
        left = 0;
      }
    }
    if (head > 1024) {
      chunks = chunks.slice(head);
      head = 0;
    }
    buffered -= n;
    return out;
  };
  let length = -1;
  for await (const chunk of stream) {
    chunks.push(chunk);
    buffered += chunk.length;
    while (true) {
      if (length < 0 && buffered >= 4) {
        length = new DataView(take(4).slice().buffer).getUint32(0);
        if (length > MAX_FRAME) throw new TypeError(`a frame of ${length} bytes is too long`);
      }
      if (length < 0 || buffered < length) break;
      const frame = v8.deserialize(take(length));
      length = -1;
      if (!Array.isArray(frame) || frame.length !== 2 || !Number.isInteger(frame[0])) {
        throw new TypeError("a frame is not [channel, message]");
      }
      yield frame as Frame;
    }
  }
  if (buffered > 0 || length >= 0) throw new TypeError("the stream ended inside a frame");
}

/** The first `n` bytes of `chunks` from index `from`, copied into one array. */
function join(chunks: Uint8Array[], from: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let at = 0;
  for (let i = from; i < chunks.length && at < n; i++) {
    const part = chunks[i].subarray(0, n - at);
    out.set(part, at);
    at += part.length;
  }
  return out;
}
