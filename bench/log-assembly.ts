/**
 * `node dist/bench/log-assembly.js`: throughput of the collector's record assembly (parse, join,
 * multiline, level, JSON fields, record id) on one core, for ~150-byte lines of three kinds: CRI
 * plain text, CRI JSON and docker json-file. Lines are prepared as strings first, so the figure
 * is the assembler's alone (no file reading or UTF-8 decoding). Scale with BENCH_LINES.
 */
import { formatTimeNs, type LogSource } from '../model/logs.js';
import { createRecordAssembler, type AssemblerOptions } from '../collector/logs/record-assembler.js';

const LINES = Number(process.env['BENCH_LINES'] ?? 400_000);
const T0 = BigInt(Date.UTC(2026, 0, 1)) * 1_000_000n;
const PATHS = ['/api/orders', '/api/items', '/healthz', '/api/users/login', '/api/cart'];

const source: LogSource = { node: 'node-1', namespace: 'shop', pod: 'api-7d9f', podUid: 'uid-1', container: 'api', restart: 0, path: '/var/log/pods/x/api/0.log', fileKey: '0123456789abcdef' };

/** Timestamps advance 20 µs a line, so a second holds 50k lines as under heavy load. */
function stamp(i: number): string {
  return formatTimeNs(T0 + BigInt(i) * 20_000n);
}

function plain(i: number): string {
  return `INFO  [http-nio-8080-exec-${i % 16}] c.e.shop.RequestLog - GET ${PATHS[i % PATHS.length]}/${i % 997} 200 ${i % 300}ms user=${i % 5000} trace=${(i * 2654435761) >>> 0}`;
}

function json(i: number): string {
  return JSON.stringify({ level: i % 50 === 0 ? 'error' : 'info', ts: 1767225600 + i / 1000, msg: `handled ${PATHS[i % PATHS.length]}`, status: 200, latency_ms: i % 900, user: { id: i % 5000 } });
}

const KINDS: Record<string, (i: number) => string> = {
  'CRI plain': (i) => `${stamp(i)} ${i % 7 === 0 ? 'stderr' : 'stdout'} F ${plain(i)}`,
  'CRI JSON': (i) => `${stamp(i)} stdout F ${json(i)}`,
  docker: (i) => JSON.stringify({ log: `${plain(i)}\n`, stream: 'stdout', time: stamp(i) }),
};

function run(name: string, lines: readonly string[], opts: AssemblerOptions): void {
  const lengths = lines.map((l) => Buffer.byteLength(l) + 1);
  const bytes = lengths.reduce((a, b) => a + b, 0);
  let best = Infinity;
  let records = 0;
  for (let round = 0; round < 5; round++) {
    const assembler = createRecordAssembler(source, opts);
    let offset = 0;
    records = 0;
    const t0 = performance.now();
    for (let i = 0; i < lines.length; i++) {
      const end = offset + lengths[i]!;
      records += assembler.push(lines[i]!, offset, end, 0).length;
      offset = end;
    }
    records += assembler.flushAll().length;
    best = Math.min(best, performance.now() - t0);
    if (assembler.stats.decodeErrors !== 0) throw new Error(`${name}: ${assembler.stats.decodeErrors} decode errors`);
  }
  const seconds = best / 1000;
  const avg = bytes / lines.length;
  console.log(
    `${name.padEnd(28)} ${(lines.length / seconds / 1000).toFixed(0).padStart(6)}k lines/s ${(bytes / seconds / 2 ** 20).toFixed(1).padStart(7)} MiB/s  (${avg.toFixed(0)} B/line, ${records} records)`,
  );
}

/** From file bytes: split at '\n' and decode as a tailer does, then assemble. */
function runBytes(name: string, lines: readonly string[], opts: AssemblerOptions): void {
  const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''));
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const assembler = createRecordAssembler(source, opts);
    const t0 = performance.now();
    let start = 0;
    for (let nl = bytes.indexOf(0x0a); nl >= 0; nl = bytes.indexOf(0x0a, start)) {
      assembler.push(bytes.toString('utf8', start, nl), start, nl + 1, 0);
      start = nl + 1;
    }
    assembler.flushAll();
    best = Math.min(best, performance.now() - t0);
  }
  const seconds = best / 1000;
  console.log(`${name.padEnd(28)} ${(lines.length / seconds / 1000).toFixed(0).padStart(6)}k lines/s ${(bytes.length / seconds / 2 ** 20).toFixed(1).padStart(7)} MiB/s  (split and decoded from bytes)`);
}

for (const [kind, make] of Object.entries(KINDS)) {
  const lines = Array.from({ length: LINES }, (_, i) => make(i));
  run(`${kind}, multiline auto`, lines, {});
  run(`${kind}, multiline off`, lines, { multiline: false });
  runBytes(`${kind}, from bytes`, lines, {});
}
