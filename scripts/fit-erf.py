#!/usr/bin/env python3
"""Fits the polynomials of assembly/erf.ts (needs Python 3 and mpmath; run once, paste the output).

    python3 scripts/fit-erf.py

The kernels evaluate erf/erfc in float64 and round the activation to float32, so the fits aim far below float32's
2^-24 (~6e-8): about 1e-15 relative.
  * |x| < 1:  erf(x) = x * P(x^2)                    P: Chebyshev fit of erf(x)/x on x^2 in [0, 1]
  * 1 <= x <= 11: erfc(x) = t * exp(-x^2 + G(u))     t = 2/(2+x), u = (t - MID)/HALF in [-1, 1],
                                                     G: Chebyshev fit of log(erfc(x)/t) + x^2
  (t = 2/(2+x) is the substitution of the classic Chebyshev erfc approximation; the coefficients are fitted here.)
Past x = 11, erfc(x) < 2e-54 is zero in float32 even after the GELU's factor x/2.
"""
import mpmath as mp

mp.mp.dps = 50


def erf_over_x(z):
    if z == 0:
        return 2 / mp.sqrt(mp.pi)
    x = mp.sqrt(z)
    return mp.erf(x) / x


T0, T1 = mp.mpf(2) / 13, mp.mpf(2) / 3  # t at x = 11 and x = 1
MID, HALF = (T0 + T1) / 2, (T1 - T0) / 2


def log_erfc_scaled(u):
    t = MID + HALF * u
    x = 2 / t - 2
    return mp.log(mp.erfc(x) / t) + x * x


p, p_err = mp.chebyfit(erf_over_x, [0, 1], 11, error=True)
g, g_err = mp.chebyfit(log_erfc_scaled, [-1, 1], 16, error=True)


def emit(name, coeffs):
    # highest degree first (Horner order)
    print(f"// {name}")
    for c in coeffs:
        print(f"  {mp.nstr(c, 17, strip_zeros=False, min_fixed=-1, max_fixed=0)},")


print(f"// max abs error: P {mp.nstr(p_err, 3)}, G {mp.nstr(g_err, 3)}")
print(f"// MID = {mp.nstr(MID, 17)}, HALF = {mp.nstr(HALF, 17)}")
emit("P (erf(x)/x in x^2)", p)
emit("G (log(erfc(x)/t) + x^2 in u)", g)
