// The bench's small statistics (scripts/bench/stats.mjs): its verdicts on engine − floor at 64
// clients rest on the median's confidence interval.
import { test } from "node:test";
import assert from "node:assert/strict";
import { medianCi, summarize, median, pct, pooledDiff } from "../../scripts/bench/stats.mjs";

test("medianCi: the order statistics of the distribution-free 95% interval, none under 6 values", () => {
  const ranks = (n) => {
    const ci = medianCi(Array.from({ length: n }, (_, i) => i + 1));
    return ci && [ci.lo, ci.hi];
  };
  // Published ranks (e.g. Conover, Practical Nonparametric Statistics): n = 6: 1st–6th,
  // 10: 2nd–9th, 15: 4th–12th, 20: 6th–15th, 30: 10th–21st.
  assert.deepEqual(ranks(6), [1, 6]);
  assert.deepEqual(ranks(10), [2, 9]);
  assert.deepEqual(ranks(15), [4, 12]);
  assert.deepEqual(ranks(20), [6, 15]);
  assert.deepEqual(ranks(30), [10, 21]);
  for (const n of [0, 1, 3, 5]) assert.equal(medianCi(Array.from({ length: n }, (_, i) => i)), null, `n = ${n}`);
  // Order of the input does not matter; the interval holds the median.
  const xs = [3.2, -1.5, 0.4, 9.9, 2.2, -0.7, 1.1, 0.9, 5.5, -3.3, 0.0, 4.4, 1.7, -2.8, 0.6];
  const ci = medianCi(xs);
  assert.deepEqual(ci, { lo: -0.7, hi: 3.2 }); // the 4th and 12th of the sorted 15
  assert.ok(ci.lo <= median(xs) && median(xs) <= ci.hi);
  assert.deepEqual(summarize(xs).ci, ci);
  assert.equal(summarize([1, 2, 3]).ci, null);
});

test("medianCi: covers the true median in at least 95% of samples of 15 (seeded, skewed data)", () => {
  let seed = 12345;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  // Exponential with rate 1: true median ln 2.
  const trueMedian = Math.LN2;
  let covered = 0;
  const trials = 4000;
  for (let t = 0; t < trials; t++) {
    const ci = medianCi(Array.from({ length: 15 }, () => -Math.log(1 - random())));
    if (ci.lo <= trueMedian && trueMedian <= ci.hi) covered++;
  }
  // Exact coverage for n = 15 is 1 − 2·P(X ≤ 3) = 96.48%; the bound leaves room for sampling.
  assert.ok(covered / trials >= 0.95, `coverage ${covered / trials}`);
  assert.ok(covered / trials <= 0.98, `coverage ${covered / trials}: the interval is wider than it needs to be`);
});

test("pooledDiff: the p99 of every request pooled, one run's outlier does not set it, a bootstrap interval over repeats", () => {
  // 40 repeats of 128 requests; the floor's errors spread 0–99.9 ms, the engine's 3 ms later.
  const runs = (f) => Array.from({ length: 40 }, (_, r) => Array.from({ length: 128 }, (_, i) => f(r, i)));
  const floor = runs((r, i) => ((r * 7919 + i * 104729) % 1000) / 10);
  const later = floor.map((run) => run.map((x) => x + 3));
  assert.deepEqual(pooledDiff(later, floor, 99), { value: 3, ci: { lo: 3, hi: 3 }, n: 40 });
  // Two outliers in 25 of the runs of one loop (a run's p99 is its second-worst of 128) move the
  // median of per-run p99s by ~400 ms; the pooled p99 (the 52nd worst of 5,120) sits below all 50.
  const outliers = floor.map((run, r) => run.map((x, i) => (r < 25 && i < 2 ? x + 500 : x)));
  const perRun = median(outliers.map((run, r) => pct(run, 99) - pct(floor[r], 99)));
  assert.ok(perRun > 300, `per-run p99 difference ${perRun}`);
  assert.ok(Math.abs(pooledDiff(outliers, floor, 99).value) < 1);
  // Half the repeats 4 ms later: the pooled p50 moves ~2 ms and the interval spans the repeats' mix.
  const half = floor.map((run, r) => run.map((x) => x + (r % 2 ? 4 : 0)));
  const d = pooledDiff(half, floor, 50);
  assert.equal(d.value, 2);
  assert.ok(d.ci.lo > 0.5 && d.ci.lo < 2 && d.ci.hi > 2 && d.ci.hi < 3.5, JSON.stringify(d.ci));
  assert.deepEqual(pooledDiff(half, floor, 50), d, "seeded: the same interval again");
  // Under 6 repeats, no interval; unpaired repeats are an error.
  assert.equal(pooledDiff(later.slice(0, 5), floor.slice(0, 5), 99).ci, null);
  assert.throws(() => pooledDiff(later, floor.slice(1), 99), /40 repeats against 39/);
});
