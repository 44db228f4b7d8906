/**
 * An append-only byte buffer for a pack being built, so a pack is held once rather than as a
 * list of frames plus their concatenation. It allocates its expected size up front (the kernel
 * commits pages only as they are written), grows by doubling if a pack runs over, and `take()`
 * hands the bytes over in an exactly-sized buffer via `ArrayBuffer.prototype.transfer`, which
 * releases the old allocation at once instead of leaving it to the garbage collector.
 *
 * @module
 */

export class PackBuffer {
  #bytes: Uint8Array;
  #length = 0;

  /** `expected`: the size the pack will most likely reach (target plus a frame). */
  constructor(expected: number) {
    this.#bytes = new Uint8Array(Math.max(expected, 4096));
  }

  get length(): number {
    return this.#length;
  }

  append(bytes: Uint8Array): void {
    const end = this.#length + bytes.length;
    if (end > this.#bytes.length) {
      this.#bytes = new Uint8Array(
        (this.#bytes.buffer as ArrayBuffer).transfer(Math.max(end, this.#bytes.length * 2)),
      );
    }
    this.#bytes.set(bytes, this.#length);
    this.#length = end;
  }

  /** The bytes appended so far, in a buffer of exactly that length. The PackBuffer is spent. */
  take(): Uint8Array {
    const out = new Uint8Array((this.#bytes.buffer as ArrayBuffer).transfer(this.#length));
    this.#bytes = new Uint8Array(0);
    return out;
  }
}
