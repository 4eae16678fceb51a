// erf and erfc in float64 (AssemblyScript's Math has neither). The activations round the result to float32,
// so these aim far below float32's 2^-24: about 1e-14 relative over the float32 range. The polynomials are our own
// Chebyshev fits, reproduced by scripts/fit-erf.py:
//   |x| < 1:       erf(x) = x * P(x^2)
//   1 <= x <= 11:  erfc(x) = t * exp(-x^2 + G(u)),  t = 2 / (2 + x),  u = (t - 16/39) / (10/39) in [-1, 1]
//   x > 11:        erfc(x) = 0 (below 2e-54: zero in float32, even after GELU's factor x/2)

// @ts-ignore: decorator
@inline function erfOverX(z: f64): f64 {
  // P(z), z = x^2 in [0, 1], highest degree first; max abs error 3.9e-16
  let p: f64 = 9.4285969568341643e-9;
  p = p * z - 1.5188281247335167e-7;
  p = p * z + 1.6310356513871741e-6;
  p = p * z - 1.4913300906316396e-5;
  p = p * z + 1.2054681918310599e-4;
  p = p * z - 8.5483048717827406e-4;
  p = p * z + 5.2239771541053047e-3;
  p = p * z - 2.6866170586496872e-2;
  p = p * z + 1.1283791670580422e-1;
  p = p * z - 3.7612638903174400e-1;
  p = p * z + 1.1283791670955122;
  return p;
}

/** erfc(x) for x >= 1 (relative error about 1e-14). */
function erfcTail(x: f64): f64 {
  if (x > 11) return 0;
  const t = 2 / (2 + x);
  const u = (t - 16.0 / 39.0) * 3.9;
  // G(u), highest degree first; max abs error 2.8e-15 (an absolute error in the exponent is a relative error of erfc)
  let g: f64 = -8.8132994063454000e-10;
  g = g * u + 9.0034901815609980e-10;
  g = g * u + 1.2463116656142470e-8;
  g = g * u - 2.4527235568706989e-8;
  g = g * u - 1.2374143522654153e-7;
  g = g * u + 4.0383338879214378e-7;
  g = g * u + 1.1685014857499050e-6;
  g = g * u - 5.6344060347504686e-6;
  g = g * u - 1.2659728309833858e-5;
  g = g * u + 7.7181333194346962e-5;
  g = g * u + 1.9438045474439332e-4;
  g = g * u - 1.1407768181762008e-3;
  g = g * u - 5.0236433236581344e-3;
  g = g * u + 1.8464812329008403e-2;
  g = g * u + 3.3404487900546931e-1;
  g = g * u - 7.9074037721966369e-1;
  return t * Math.exp(g - x * x);
}

/** erf(x); NaN for NaN. */
export function erf64(x: f64): f64 {
  const ax = Math.abs(x);
  if (ax < 1) return x * erfOverX(x * x);
  const r = 1 - erfcTail(ax); // erfc(1) = 0.157: no cancellation
  return x < 0 ? -r : r;
}

/** erfc(x) = 1 - erf(x), accurate relative to itself also where it is tiny (x >> 1); NaN for NaN. */
export function erfc64(x: f64): f64 {
  if (Math.abs(x) < 1) return 1 - x * erfOverX(x * x);
  if (x > 0) return erfcTail(x);
  if (x < 0) return 2 - erfcTail(-x);
  return x; // NaN
}
