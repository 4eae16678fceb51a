/**
 * Test harness: runs the same kernel call on a WASM backend and on the TypeScript reference
 * backend (src/reference/kernels.ts) with identical inputs, and compares the outputs.
 */
import { expect } from 'vitest';
import type { Backend } from '../../src/kernels/abi.js';
import { createReferenceBackend } from '../../src/reference/kernels.js';
import { createWasmBackend, wasmFeatures, type WasmVariant } from '../../src/wasm/index.js';
import { mulberry32 } from '../../src/evaluate/random.js';

/** Variants this runtime can execute (relaxed only where the engine supports relaxed SIMD). */
export function runnableVariants(): WasmVariant[] {
  const f = wasmFeatures();
  const v: WasmVariant[] = [];
  if (f.simd) v.push('simd');
  if (f.simd && f.relaxedSimd) v.push('relaxed');
  v.push('scalar');
  return v;
}

/** Deterministic PRNG (mulberry32, the evaluation module's). */
export const rng = mulberry32;

export function randArray(len: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(len);
  for (let i = 0; i < len; i++) a[i] = lo + (hi - lo) * r();
  return a;
}

/** A buffer allocated in both backends with the same contents. */
export interface Buf {
  w: number;
  r: number;
  len: number;
  int: boolean;
  /** Byte address (WASM) of the guard zone right after the buffer's contents. */
  guard?: number;
}

/** Floats of sentinel written after every WASM buffer; a kernel writing out of bounds is caught. */
const GUARD = 16;
const SENTINEL = -12345.5; // exactly representable in float32

export class Pair {
  readonly wasm: Backend;
  readonly ref: Backend;
  private live: Buf[] = [];
  private big: number[] = [];

  constructor(variant: WasmVariant) {
    this.wasm = createWasmBackend({ variant });
    this.ref = createReferenceBackend();
  }

  /** Float32 buffer with the given contents (or zeros / garbage). */
  f32(data: Float32Array | number): Buf {
    const len = typeof data === 'number' ? data : data.length;
    const b: Buf = { w: this.wasm.memory.alloc(len * 4 + GUARD * 4), r: this.ref.memory.alloc(len * 4), len, int: false };
    this.addGuard(b, len * 4);
    if (typeof data !== 'number') {
      this.wasm.memory.f32().set(data, b.w >> 2);
      this.ref.memory.f32().set(data, b.r >> 2);
    }
    this.live.push(b);
    return b;
  }

  i32(data: Int32Array | number): Buf {
    const len = typeof data === 'number' ? data : data.length;
    const b: Buf = { w: this.wasm.memory.alloc(len * 4 + GUARD * 4), r: this.ref.memory.alloc(len * 4), len, int: true };
    this.addGuard(b, len * 4);
    if (typeof data !== 'number') {
      this.wasm.memory.i32().set(data, b.w >> 2);
      this.ref.memory.i32().set(data, b.r >> 2);
    }
    this.live.push(b);
    return b;
  }

  /** Fills a buffer with the same values in both backends (e.g. garbage in an output). */
  set(b: Buf, data: ArrayLike<number>): void {
    if (b.int) {
      this.wasm.memory.i32().set(data, b.w >> 2);
      this.ref.memory.i32().set(data, b.r >> 2);
    } else {
      this.wasm.memory.f32().set(data, b.w >> 2);
      this.ref.memory.f32().set(data, b.r >> 2);
    }
  }

  readWasm(b: Buf): Float32Array | Int32Array {
    return b.int ? this.wasm.memory.i32().slice(b.w >> 2, (b.w >> 2) + b.len) : this.wasm.memory.f32().slice(b.w >> 2, (b.w >> 2) + b.len);
  }

  readRef(b: Buf): Float32Array | Int32Array {
    return b.int ? this.ref.memory.i32().slice(b.r >> 2, (b.r >> 2) + b.len) : this.ref.memory.f32().slice(b.r >> 2, (b.r >> 2) + b.len);
  }

  /** Allocates (and keeps) a large block in the WASM memory so later buffers sit above it and memory grows. */
  growWasm(bytes: number): void {
    this.big.push(this.wasm.memory.alloc(bytes));
  }

  /** Writes the sentinel zone after the first `bytes` bytes of b (WASM side). */
  addGuard(b: Buf, bytes: number): void {
    b.guard = b.w + bytes;
    this.wasm.memory.f32().fill(SENTINEL, b.guard >> 2, (b.guard >> 2) + GUARD);
  }

  /** Fails if any kernel wrote past the end of a live buffer. */
  checkGuards(label: string): void {
    const f = this.wasm.memory.f32();
    for (const b of this.live) {
      if (b.guard === undefined) continue;
      for (let i = 0; i < GUARD; i++) {
        if (f[(b.guard >> 2) + i] !== SENTINEL) {
          expect.fail(`${label}: write past the end of a buffer (${b.len} floats at ${b.w}, guard float ${i} = ${f[(b.guard >> 2) + i]})`);
        }
      }
    }
  }

  /** Frees every buffer of the current case (the grown block stays). */
  release(): void {
    this.checkGuards('release');
    for (const b of this.live) {
      this.wasm.memory.free(b.w);
      this.ref.memory.free(b.r);
    }
    this.live = [];
  }
}

/** max |wasm - ref| / max |ref|, NaN-aware (NaN must match NaN). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): { err: number; scale: number } {
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  let err = 0;
  for (let i = 0; i < b.length; i++) {
    const x = a[i], y = b[i];
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (!(Number.isNaN(x) && Number.isNaN(y))) return { err: Infinity, scale };
      continue;
    }
    if (x === y) continue; // also equal infinities
    err = Math.max(err, Math.abs(x - y));
  }
  return { err: scale > 0 ? err / scale : err, scale };
}

/** Compares an output buffer of both backends; fails with a useful message. */
export function expectClose(p: Pair, b: Buf, label: string, tol = 1e-5, requireNonZero = true): void {
  p.checkGuards(label);
  const w = p.readWasm(b), r = p.readRef(b);
  expect(w.length).toBe(r.length);
  if (b.int) {
    let firstBad = -1;
    for (let i = 0; i < r.length && firstBad < 0; i++) if (w[i] !== r[i]) firstBad = i;
    expect(firstBad, `${label}: first differing index ${firstBad} (wasm ${w[firstBad]} vs ref ${r[firstBad]})`).toBe(-1);
    return;
  }
  const { err, scale } = relErr(w, r);
  if (requireNonZero && r.length > 0) expect(scale, `${label}: reference output is all zero (test would be vacuous)`).toBeGreaterThan(0);
  expect(err, `${label}: relative error ${err} (scale ${scale})`).toBeLessThanOrEqual(tol);
}

import type { Kernels } from '../../src/kernels/abi.js';

/** A pointer resolver: the Buf's address in the backend being run (0 stays 0 = "no buffer"). */
export type At = (b: Buf | 0) => number;

/** Runs the same call on both backends. */
export function both(p: Pair, call: (k: Kernels, at: At, which: 'wasm' | 'ref') => void): void {
  call(p.wasm.kernels, (b) => (b === 0 ? 0 : b.w), 'wasm');
  call(p.ref.kernels, (b) => (b === 0 ? 0 : b.r), 'ref');
}

/** Scratch for conv kernels: each backend gets the size it asks for. */
export function scratchFor(p: Pair, desc: Int32Array): Buf {
  const bw = p.wasm.kernels.convScratchBytes(desc), br = p.ref.kernels.convScratchBytes(desc);
  const b: Buf = { w: p.wasm.memory.alloc(bw + GUARD * 4), r: p.ref.memory.alloc(br), len: 0, int: false };
  p.addGuard(b, bw);
  (p as unknown as { live: Buf[] }).live.push(b);
  dirtyScratch(p, b, bw);
  return b;
}

/** Fills the WASM scratch with garbage, so a kernel that relies on a zeroed scratch fails. */
export function dirtyScratch(p: Pair, b: Buf, bytes: number): void {
  const len = Math.floor(bytes / 4);
  if (len > 0) p.wasm.memory.f32().set(randArray(len, len, 1e3, 2e3), b.w >> 2);
}

/**
 * The two memory situations every kernel suite runs in: 'fresh' (a new instance) and 'grown'
 * (a canary is written, then a large block forces memory.grow, and all buffers sit above it).
 */
export const MODES = ['fresh', 'grown'] as const;
export type Mode = (typeof MODES)[number];

export function makePair(variant: WasmVariant, mode: Mode): Pair {
  const p = new Pair(variant);
  if (mode === 'grown') {
    const before = p.wasm.memory.byteLength();
    const canary = p.f32(randArray(1000, 99));
    p.growWasm(Math.max(before, 8 << 20));
    expect(p.wasm.memory.byteLength()).toBeGreaterThan(before);
    expectClose(p, canary, 'canary after grow', 0);
  }
  return p;
}

/** In grown mode, grows the WASM memory again (between runs of a test). */
export function growAgain(p: Pair, mode: Mode): void {
  if (mode !== 'grown') return;
  const before = p.wasm.memory.byteLength();
  p.growWasm(before);
  expect(p.wasm.memory.byteLength()).toBeGreaterThan(before);
}
