import type { Memory } from './abi.js';

const ALIGN = 16;

/** wasm32 linear memory: 65536 pages of 64 KiB. */
export const WASM32_MAX_BYTES = 2 ** 32;

/** The linear memory cannot grow to the size asked for (wasm32 holds at most 4 GiB). */
export class MemoryLimitError extends RangeError {}

/**
 * A first-fit free-list allocator over a growable linear memory. Blocks are 16-byte aligned and
 * zero-filled on allocation. `grow(minBytes)` must make the memory at least minBytes long; the
 * views are re-derived from `buffer()` after every growth, so nobody holds a detached view.
 */
export class Arena implements Memory {
  private readonly sizes = new Map<number, number>();
  /** Free blocks sorted by address: [ptr, size]. */
  private free_: Array<[number, number]> = [];
  private top: number;
  private usedBytes = 0;
  private f32View: Float32Array;
  private i32View: Int32Array;

  constructor(
    /** First usable byte address (above any static data of the module). */
    base: number,
    private readonly buffer: () => ArrayBuffer,
    private readonly grow: (minBytes: number) => void,
  ) {
    this.top = alignUp(Math.max(base, ALIGN));
    const buf = buffer();
    this.f32View = new Float32Array(buf);
    this.i32View = new Int32Array(buf);
  }

  alloc(bytes: number): number {
    if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`arena: bad allocation size ${bytes}`);
    const size = alignUp(Math.max(bytes, ALIGN));
    let ptr = -1;
    for (let i = 0; i < this.free_.length; i++) {
      const [p, s] = this.free_[i];
      if (s >= size) {
        ptr = p;
        if (s === size) this.free_.splice(i, 1);
        else this.free_[i] = [p + size, s - size];
        break;
      }
    }
    if (ptr < 0) {
      ptr = this.top;
      this.top += size;
      if (this.top > this.buffer().byteLength) this.grow(this.top);
    }
    this.refreshViews();
    this.sizes.set(ptr, size);
    this.usedBytes += size;
    new Uint8Array(this.buffer(), ptr, size).fill(0);
    return ptr;
  }

  free(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) throw new RangeError(`arena: free of unknown block ${ptr}`);
    this.sizes.delete(ptr);
    this.usedBytes -= size;
    // insert sorted and coalesce with neighbours
    let i = 0;
    while (i < this.free_.length && this.free_[i][0] < ptr) i++;
    this.free_.splice(i, 0, [ptr, size]);
    if (i + 1 < this.free_.length && this.free_[i][0] + this.free_[i][1] === this.free_[i + 1][0]) {
      this.free_[i][1] += this.free_[i + 1][1];
      this.free_.splice(i + 1, 1);
    }
    if (i > 0 && this.free_[i - 1][0] + this.free_[i - 1][1] === this.free_[i][0]) {
      this.free_[i - 1][1] += this.free_[i][1];
      this.free_.splice(i, 1);
      i--;
    }
    // a free block at the top returns to the bump region
    const last = this.free_[this.free_.length - 1];
    if (last && last[0] + last[1] === this.top) {
      this.top = last[0];
      this.free_.pop();
    }
  }

  /**
   * The largest block alloc() can still hand out without exceeding `maxBytes` (WebAssembly's 4 GiB
   * for wasm32): what lies above the top plus a free block that ends at the top. Callers check it
   * before a large allocation, so that a request that cannot fit fails at once instead of after
   * growing the memory.
   */
  available(maxBytes = WASM32_MAX_BYTES): number {
    let largestFree = 0;
    for (const [, s] of this.free_) largestFree = Math.max(largestFree, s);
    return Math.max(largestFree, maxBytes - this.top);
  }

  /** Bytes currently handed out. */
  used(): number {
    return this.usedBytes;
  }

  f32(): Float32Array {
    this.refreshViews();
    return this.f32View;
  }

  i32(): Int32Array {
    this.refreshViews();
    return this.i32View;
  }

  byteLength(): number {
    return this.buffer().byteLength;
  }

  private refreshViews(): void {
    const buf = this.buffer();
    if (this.f32View.buffer !== buf) {
      this.f32View = new Float32Array(buf);
      this.i32View = new Int32Array(buf);
    }
  }
}

export function alignUp(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}
