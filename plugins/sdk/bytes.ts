/**
 * Byte-buffer helpers shared by the host and plugins.
 *
 * @module
 */

/**
 * Frees the memory behind `bytes` now, instead of when the garbage collector gets to it, by
 * detaching its buffer (`ArrayBuffer.prototype.transfer(0)`). Only for a view that owns its
 * whole buffer and that nothing will read again; anything else is left alone. With several
 * isolates each holding transferred buffers until their own collection, this is what keeps a
 * backup's peak memory down (docs/bench.md).
 */
export function release(bytes: Uint8Array): void {
  const buffer = bytes.buffer;
  if (
    buffer instanceof ArrayBuffer && !buffer.detached && bytes.byteOffset === 0 &&
    bytes.byteLength === buffer.byteLength
  ) {
    buffer.transfer(0);
  }
}
