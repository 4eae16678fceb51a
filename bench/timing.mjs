// Timing shared by the bench scripts: medians of interleaved runs (see measureInterleaved).
/** Seconds, monotonic. */
export const now = () => Number(process.hrtime.bigint()) / 1e9;

export async function timeOnce(fn) {
  const t0 = now();
  const r = fn();
  if (r && typeof r.then === 'function') await r;
  return now() - t0;
}

function quantile(sorted, q) {
  if (!sorted.length) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function summarize(times) {
  const s = times.slice().sort((a, b) => a - b);
  const median = quantile(s, 0.5);
  return { median, min: s[0], max: s[s.length - 1], iqr: (quantile(s, 0.75) - quantile(s, 0.25)) / median, runs: s.length };
}

/**
 * Warm each candidate up, then time them round-robin so that load from elsewhere on the machine hits them all
 * alike. In each round a candidate runs a block of consecutive timed runs (≈ 0.1 s worth, 1…20) so that its data
 * is cache-warm as in a back-to-back loop. A candidate stops when it has maxRuns runs, or minRuns runs and
 * minTime seconds, or floorRuns runs and maxTime seconds (the time box).
 */
export async function measureInterleaved(cands, cfg) {
  for (const c of cands) {
    c.times = [];
    c.total = 0;
    c.warmup = 0;
    try {
      for (let i = 0; i < cfg.warmup; i++) {
        const t = await timeOnce(c.fn);
        c.warmup++;
        c.est = t;
        if (t > 3) break; // one slow run is enough to tier up; don't burn the time box on warm-ups
      }
    } catch (e) {
      c.error = e;
    }
  }
  const done = (c) =>
    c.error || c.times.length >= cfg.maxRuns || (c.times.length >= cfg.minRuns && c.total >= cfg.minTime) || (c.times.length >= cfg.floorRuns && c.total >= cfg.maxTime);
  for (;;) {
    const active = cands.filter((c) => !done(c));
    if (!active.length) break;
    for (const c of active) {
      const block = Math.max(1, Math.min(20, Math.floor(0.1 / Math.max(c.est, 1e-6))));
      try {
        for (let i = 0; i < block && !done(c); i++) {
          const t = await timeOnce(c.fn);
          c.times.push(t);
          c.total += t;
          c.est = t;
        }
      } catch (e) {
        c.error = e;
      }
    }
  }
  for (const c of cands) c.stats = c.error ? null : summarize(c.times);
}

/**
 * Median CPU time (user + system) of `runs` calls of a synchronous kernel call, after a warm-up that
 * lets V8 tier up, in ns per element of `len` elements. CPU time, not wall time: on a shared 2-core
 * machine it is far less noisy for single-threaded kernels.
 */
export function cpuMedianPerElement(fn, runs, len) {
  const w0 = performance.now();
  for (let i = 0; i < 5 || performance.now() - w0 < 200; i++) fn();
  const t = [];
  for (let r = 0; r < runs; r++) {
    const t0 = process.cpuUsage();
    fn();
    const d = process.cpuUsage(t0);
    t.push((d.user + d.system) * 1000);
  }
  t.sort((a, b) => a - b);
  return t[t.length >> 1] / len;
}
