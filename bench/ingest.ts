/**
 * `npm run bench:ingest`: the cluster dataset (≈15k series, 4 h at 15 s ≈ 14M samples) pushed by
 * remote_write into Vigil, Debian Prometheus and Debian VictoriaMetrics in the same run, one
 * system at a time on the same bodies. Prints CPU seconds per million samples, RSS after ingest,
 * bytes on disk per sample, and Vigil's ratio to each; then exposition-parse throughput.
 *
 * Scale with BENCH_PODS (default 1500) and BENCH_HOURS (default 4).
 */
import { generateDataset } from './dataset.js';
import { encodedBatches, pushBodies } from './push.js';
import { cpuSeconds, dirBytes, formatBytes, printTable, rssBytes, rssParts } from './proc.js';
import { startPrometheusSystem, startVictoriaMetricsSystem, startVigil, type System } from './systems.js';
import { formatParseThroughput, parseThroughput } from './parse-throughput.js';

interface IngestFigures {
  readonly system: string;
  readonly seconds: number;
  readonly cpuPerMillion: number;
  readonly rss: number;
  readonly diskPerSample: number;
}

async function measure(start: () => Promise<System>, bodies: ReturnType<typeof encodedBatches> extends Generator<infer T> ? T[] : never, samples: number): Promise<IngestFigures> {
  const sys = await start();
  try {
    const cpu0 = cpuSeconds(sys.pid);
    const t0 = performance.now();
    await pushBodies(sys.writeUrl, bodies, 4);
    await sys.flush();
    const seconds = (performance.now() - t0) / 1000;
    // Let background work triggered by the ingest (WAL flush, merges) finish and count it.
    await new Promise((r) => setTimeout(r, 3000));
    await sys.flush();
    const cpu = cpuSeconds(sys.pid) - cpu0;
    const figures = {
      system: sys.name,
      seconds,
      cpuPerMillion: cpu / (samples / 1e6),
      rss: rssBytes(sys.pid),
      diskPerSample: dirBytes(sys.dataDir) / samples,
    };
    const parts = rssParts(sys.pid);
    console.log(
      `  ${sys.name}: ${seconds.toFixed(1)} s wall, ${cpu.toFixed(1)} CPU s; RSS ${formatBytes(figures.rss)} = anonymous ${formatBytes(parts.anon)} + file ${formatBytes(parts.file)} + shared ${formatBytes(parts.shmem)}`,
    );
    return figures;
  } finally {
    await sys.stop();
  }
}

async function main(): Promise<void> {
  const pods = Number(process.env.BENCH_PODS ?? 1500);
  const hours = Number(process.env.BENCH_HOURS ?? 4);
  const ds = generateDataset({ start: Date.now() - hours * 3600_000 - 60_000, durationMs: hours * 3600_000, pods, nodes: Math.max(2, Math.round(pods / 30)), services: Math.max(2, Math.round(pods / 25)) });
  console.log(`dataset: ${ds.series.length} series, ${ds.steps} samples each, ${(ds.samples / 1e6).toFixed(1)}M samples`);
  const bodies = [...encodedBatches(ds, { shiftMs: 7_000 })];
  console.log(`encoded ${bodies.length} remote_write requests, ${formatBytes(bodies.reduce((n, b) => n + b.body.length, 0))}`);

  const results: IngestFigures[] = [];
  for (const start of [startVigil, startPrometheusSystem, startVictoriaMetricsSystem]) results.push(await measure(start, bodies, ds.samples));
  const vigil = results[0]!;
  console.log('');
  printTable(
    ['system', 'ingest s', 'CPU s / M samples', 'RSS after ingest', 'disk bytes / sample'],
    results.map((r) => [r.system, r.seconds.toFixed(1), r.cpuPerMillion.toFixed(3), formatBytes(r.rss), r.diskPerSample.toFixed(2)]),
  );
  console.log('');
  printTable(
    ['Vigil ÷', 'CPU', 'RSS', 'disk'],
    results.slice(1).map((r) => [r.system, (vigil.cpuPerMillion / r.cpuPerMillion).toFixed(2), (vigil.rss / r.rss).toFixed(2), (vigil.diskPerSample / r.diskPerSample).toFixed(2)]),
  );
  const parse = parseThroughput();
  console.log('');
  console.log(formatParseThroughput(parse));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
