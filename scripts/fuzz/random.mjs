/**
 * A small seeded PRNG for the fuzzer: every case has its own stream, derived from the campaign
 * seed and the case number, so any case can be regenerated on its own.
 */

/** mulberry32 over a 32-bit state. */
export function rng(seed) {
  let state = seed >>> 0;
  const u = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const r = {
    /** uniform in [0, 1) */
    u,
    /** integer in [0, n) */
    int: (n) => Math.floor(u() * n),
    pick: (list) => list[Math.floor(u() * list.length)],
    chance: (p) => u() < p,
    /** one of the keys of `weights` ({ name: weight }), with probability proportional to its weight */
    weighted: (weights) => {
      const entries = Object.entries(weights);
      let x = u() * entries.reduce((s, [, w]) => s + w, 0);
      for (const [k, w] of entries) if ((x -= w) < 0) return k;
      return entries[entries.length - 1][0];
    },
  };
  return r;
}

/** The seed of case `index` of a campaign with seed `seed` (a 32-bit hash of both). */
export function caseSeed(seed, index) {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}
