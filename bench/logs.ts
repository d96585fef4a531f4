/**
 * `npm run bench:logs`: log collection throughput on one core.
 *
 * One dataset of CRI container logs (50 pods; JSON and plain lines, stack traces, lines split into
 * P/F fragments) is written once; then each system tails it from the start on CPU 0 alone
 * (`taskset -c 0`), one after another:
 *
 * - Vigil's collector with a null sink: tail + CRI parse + partial/multiline joining + enrichment;
 * - Vigil's collector into the embedded SQLite FTS5 store: every record searchable when acknowledged;
 * - Debian's syslog-ng tailing the same files into a file, as the peer measured in the same run.
 *
 * Printed per system: lines/s, MiB/s, CPU seconds per million lines, peak RSS, and Vigil's ratios.
 * Published figures (Vector 76.7 MiB/s, Fluent Bit 35, Filebeat 7.8; file → TCP on 2 vCPU, 2019)
 * are printed as anchors only: other hardware, other versions.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PodLogGenerator } from '../test/support/pod-log-generator.js';
import { cpuSeconds, formatBytes, printTable } from './proc.js';

export interface CollectorFigures {
  readonly system: string;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly peakRssBytes: number;
  readonly records: number;
}

const MiB = 1024 * 1024;
const here = path.dirname(fileURLToPath(import.meta.url));

function pinned(cmd: string, args: readonly string[]): [string, string[]] {
  return existsSync('/usr/bin/taskset') ? ['/usr/bin/taskset', ['-c', '0', cmd, ...args]] : [cmd, [...args]];
}

/** Runs Vigil's collector in a child process pinned to one core; it reports its own figures. */
function runVigil(mode: 'null' | 'store', root: string, dataDir: string, expectedRecords: number): Promise<CollectorFigures> {
  const [cmd, args] = pinned(process.execPath, [path.join(here, 'logs-worker.js'), mode, root, dataDir, String(expectedRecords)]);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`logs worker (${mode}) exited with ${code}: ${out}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!) as CollectorFigures);
    });
  });
}

/** Debian's syslog-ng, reading every `*.log` below the root from the start into one file. */
async function runSyslogNg(root: string, work: string, expectedBytes: number): Promise<CollectorFigures & { lines: number }> {
  const bin = '/usr/sbin/syslog-ng';
  if (!existsSync(bin)) throw new Error(`${bin} is missing: apt-get install syslog-ng-core`);
  const out = path.join(work, 'syslog-ng.out');
  const conf = path.join(work, 'syslog-ng.conf');
  writeFileSync(
    conf,
    [
      '@version: 3.38',
      'options { log-msg-size(65536); };',
      `source s_pods { wildcard-file(base-dir("${root}") filename-pattern("*.log") recursive(yes) follow-freq(0.1) flags(no-parse) max-files(10000) log-fetch-limit(1000)); };`,
      `destination d_out { file("${out}" template("$MSG\\n")); };`,
      'log { source(s_pods); destination(d_out); };',
      '',
    ].join('\n'),
  );
  const [cmd, args] = pinned(bin, ['-F', '-f', conf, '-R', path.join(work, 'syslog-ng.persist'), '-p', path.join(work, 'syslog-ng.pid'), '-c', path.join(work, 'syslog-ng.ctl')]);
  const started = performance.now();
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  // taskset execs syslog-ng in place, so the child's pid is syslog-ng's.
  const pid = child.pid!;
  let peak = 0;
  let last = -1;
  let stableSince = 0;
  let seconds = 0;
  for (;;) {
    await new Promise((r) => setTimeout(r, 20));
    if (child.exitCode !== null) throw new Error(`syslog-ng exited: ${stderr}`);
    try {
      peak = Math.max(peak, Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024);
    } catch {
      // not yet running
    }
    const size = existsSync(out) ? statSync(out).size : 0;
    if (size !== last) {
      last = size;
      stableSince = performance.now();
      seconds = (performance.now() - started) / 1000;
    } else if (size >= expectedBytes * 0.9 && performance.now() - stableSince > 1000) break;
    if (performance.now() - started > 600_000) throw new Error('syslog-ng did not finish within 10 minutes');
  }
  const cpu = cpuSeconds(pid);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  const lines = Number(spawnSync('wc', ['-l', out]).stdout.toString().trim().split(' ')[0]);
  return { system: 'syslog-ng (Debian)', seconds, cpuSeconds: cpu, peakRssBytes: peak, records: lines, lines };
}

async function main(): Promise<void> {
  const lines = Number(process.env.BENCH_LOG_LINES ?? 2_000_000);
  const work = mkdtempSync(path.join(process.env.BENCH_TMPDIR ?? tmpdir(), 'vigil-bench-logs-'));
  try {
    const root = path.join(work, 'pods');
    mkdirSync(root);
    // No rotation: every system reads the same live files from the start.
    const gen = new PodLogGenerator({ root, startNs: BigInt(Date.now() - 3_600_000) * 1_000_000n, rotateBytes: Number.MAX_SAFE_INTEGER, seed: 3 });
    while (gen.linesWritten < lines) gen.step(Math.min(20_000, lines - gen.linesWritten));
    gen.finish();
    const records = gen.pods.reduce((n, p) => n + p.records, 0);
    const mib = gen.bytesWritten / MiB;
    console.log(`dataset: ${gen.linesWritten} runtime lines (${records} records after joining) in ${gen.pods.length} pods, ${formatBytes(gen.bytesWritten)}`);

    const results: Array<CollectorFigures & { lines: number }> = [];
    for (const mode of ['null', 'store'] as const) {
      const dataDir = path.join(work, `data-${mode}`);
      mkdirSync(dataDir);
      const r = await runVigil(mode, root, dataDir, records);
      if (r.records !== records) throw new Error(`Vigil (${mode}) acknowledged ${r.records} records, expected ${records}`);
      results.push({ ...r, lines: gen.linesWritten });
      rmSync(dataDir, { recursive: true, force: true });
    }
    const peer = await runSyslogNg(root, work, gen.bytesWritten);
    results.push(peer);

    console.log('');
    printTable(
      ['system (one core)', 'seconds', 'lines/s', 'MiB/s', 'CPU s / M lines', 'peak RSS'],
      results.map((r) => [
        r.system,
        r.seconds.toFixed(2),
        Math.round(gen.linesWritten / r.seconds).toLocaleString('en-US'),
        (mib / r.seconds).toFixed(1),
        (r.cpuSeconds / (gen.linesWritten / 1e6)).toFixed(2),
        formatBytes(r.peakRssBytes),
      ]),
    );
    if (peer.lines < gen.linesWritten) console.log(`note: syslog-ng wrote ${peer.lines} of ${gen.linesWritten} lines`);
    const [nullSink, store] = results;
    console.log('');
    printTable(
      ['Vigil ÷ syslog-ng', 'throughput', 'CPU / line', 'peak RSS'],
      [nullSink!, store!].map((r) => [
        r.system,
        (peer.seconds / r.seconds).toFixed(2),
        (r.cpuSeconds / peer.cpuSeconds).toFixed(2),
        (r.peakRssBytes / peer.peakRssBytes).toFixed(2),
      ]),
    );
    console.log('');
    console.log(`targets: null sink ≥ 50 MiB/s (${(mib / nullSink!.seconds).toFixed(1)}); into the store ≥ 100,000 lines/s (${Math.round(gen.linesWritten / store!.seconds).toLocaleString('en-US')})`);
    console.log('published anchors (file → TCP, 2 vCPU c5.large, 2019): Vector 76.7 MiB/s, Fluent Bit 35 MiB/s, Filebeat 7.8 MiB/s');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
