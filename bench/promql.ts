/**
 * `npm run bench:promql`: the cluster dataset in Vigil, Debian Prometheus and Debian
 * VictoriaMetrics (cache disabled) at once; each query of `bench/queries.ts` run several times on
 * each; per query the median latency of each system, Vigil ÷ Prometheus, and whether Vigil's
 * answer equals Prometheus's.
 *
 * Scale with BENCH_PODS (default 1500) and BENCH_HOURS (default 4); BENCH_RUNS (default 5).
 */
import { generateDataset } from './dataset.js';
import { encodedBatches, pushBodies } from './push.js';
import { BENCH_QUERIES } from './queries.js';
import { diffResults, runQuery } from './compare.js';
import { median, printTable } from './proc.js';
import { startPrometheusSystem, startVictoriaMetricsSystem, startVigil, type System } from './systems.js';

async function main(): Promise<void> {
  const pods = Number(process.env.BENCH_PODS ?? 1500);
  const hours = Number(process.env.BENCH_HOURS ?? 4);
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  const now = Date.now();
  const ds = generateDataset({ start: now - hours * 3600_000 - 60_000, durationMs: hours * 3600_000, pods, nodes: Math.max(2, Math.round(pods / 30)), services: Math.max(2, Math.round(pods / 25)) });
  console.log(`dataset: ${ds.series.length} series, ${(ds.samples / 1e6).toFixed(1)}M samples; ${BENCH_QUERIES.length} queries × ${runs} runs`);
  const bodies = [...encodedBatches(ds, { shiftMs: 7_000 })];
  const systems: System[] = [await startVigil(), await startPrometheusSystem(), await startVictoriaMetricsSystem()];
  try {
    for (const s of systems) {
      const t0 = performance.now();
      await pushBodies(s.writeUrl, bodies, 4);
      await s.flush();
      console.log(`  loaded ${s.name} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    // VictoriaMetrics makes fresh data searchable after a short delay.
    await new Promise((r) => setTimeout(r, 5000));
    // Evaluate on a half minute: no sample and no subquery step on a window boundary (see the
    // side-by-side test for why that matters between Prometheus 2 and 3).
    const evalAt = Math.floor((ds.start + ds.steps * ds.stepMs) / 60_000) * 60_000 - 30_000;
    const rows: string[][] = [];
    const totals = [0, 0, 0];
    let equal = 0;
    for (const q of BENCH_QUERIES) {
      const at = q.range ? evalAt + 30_000 : evalAt;
      const medians: number[] = [];
      const answers = [];
      for (const s of systems) {
        await runQuery(s.url, q.expr, at, q.range); // warm-up
        const times: number[] = [];
        let last;
        for (let i = 0; i < runs; i++) {
          last = await runQuery(s.url, q.expr, at, q.range);
          times.push(last.ms);
        }
        medians.push(median(times));
        answers.push(last!.data);
      }
      medians.forEach((m, i) => (totals[i]! += m));
      const diff = diffResults(answers[0]!, answers[1]!, q.ordered);
      if (diff === '') equal++;
      rows.push([
        q.name + (q.range ? ' (range)' : ''),
        medians[0]!.toFixed(1),
        medians[1]!.toFixed(1),
        medians[2]!.toFixed(1),
        (medians[0]! / medians[1]!).toFixed(2),
        diff === '' ? 'yes' : `NO: ${diff.slice(0, 60)}`,
      ]);
    }
    rows.push(['TOTAL', totals[0]!.toFixed(1), totals[1]!.toFixed(1), totals[2]!.toFixed(1), (totals[0]! / totals[1]!).toFixed(2), `${equal}/${BENCH_QUERIES.length}`]);
    console.log('');
    printTable(['query (median ms)', 'Vigil', 'Prometheus', 'VictoriaMetrics', 'Vigil/Prom', 'equal to Prom'], rows);
  } finally {
    for (const s of systems) await s.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
