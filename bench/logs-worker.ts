/**
 * One measured run of Vigil's log collector for `bench/logs.ts`, in its own process so that CPU
 * time and peak RSS are the collector's alone: `node logs-worker.js null|store ROOT DATA_DIR N`
 * tails ROOT from the start until N records are acknowledged and prints its figures as JSON.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Registry } from 'prom-client';
import { LogCollector } from '../collector/logs/collector.js';
import type { LogSink } from '../storage/logs/interface.js';
import { SqliteLogStore } from '../storage/logs/sqlite/index.js';
import { StoreLogSink } from '../storage/logs/store-sink.js';
import { silentLogger } from '../util/logging.js';
import type { CollectorFigures } from './logs.js';

const [mode, root, dataDir, expectedArg] = process.argv.slice(2);
if ((mode !== 'null' && mode !== 'store') || !root || !dataDir || !expectedArg) {
  console.error('usage: logs-worker null|store ROOT DATA_DIR EXPECTED_RECORDS');
  process.exit(2);
}
const expected = Number(expectedArg);
/**
 * The last record of every stream waits out the multiline flush timeout (a stack trace might go
 * on), so the clock stops when all but those are acknowledged: at most two per file (stdout and
 * stderr). The run still waits for every record before it reports.
 */
const HELD_AT_END = Number(process.env.BENCH_LOG_FILES ?? 50) * 2;

/** Acknowledges at once: what reading, parsing and enrichment cost on their own. */
const nullSink: LogSink = {
  name: 'null',
  write: async () => undefined,
  flush: async () => undefined,
  close: async () => undefined,
};

const registry = new Registry();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let cpuAtCaughtUp: NodeJS.CpuUsage | undefined;
const store = mode === 'store' ? new SqliteLogStore({ dir: path.join(dataDir, 'logs') }) : undefined;
const sink = store ? new StoreLogSink({ store, registry, logger: silentLogger() }) : nullSink;

let acknowledged = 0;
let caughtUpAt = 0;
let done!: () => void;
const finished = new Promise<void>((r) => (done = r));
const collector = new LogCollector({
  sink,
  dataDir,
  podsRoot: root,
  nodeName: 'bench',
  registry,
  logger: silentLogger(),
  onAcknowledged: (batch) => {
    acknowledged += batch.length;
    if (caughtUpAt === 0 && acknowledged >= expected - HELD_AT_END) {
      caughtUpAt = performance.now();
      cpuAtCaughtUp = process.cpuUsage(cpu0);
    }
    if (acknowledged >= expected) done();
  },
});

await collector.start();
await finished;
const seconds = (caughtUpAt - t0) / 1000;
const cpu = cpuAtCaughtUp!;
await collector.stop();
await store?.close();
const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) * 1024;
const figures: CollectorFigures = {
  system: mode === 'null' ? 'Vigil, null sink' : 'Vigil → embedded store',
  seconds,
  cpuSeconds: (cpu.user + cpu.system) / 1e6,
  peakRssBytes: hwm,
  records: acknowledged,
};
console.log(JSON.stringify(figures));
