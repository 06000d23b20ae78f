// Small statistics for the bench: nearest-rank percentiles, medians over repeats with spread.

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The index of the nearest-rank p-th percentile (p in 0..100) among `n` sorted values. */
const rank = (p, n) => Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1));

/** Nearest-rank percentile (p in 0..100). */
export const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[rank(p, s.length)];
};

/**
 * A distribution-free 95% confidence interval for the median of `xs`: the k-th smallest and the
 * k-th largest value, k the largest rank with P(Binomial(n, ½) < k) ≤ 2.5%. `null` under 6
 * values (no such k). With 15 repeats it is the 4th to the 12th; with 40, the 14th to the 27th.
 * @param {number[]} xs
 * @returns {{ lo: number, hi: number } | null}
 */
export function medianCi(xs) {
  const n = xs.length;
  let below = 0, k = 0, term = 0.5 ** n; // term: P(X = i)
  for (let i = 0; i < n && below + term <= 0.025; i++) {
    below += term;
    k = i + 1;
    term = (term * (n - i)) / (i + 1);
  }
  if (k === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return { lo: s[k - 1], hi: s[n - k] };
}

/** `{median, min, max, ci}` of repeated measurements of one figure (`ci`: see medianCi). */
export const summarize = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length, ci: medianCi(xs) });

/**
 * Client-minus-server errors (ms) of one run: samples are `{id, ttft, ttlt?}` in client ms,
 * records are llm-sim ground truth (µs on the server's clock). Samples without `ttlt` (peers
 * whose records have no last-token time) give TTFT errors only.
 */
export function truthErrors(samples, records) {
  const recs = new Map(records.map((r) => [r.id, r]));
  const ttft = [], ttlt = [];
  for (const s of samples) {
    const rec = recs.get(s.id);
    if (!rec) throw new Error(`no ground truth for request ${s.id}`);
    ttft.push(s.ttft - (rec.first_token_sent_us - rec.received_us) / 1000);
    if (s.ttlt !== undefined) ttlt.push(s.ttlt - (rec.last_token_sent_us - rec.received_us) / 1000);
  }
  const t = ttlt.length ? { ttltP50: median(ttlt), ttltP99: pct(ttlt, 99) } : {};
  return { ttftP50: median(ttft), ttftP99: pct(ttft, 99), ...t, n: ttft.length, ttft };
}

/**
 * `pct(a) − pct(b)` over every request of every repeat of two loops (pooled), with a 95%
 * percentile-bootstrap interval that resamples repeats, each repeat's pair of runs kept together
 * (they share its conditions). A run of 128 requests has for its p99 its second-worst request, so
 * the median over repeats of per-run p99s follows single outliers, which 40 pooled runs (the p99
 * of 5,120) do not; but one disturbed run is 2.5% of that pool and sets its p99 on its own. The
 * bench prints both. Seeded, so the same data give the same interval.
 * @param {number[][]} aRuns per repeat, one loop's per-request values
 * @param {number[][]} bRuns per repeat, the other loop's (same length)
 * @param {number} p percentile, 0..100
 * @returns {{ value: number, ci: { lo: number, hi: number } | null, n: number }}
 */
export function pooledDiff(aRuns, bRuns, p, { resamples = 2000, seed = 1 } = {}) {
  if (aRuns.length !== bRuns.length) throw new Error(`pooledDiff: ${aRuns.length} repeats against ${bRuns.length}`);
  const n = aRuns.length;
  // Nearest rank, as `pct`, over a typed array (a numeric sort: ~10× faster for 2,000 resamples).
  const at = (runs, picks) => {
    const pooled = new Float64Array(picks.reduce((sum, i) => sum + runs[i].length, 0));
    let k = 0;
    for (const i of picks) for (const x of runs[i]) pooled[k++] = x;
    pooled.sort();
    return pooled[rank(p, k)];
  };
  const all = [...Array(n).keys()];
  const value = at(aRuns, all) - at(bRuns, all);
  if (n < 6) return { value, ci: null, n };
  let state = seed >>> 0 || 1;
  const random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const diffs = [];
  for (let r = 0; r < resamples; r++) {
    const picks = all.map(() => Math.floor(random() * n));
    diffs.push(at(aRuns, picks) - at(bRuns, picks));
  }
  return { value, ci: { lo: pct(diffs, 2.5), hi: pct(diffs, 97.5) }, n };
}
