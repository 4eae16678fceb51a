/**
 * erf and erfc in float64 for the reference activations (JavaScript's Math has neither). Deliberately a different
 * method from the kernels' fitted polynomials (assembly/erf.ts), so each checks the other:
 *  - |x| < 2: the series erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_n 2^n x^(2n+1) / (1*3*...*(2n+1))
 *    (all terms positive: no cancellation; at most ~40 terms);
 *  - x >= 2: the continued fraction erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))),
 *    evaluated bottom-up from a fixed depth of 80 (converged to double precision for x >= 2).
 * Relative error about 1e-15 for erf, and for erfc wherever it is a normal double (up to 6e-14 near x = 26, from
 * exp(-x^2)); checked against 30-digit values in test/kernels/activation-values.ts.
 */
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const INV_SQRT_PI = 1 / Math.sqrt(Math.PI);
const CF_DEPTH = 80;

function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 0; Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
    term *= (2 * x2) / (2 * n + 3);
    sum += term;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/** erfc(x) for x >= 2. */
function erfcContinuedFraction(x: number): number {
  let f = x;
  for (let k = CF_DEPTH; k >= 1; k--) f = x + k / 2 / f;
  return (Math.exp(-x * x) * INV_SQRT_PI) / f;
}

export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 2) return erfSeries(x);
  const r = ax === Infinity ? 1 : 1 - erfcContinuedFraction(ax);
  return x < 0 ? -r : r;
}

export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x >= 2) return x === Infinity ? 0 : erfcContinuedFraction(x);
  if (x <= -2) return 2 - erfc(-x);
  return 1 - erfSeries(x); // erfc(2) = 0.0047: at most ~2 digits lost, still ~1e-14
}
