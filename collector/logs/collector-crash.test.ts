/**
 * kill -9 of a real collector process: the compiled collector runs in a child process whose sink
 * appends every batch to a file before acknowledging it (durable the moment `write` resolves).
 * After SIGKILL the next process must resume exactly at the persisted checkpoint, and the
 * checkpoint must never be past a record that was not acknowledged.
 */
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../util/build-info.js';

const COLLECTOR_JS = path.join(PACKAGE_ROOT, 'dist/collector/logs/collector.js');

/** The child: a collector over `root` whose sink appends `[id, offset, message]` lines to `out`. */
const CHILD = `
import { appendFileSync } from 'node:fs';
const { LogCollector } = await import(process.env.COLLECTOR_URL);
const out = process.env.OUT;
const sink = {
  name: 'file',
  async write(batch) {
    await new Promise((r) => setTimeout(r, 3));
    appendFileSync(out, batch.map((r) => JSON.stringify([r.id, r.offset, r.message]) + '\\n').join(''));
  },
  async flush() {},
  async close() {},
};
const c = new LogCollector({ sink, dataDir: process.env.DATA, podsRoot: process.env.ROOT, nodeName: 'n', scanIntervalMs: 50, batchMaxRecords: 50, batchMaxWaitMs: 2, assembler: { multiline: false } });
await c.start();
`;

function cri(seq: number): string {
  return `2024-05-01T10:00:00.${String(seq).padStart(9, '0')}Z stdout F line ${String(seq).padStart(5, '0')}\n`;
}

interface Child {
  readonly process: ChildProcess;
  /** What the child wrote to stderr, for the failure message. */
  readonly stderr: () => string;
}

function run(env: Record<string, string>): Child {
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return { process: child, stderr: () => stderr };
}

function readOut(file: string): Array<[string, number, string]> {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.pop(); // empty after the last newline, or a line still being appended
  return lines.map((l) => JSON.parse(l) as [string, number, string]);
}

async function until(what: string, child: Child, cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    const p = child.process;
    if (p.exitCode !== null || p.signalCode !== null) throw new Error(`collector process exited (${p.exitCode ?? p.signalCode}) before ${what}: ${child.stderr()}`);
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}; collector stderr: ${child.stderr()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function checkpoints(data: string): number[] {
  const file = path.join(data, 'log-checkpoints.db');
  if (!existsSync(file)) return [];
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare('SELECT "offset" FROM log_checkpoints').all() as Array<{ offset: number }>).map((r) => r.offset);
  } catch {
    return []; // not created yet
  } finally {
    db.close();
  }
}

async function kill(child: Child): Promise<void> {
  const p = child.process;
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGKILL');
  await exited;
}

describe('LogCollector under kill -9', () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('resumes at the last persisted acknowledged offset; every line arrives, with stable ids', async () => {
    if (!existsSync(COLLECTOR_JS)) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    dir = await mkdtemp(path.join(tmpdir(), 'vigil-logkill-'));
    const root = path.join(dir, 'pods');
    const data = path.join(dir, 'data');
    const container = path.join(root, 'ns_pod_uid', 'app');
    mkdirSync(container, { recursive: true });
    const file = path.join(container, '0.log');
    const total = 6000;
    writeFileSync(file, Array.from({ length: 4000 }, (_, i) => cri(i)).join(''));
    const env = { COLLECTOR_URL: pathToFileURL(COLLECTOR_JS).href, DATA: data, ROOT: root };
    const offsetOf = (seq: number) => seq * cri(0).length; // fixed-width lines

    const out1 = path.join(dir, 'out1');
    const first = run({ ...env, OUT: out1 });
    await until('1000 acknowledged and a checkpoint persisted', first, () => readOut(out1).length >= 1000 && (checkpoints(data)[0] ?? 0) > 0);
    await kill(first);
    const acked1 = readOut(out1);
    expect(acked1.length).toBeLessThan(4000); // killed mid-way

    const rows = checkpoints(data);
    expect(rows.length).toBe(1);
    const checkpoint = rows[0]!;
    // Never past an unacknowledged record: everything before the checkpoint was acknowledged.
    const ackedOffsets = new Set(acked1.map((r) => r[1]));
    expect(checkpoint % cri(0).length).toBe(0);
    for (let seq = 0; offsetOf(seq) < checkpoint; seq++) expect(ackedOffsets.has(offsetOf(seq))).toBe(true);

    appendFileSync(file, Array.from({ length: total - 4000 }, (_, i) => cri(4000 + i)).join(''));
    const out2 = path.join(dir, 'out2');
    const second = run({ ...env, OUT: out2 });
    await until(`all ${total} lines`, second, () => new Set([...acked1, ...readOut(out2)].map((r) => r[2])).size === total);
    await kill(second);
    const acked2 = readOut(out2);
    expect(acked2[0]![1]).toBe(checkpoint); // resumed exactly at the checkpoint
    const all = [...acked1, ...acked2];
    // A replayed line has the same id as the first time.
    const idOf = new Map<string, string>();
    for (const [id, , message] of all) {
      expect(idOf.get(message) ?? id).toBe(id);
      idOf.set(message, id);
    }
    // Duplicates are only what was acknowledged after the last persisted checkpoint.
    const dups = all.length - total;
    expect(dups).toBe(acked1.filter((r) => r[1] >= checkpoint).length);
  });
});
