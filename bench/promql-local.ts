/**
 * `node dist/bench/promql-local.js`: Vigil alone, in one process, for profiling the query path.
 * Loads the `bench:promql` dataset into an in-process TSDB and times every benchmark query through
 * the Prometheus API routes (`app.inject`: parameter parsing, engine, JSON encoding), reporting
 * median wall and CPU time per query. Run it under `node --cpu-prof` to see where time goes.
 *
 * BENCH_PODS, BENCH_HOURS, BENCH_RUNS as in `bench:promql`; BENCH_ONLY=substring picks queries;
 * BENCH_PROFILE=file.cpuprofile writes a CPU profile of the queries alone (not of loading);
 * BENCH_HEAD_CHUNKS=heap keeps sealed chunks on the heap instead of file-backed segments. The
 * young generation is fixed as the server fixes it, since its size sets what queries spend in GC;
 * BENCH_YOUNG_GENERATION_MIB tries another size (a power of two).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import Fastify from 'fastify';
import { prometheusQueryRoutes } from '../api/routes/prometheus-query.js';
import { Engine } from '../promql/engine/index.js';
import { openTSDB } from '../storage/metrics/tsdb/db.js';
import { generateDataset, datasetBatches } from './dataset.js';
import { BENCH_QUERIES } from './queries.js';
import { median, printTable } from './proc.js';
import { fixYoungGeneration } from '../util/young-generation.js';

async function main(): Promise<void> {
  // The server's heap settings (bin/vigil.js), so that garbage collection costs what it does there.
  const youngMiB = process.env.BENCH_YOUNG_GENERATION_MIB;
  fixYoungGeneration(youngMiB !== undefined ? Number(youngMiB) * 1024 * 1024 : undefined);
  const pods = Number(process.env.BENCH_PODS ?? 1500);
  const hours = Number(process.env.BENCH_HOURS ?? 4);
  const runs = Number(process.env.BENCH_RUNS ?? 5);
  const only = process.env.BENCH_ONLY;
  const now = Date.now();
  const ds = generateDataset({ start: now - hours * 3600_000 - 60_000, durationMs: hours * 3600_000, pods, nodes: Math.max(2, Math.round(pods / 30)), services: Math.max(2, Math.round(pods / 25)) });
  const dir = mkdtempSync(path.join(tmpdir(), 'vigil-bench-local-'));
  const headChunks = process.env.BENCH_HEAD_CHUNKS === 'heap' ? 'heap' : 'mapped';
  const db = await openTSDB({ dir, walFlushIntervalMs: 0, maintenanceIntervalMs: 0, retentionMs: 48 * 3600_000, headChunks });
  const app = Fastify();
  try {
    const t0 = performance.now();
    // The same shift as bench:promql's push keeps samples off step boundaries.
    const shift = 7_000;
    for (const batch of datasetBatches(ds, { windowSteps: 20, seriesPerBatch: 500 })) {
      const a = db.appender();
      for (const s of batch) {
        let ref = 0;
        for (const p of s.samples) ref = a.append(ref, s.labels, p.t + shift, p.v);
      }
      await a.commit();
    }
    console.log(`loaded ${ds.series.length} series, ${(ds.samples / 1e6).toFixed(1)}M samples in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const engine = new Engine();
    await app.register(prometheusQueryRoutes, {
      backend: {
        instant: (expr, ts, opts) => engine.instantQuery(db, expr, ts, opts),
        range: (expr, start, end, step, opts) => engine.rangeQuery(db, expr, start, end, step, opts),
      },
    });
    const profile = process.env.BENCH_PROFILE;
    const session = profile !== undefined ? new Session() : undefined;
    if (session) {
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
    }
    const evalAt = Math.floor((ds.start + ds.steps * ds.stepMs) / 60_000) * 60_000 - 30_000;
    const rows: string[][] = [];
    let totalWall = 0;
    let totalCpu = 0;
    let totalMin = 0;
    for (const q of BENCH_QUERIES) {
      if (only !== undefined && !q.name.includes(only)) continue;
      const at = q.range ? evalAt + 30_000 : evalAt;
      const params = new URLSearchParams({ query: q.expr });
      let url = '/api/v1/query';
      if (q.range) {
        url = '/api/v1/query_range';
        params.set('start', String((at - q.range.durationMs) / 1000));
        params.set('end', String(at / 1000));
        params.set('step', String(q.range.stepMs / 1000));
      } else params.set('time', String(at / 1000));
      const payload = params.toString();
      const run = async () => {
        const c0 = process.cpuUsage();
        const w0 = performance.now();
        const res = await app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
        const wall = performance.now() - w0;
        const c = process.cpuUsage(c0);
        if (res.statusCode !== 200) throw new Error(`${q.name}: HTTP ${res.statusCode}: ${res.body.slice(0, 300)}`);
        return { wall, cpu: (c.user + c.system) / 1000, bytes: res.body.length };
      };
      await run(); // warm-up
      const walls: number[] = [];
      const cpus: number[] = [];
      let bytes = 0;
      for (let i = 0; i < runs; i++) {
        const r = await run();
        walls.push(r.wall);
        cpus.push(r.cpu);
        bytes = r.bytes;
      }
      totalWall += median(walls);
      totalCpu += median(cpus);
      totalMin += Math.min(...cpus);
      rows.push([q.name + (q.range ? ' (range)' : ''), median(walls).toFixed(1), median(cpus).toFixed(1), Math.min(...cpus).toFixed(1), String(bytes)]);
    }
    if (session) {
      const { profile: p } = await session.post('Profiler.stop');
      writeFileSync(profile!, JSON.stringify(p));
      session.disconnect();
    }
    rows.push(['TOTAL', totalWall.toFixed(1), totalCpu.toFixed(1), totalMin.toFixed(1), '']);
    // The least CPU time of the runs is the figure least disturbed by other load on the machine.
    printTable(['query (ms)', 'median wall', 'median cpu', 'min cpu', 'bytes'], rows);
  } finally {
    await app.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
