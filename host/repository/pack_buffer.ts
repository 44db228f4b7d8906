/**
 * An append-only byte buffer for a pack being built, so a pack is held once rather than as a
 * list of frames plus their concatenation, and never copied when it is finished.
 *
 * It is a resizable `ArrayBuffer` that reserves the expected size up front and grows into it
 * (the memory is committed only as it is used). `take()` hands the bytes over without a copy:
 * the buffer already has exactly their length, so the view owns its whole buffer and can be
 * transferred to the storage worker as is. (`ArrayBuffer.prototype.transfer(length)` to trim a
 * fixed-length buffer copies the bytes in V8, holding the pack twice for a moment: measured as
 * a 64 MiB step in a first backup's peak RSS, docs/bench.md.) A pack that runs past the
 * reservation is copied once into one twice the size.
 *
 * @module
 */

export class PackBuffer {
  #buffer: ArrayBuffer;
  #bytes: Uint8Array;

  /** `expected`: the size the pack will most likely reach (target plus a frame). */
  constructor(expected: number) {
    this.#buffer = new ArrayBuffer(0, { maxByteLength: Math.max(expected, 4096) });
    this.#bytes = new Uint8Array(this.#buffer); // tracks the buffer's length
  }

  get length(): number {
    return this.#buffer.byteLength;
  }

  append(bytes: Uint8Array): void {
    const start = this.#buffer.byteLength;
    const end = start + bytes.length;
    if (end > this.#buffer.maxByteLength) {
      const bigger = new ArrayBuffer(start, {
        maxByteLength: Math.max(end, this.#buffer.maxByteLength * 2),
      });
      new Uint8Array(bigger).set(this.#bytes);
      this.#buffer.transfer(0); // frees the old bytes now
      this.#buffer = bigger;
      this.#bytes = new Uint8Array(bigger);
    }
    this.#buffer.resize(end);
    this.#bytes.set(bytes, start);
  }

  /**
   * The bytes appended so far, in a view of the whole buffer (which has exactly their length;
   * do not resize it). The PackBuffer is spent.
   */
  take(): Uint8Array {
    const out = new Uint8Array(this.#buffer, 0, this.#buffer.byteLength);
    this.#buffer = new ArrayBuffer(0);
    this.#bytes = new Uint8Array(0);
    return out;
  }
}
