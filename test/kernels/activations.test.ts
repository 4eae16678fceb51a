import { describe, test, expect } from 'vitest';
import { ActKind } from '../../src/kernels/abi.js';
import { activationDerivRef, activationRef } from '../../src/reference/activations.js';
import { UnsupportedError } from '../../src/errors.js';
import { createWasmBackend } from '../../src/wasm/index.js';
import { MODES, type Buf, type Pair, both, growAgain, makePair, randArray, runnableVariants } from './harness.js';
import { ACTIVATION_VALUES } from './activation-values.js';

const f32 = Math.fround;
const SELU_ALPHA = 1.67326319217681884765625, SELU_GAMMA = 1.05070102214813232421875;
const FLT_MAX = 3.4028234663852886e38;
const FLT_TRUE_MIN = 2 ** -149;

/** One activation with its parameters (float32 values) and the points where it has a kink. */
interface Case {
  name: string;
  kind: number;
  a: number;
  b: number;
  c: number;
  kinks: number[];
}
function act(name: string, kind: number, a = 0, b = 0, c = 0, kinks: number[] = []): Case {
  return { name, kind, a: f32(a), b: f32(b), c: f32(c), kinks };
}
const CASES: Case[] = [
  act('relu6', ActKind.CLIP, 0, 6, 0, [0, 6]),
  act('clip(-1, 0.5)', ActKind.CLIP, -1, 0.5, 0, [-1, 0.5]),
  act('leaky relu 0.01', ActKind.LEAKY_RELU, 0.01, 0, 0, [0]),
  act('leaky relu 0.2', ActKind.LEAKY_RELU, 0.2, 0, 0, [0]),
  act('elu 1', ActKind.ELU, 1, 0, 0, [0]),
  act('elu 0.5', ActKind.ELU, 0.5, 0, 0, [0]),
  act('selu', ActKind.SELU, SELU_ALPHA, SELU_GAMMA, 0, [0]),
  act('sigmoid', ActKind.SIGMOID),
  act('hardsigmoid (PyTorch)', ActKind.HARD_SIGMOID, 1 / 6, 0.5, 0, [-3, 3]),
  act('hardsigmoid (ONNX)', ActKind.HARD_SIGMOID, 0.2, 0.5, 0, [-2.5, 2.5]),
  act('hardswish', ActKind.HARD_SWISH, 0, 0, 0, [-3, 3]),
  act('tanh', ActKind.TANH),
  act('softplus', ActKind.SOFTPLUS),
  act('gelu', ActKind.GELU),
  act('gelu tanh', ActKind.GELU_TANH),
  act('silu', ActKind.SILU),
  act('erf', ActKind.ERF),
  act('tf relu(0.1, max 6, threshold 0.5)', ActKind.TF_RELU, 0.1, 6, 0.5, [0.5, 6]),
  act('tf relu(max 6)', ActKind.TF_RELU, 0, 6, 0, [0, 6]),
  act('tf relu(0.3, no max, threshold -1)', ActKind.TF_RELU, 0.3, Infinity, -1, [-1]),
];

test('the cases cover every ActKind', () => {
  expect(new Set(CASES.map((c) => c.kind))).toEqual(new Set(Object.values(ActKind)));
});

/** The float32 neighbours of v (v itself, one step down, one step up). */
function neighbours(v: number): number[] {
  const b = new Float32Array([v]);
  const u = new Int32Array(b.buffer);
  const out = [b[0]];
  for (const d of [-1, 1]) {
    const t = new Float32Array(1);
    new Int32Array(t.buffer)[0] = u[0] + (b[0] >= 0 ? d : -d);
    out.push(t[0]);
  }
  return out;
}

/** 0, +-0, the smallest/largest float32, tiny and large values, and each case's kinks with their neighbours. */
function specialValues(c: Case): number[] {
  const v = [0, -0, FLT_TRUE_MIN, 1e-38, 1e-30, 1e-7, 0.5, 1, 87.5, 88.7, 89, 95, 100, 103.5, 104.5, 1e4, 1e30, FLT_MAX]
    .flatMap((t) => [t, -t]);
  for (const k of c.kinks) if (Number.isFinite(k)) v.push(...neighbours(k));
  return v.map(f32);
}

/** A dense float32 grid over [-20, 20] plus the special values. */
function accuracyPoints(c: Case): Float32Array {
  const N = 1 << 17;
  const xs = new Float32Array(N + 64);
  for (let i = 0; i < N; i++) xs[i] = -20 + (40 * i) / (N - 1);
  const sp = specialValues(c);
  xs.set(sp, N);
  return xs.subarray(0, N + sp.length);
}

/**
 * Accuracy bounds, |wasm - ref| <= rel |ref| + abs (the issue allows rel = abs = 4e-7). Every kind but SIGMOID and
 * SILU evaluates in float64 and rounds once, so each output is within 2^-24 relative of the float64 reference
 * (plus float64's own ~1e-13), or within one float32 denormal step where the result underflows. SIGMOID and SILU
 * run in float32 (sigmoid32.ts): measured worst cases 2.9 (sigmoid), 3.7 (silu), 4.4 (sigmoid') times 2^-24
 * relative, and for silu' 1.6e-7 absolute next to its root at x = -1.2785, where the relative error is unbounded.
 */
const TIGHT = { rel: 6.0e-8, abs: FLT_TRUE_MIN };
const FLOAT32_KINDS = { rel: 3.2e-7, abs: FLT_TRUE_MIN };
function tolerance(kind: number, derivative: boolean): { rel: number; abs: number } {
  if (kind === ActKind.SILU && derivative) return { rel: 3.2e-7, abs: 2e-7 };
  return kind === ActKind.SIGMOID || kind === ActKind.SILU ? FLOAT32_KINDS : TIGHT;
}

function checkAgainst(label: string, xs: Float32Array, got: Float32Array, ref: Float64Array, tol: { rel: number; abs: number }): void {
  let bad = -1, worst = 0;
  for (let i = 0; i < xs.length; i++) {
    const r = ref[i];
    const err = Math.abs(got[i] - r);
    const excess = err - (tol.rel * Math.abs(r) + tol.abs);
    // got === fround(r) also covers results past the float32 range (SELU(FLT_MAX) rounds to Infinity)
    const exact = got[i] === f32(r) || (Number.isNaN(got[i]) && Number.isNaN(r));
    if (!(excess <= 0) && !exact) {
      if (bad < 0 || excess > worst) {
        bad = i;
        worst = excess;
      }
    }
  }
  if (bad >= 0) expect.fail(`${label}: x = ${xs[bad]}: wasm ${got[bad]} vs reference ${ref[bad]}`);
}

/** The accuracy points of a case and the reference's f and f' there (computed once for all kernel builds). */
const accuracyData = new Map<Case, { xs: Float32Array; f: Float64Array; df: Float64Array }>();
function accuracyCase(c: Case): { xs: Float32Array; f: Float64Array; df: Float64Array } {
  let d = accuracyData.get(c);
  if (!d) {
    const xs = accuracyPoints(c);
    d = {
      xs,
      f: Float64Array.from(xs, (v) => activationRef(c.kind, v, c.a, c.b, c.c)),
      df: Float64Array.from(xs, (v) => activationDerivRef(c.kind, v, c.a, c.b, c.c)),
    };
    accuracyData.set(c, d);
  }
  return d;
}

describe.each(runnableVariants())('activation accuracy vs the float64 reference (%s)', (variant) => {
  const be = createWasmBackend({ variant });
  for (const c of CASES) {
    test(c.name, () => {
      const { xs, f, df } = accuracyCase(c);
      const n = xs.length;
      const x = be.memory.alloc(n * 4), y = be.memory.alloc(n * 4), g = be.memory.alloc(n * 4);
      be.memory.f32().set(xs, x >>> 2);
      be.kernels.activationForward(c.kind, x, y, n, c.a, c.b, c.c);
      checkAgainst(`${c.name} forward`, xs, be.memory.f32().slice(y >>> 2, (y >>> 2) + n), f, tolerance(c.kind, false));
      be.memory.f32().fill(1, g >>> 2, (g >>> 2) + n);
      be.kernels.activationGradient(c.kind, x, g, y, n, c.a, c.b, c.c);
      checkAgainst(`${c.name} derivative`, xs, be.memory.f32().slice(y >>> 2, (y >>> 2) + n), df, tolerance(c.kind, true));
      for (const p of [x, y, g]) be.memory.free(p);
    });
  }
});

describe('the float64 reference activations', () => {
  // 1e-12 relative: far below float32's 6e-8 (the kernels' bound), with room for GELU' near its zero at -0.75,
  // where the reference's two terms cancel to 3e-3 of their size
  test('match 30-digit values of the textbook definitions (mpmath) within 1e-12', () => {
    const kinds = ActKind as Record<string, number>;
    for (const [name, a, b, c, x, f, df] of ACTIVATION_VALUES) {
      const kind = kinds[name];
      const fr = activationRef(kind, x, a, b, c), dr = activationDerivRef(kind, x, a, b, c);
      expect(Math.abs(fr - f), `${name}(${x}; ${a}, ${b}, ${c}) = ${fr} vs ${f}`).toBeLessThanOrEqual(1e-12 * Math.abs(f) + 1e-300);
      expect(Math.abs(dr - df), `${name}'(${x}; ${a}, ${b}, ${c}) = ${dr} vs ${df}`).toBeLessThanOrEqual(1e-12 * Math.abs(df) + 1e-300);
    }
  });

  test('derivatives at the kinks take PyTorch autograd values', () => {
    const at = (c: Case, x: number) => activationDerivRef(c.kind, x, c.a, c.b, c.c);
    const [relu6, , leaky, , elu, , selu, , hsig, , hswish] = CASES;
    expect([at(relu6, 0), at(relu6, 6)]).toEqual([0, 0]); // hardtanh_backward is strict at both ends
    expect(at(leaky, 0)).toBe(f32(0.01)); // leaky_relu_backward: x > 0 ? g : g * slope
    expect(at(elu, 0)).toBe(1); // elu_backward: x <= 0 takes alpha * exp(x)
    expect(at(selu, 0)).toBe(SELU_GAMMA * SELU_ALPHA);
    expect([at(hsig, -3), at(hsig, 3)]).toEqual([0, 0]); // hardsigmoid_backward: strict
    expect([at(hswish, -3), at(hswish, 3)]).toEqual([-0.5, 1.5]); // hardswish_backward: x/3 + 1/2 on [-3, 3]
    const tf = CASES.find((c) => c.name.startsWith('tf relu(0.1'))!;
    expect([at(tf, 0.5), at(tf, 6)]).toEqual([f32(0.1), 0]);
    expect(activationRef(tf.kind, 0.5, tf.a, tf.b, tf.c)).toBe(0); // Keras: x * (x > threshold) - slope * relu(threshold - x)
    const relu = act('relu', ActKind.TF_RELU, 0, Infinity, 0);
    expect([activationRef(relu.kind, 0, 0, Infinity, 0), at(relu, 0), at(relu, 1e-30)]).toEqual([0, 0, 1]);
  });

  test('gradients match central finite differences of the reference away from the kinks', () => {
    const h = 1e-3;
    for (const c of CASES) {
      const f = (x: number) => activationRef(c.kind, x, c.a, c.b, c.c);
      const d = (x: number, s: number) => (f(x + s) - f(x - s)) / (2 * s);
      for (let x = -8.03; x < 8; x += 0.173) {
        if (c.kinks.some((k) => Math.abs(x - k) < 4 * h)) continue;
        const fd = (4 * d(x, h / 2) - d(x, h)) / 3; // Richardson: error O(h^4)
        const an = activationDerivRef(c.kind, x, c.a, c.b, c.c);
        expect(Math.abs(an - fd), `${c.name}'(${x}) = ${an}, finite differences ${fd}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(fd)));
      }
    }
  });

  test('an unknown kind is an UnsupportedError', () => {
    expect(() => activationRef(14, 0)).toThrow(UnsupportedError);
    expect(() => activationDerivRef(-1, 0)).toThrow(/unknown activation kind -1/);
    expect(() => activationRef(1.5, 0)).toThrow(UnsupportedError);
  });
});

const LENS = [1, 3, 5, 37, 1031];

/** WASM vs the reference kernels: both round, so one more float32 rounding on top of the accuracy bound. */
function kernelTolerance(kind: number, derivative: boolean): { rel: number; abs: number } {
  const t = tolerance(kind, derivative);
  return t === TIGHT ? { rel: 2 ** -23, abs: FLT_TRUE_MIN } : { rel: t.rel + 2 ** -24, abs: t.abs };
}

/**
 * Per element: |wasm - ref| <= rel |ref| + abs or equal; by default rel = 2^-23 (one float32 step: both round a
 * float64 value, and the two float64 values differ by ~1e-13).
 */
function expectSameFloats(p: Pair, b: Buf, label: string, tol = { rel: 2 ** -23, abs: FLT_TRUE_MIN }): void {
  p.checkGuards(label);
  const w = p.readWasm(b), r = p.readRef(b);
  let nonZero = false;
  for (let i = 0; i < r.length; i++) {
    nonZero ||= r[i] !== 0;
    const same = Object.is(w[i], r[i]) || w[i] === r[i] || (Number.isNaN(w[i]) && Number.isNaN(r[i]));
    if (!same && !(Math.abs(w[i] - r[i]) <= tol.rel * Math.abs(r[i]) + tol.abs)) {
      expect.fail(`${label}: element ${i}: wasm ${w[i]} vs reference ${r[i]}`);
    }
  }
  expect(nonZero, `${label}: reference output is all zero`).toBe(true);
}

/** Finite inputs over [-8, 8] with the special values and kinks mixed in. */
function inputs(c: Case, len: number, seed: number): Float32Array {
  const x = randArray(len, seed, -8, 8);
  const sp = specialValues(c);
  for (let i = 0; i < len; i += 3) x[i] = sp[(i / 3 + seed) % sp.length];
  x[len - 1] = 0.25; // inside every case's active range, so no output is all zero
  return x;
}

describe.each(runnableVariants())('activation kernels vs reference (%s)', (variant) => {
  describe.each(MODES)('%s memory', (mode) => {
    const p = makePair(variant, mode);

    test('forward and gradient at odd lengths, every kind', () => {
      let seed = 1;
      for (const c of CASES) {
        for (const len of LENS) {
          const x = p.f32(inputs(c, len, (seed += 7)));
          const g = p.f32(randArray(len, seed + 1));
          const y = p.f32(randArray(len, seed + 2, 50, 60));
          both(p, (k, at) => k.activationForward(c.kind, at(x), at(y), len, c.a, c.b, c.c));
          expectSameFloats(p, y, `${c.name} forward, len ${len}`, kernelTolerance(c.kind, false));
          both(p, (k, at) => k.activationGradient(c.kind, at(x), at(g), at(y), len, c.a, c.b, c.c));
          if (len > 1 || c.kind !== ActKind.CLIP) expectSameFloats(p, y, `${c.name} gradient, len ${len}`, kernelTolerance(c.kind, true));
          p.release();
        }
      }
    });

    test('in place: y = f(y), g = g * f\'(x), x = g * f\'(x)', () => {
      growAgain(p, mode);
      let seed = 500;
      for (const c of CASES) {
        for (const len of [5, 37]) {
          const data = inputs(c, len, (seed += 7)), gd = randArray(len, seed + 1);
          const x = p.f32(data), g = p.f32(gd);
          both(p, (k, at) => k.activationGradient(c.kind, at(x), at(g), at(g), len, c.a, c.b, c.c));
          expectSameFloats(p, g, `${c.name} gradient into g, len ${len}`, kernelTolerance(c.kind, true));
          p.set(g, gd);
          both(p, (k, at) => k.activationGradient(c.kind, at(x), at(g), at(x), len, c.a, c.b, c.c));
          expectSameFloats(p, x, `${c.name} gradient into x, len ${len}`, kernelTolerance(c.kind, true));
          p.set(x, data);
          both(p, (k, at) => k.activationForward(c.kind, at(x), at(x), len, c.a, c.b, c.c));
          expectSameFloats(p, x, `${c.name} forward in place, len ${len}`, kernelTolerance(c.kind, false));
          // in place equals out of place
          const y = p.f32(len);
          p.set(x, data);
          p.wasm.kernels.activationForward(c.kind, x.w, y.w, len, c.a, c.b, c.c);
          p.wasm.kernels.activationForward(c.kind, x.w, x.w, len, c.a, c.b, c.c);
          expect(Array.from(p.readWasm(x)), c.name).toEqual(Array.from(p.readWasm(y)));
          p.release();
        }
      }
    });

    test('an element gets the same bits at every position (SIMD body and scalar tail agree)', () => {
      const len = 7; // 4 in the SIMD body, 3 in the tail
      for (const c of CASES) {
        const vals = inputs(c, 40, 3);
        const x = p.f32(len), y = p.f32(len), g = p.f32(Float32Array.from({ length: len }, (_, i) => 0.37 - 0.1 * i));
        for (const v of vals) {
          p.set(x, new Float32Array(len).fill(v));
          p.wasm.kernels.activationForward(c.kind, x.w, y.w, len, c.a, c.b, c.c);
          const fw = p.readWasm(y);
          expect(new Set(Array.from(fw, (t) => (Number.isNaN(t) ? 'NaN' : Object.is(t, -0) ? '-0' : t))).size, `${c.name}(${v})`).toBe(1);
          p.set(g, new Float32Array(len).fill(0.37));
          p.wasm.kernels.activationGradient(c.kind, x.w, g.w, y.w, len, c.a, c.b, c.c);
          const gw = p.readWasm(y);
          expect(new Set(Array.from(gw, (t) => (Number.isNaN(t) ? 'NaN' : Object.is(t, -0) ? '-0' : t))).size, `${c.name}'(${v})`).toBe(1);
        }
        p.release();
      }
    });

    test('an unknown kind throws UnsupportedError and writes nothing', () => {
      const x = p.f32(randArray(8, 1)), y = p.f32(randArray(8, 2, 50, 60));
      for (const kind of [-1, 14, 2.5, NaN]) {
        for (const k of [p.wasm.kernels, p.ref.kernels]) {
          const [xp, yp] = k === p.wasm.kernels ? [x.w, y.w] : [x.r, y.r];
          expect(() => k.activationForward(kind, xp, yp, 8, 0, 0, 0)).toThrow(UnsupportedError);
          expect(() => k.activationGradient(kind, xp, xp, yp, 8, 0, 0, 0)).toThrow(UnsupportedError);
        }
      }
      expect(Array.from(p.readWasm(y))).toEqual(Array.from(randArray(8, 2, 50, 60)));
      // the raw export skips an unknown code rather than writing garbage
      const ex = (p.wasm as ReturnType<typeof createWasmBackend>).exports;
      ex.activation_forward_f32(99, x.w, y.w, 8, 0, 0, 0);
      ex.activation_gradient_f32(-3, x.w, x.w, y.w, 8, 0, 0, 0);
      expect(Array.from(p.readWasm(y))).toEqual(Array.from(randArray(8, 2, 50, 60)));
      p.release();
    });
  });
});
