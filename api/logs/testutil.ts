/**
 * Test support for the log APIs: the real fastify app over a real SQLite log store in a temp
 * directory, holding two teams' namespaces. A request's scope comes from the `x-test-scope`
 * header (comma-separated namespaces; absent means all), through the app's scope resolver, so
 * one app serves scoped and unscoped callers.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { parseConfig } from '../../config/load.js';
import { parseTimeNs, type LogRecord } from '../../model/logs.js';
import { SqliteLogStore } from '../../storage/logs/sqlite/index.js';
import { testLogRecord } from '../../storage/logs/store-contract.js';
import { silentLogger } from '../../util/logging.js';
import { buildApp } from '../app.js';
import type { AppContext } from '../context.js';

export const SECOND = 1_000_000_000n;
export const MINUTE = 60n * SECOND;
/** Data time: the incident at 03:12. */
export const T0 = parseTimeNs('2025-06-01T03:00:00Z');
export const SCOPE_HEADER = 'x-test-scope';

/**
 * team-a/api-1 (uid a1, running): 20 lines a second apart from T0, every 4th an error with
 * "timeout", every 5th a JSON line with latency_ms; team-a/api-0 (uid a0): 5 lines 30 minutes
 * earlier, a replica deleted since; team-b/vault-1: 20 lines, every one holding "timeout" and
 * "SECRET-B", at the same times as api-1.
 */
export function fixtureRecords(): LogRecord[] {
  const out: LogRecord[] = [];
  for (let i = 0; i < 20; i++) {
    const t = T0 + BigInt(i) * SECOND;
    const json = i % 5 === 0;
    const message = json
      ? JSON.stringify({ level: i % 10 === 0 ? 'error' : 'info', latency_ms: i * 50, msg: `request ${i}` })
      : i % 4 === 0
        ? `request ${i} failed: upstream timeout`
        : `request ${i} ok`;
    out.push(
      testLogRecord({
        t,
        offset: i * 100,
        message,
        ns: 'team-a',
        pod: 'api-1',
        uid: 'a1',
        level: i % 4 === 0 ? 'error' : 'info',
        stream: i % 4 === 0 ? 'stderr' : 'stdout',
        node: 'node-1',
      }),
    );
    out.push(testLogRecord({ t, offset: i * 100, message: `vault ${i} timeout SECRET-B`, ns: 'team-b', pod: 'vault-1', uid: 'b1', level: 'warn', node: 'node-2' }));
  }
  for (let i = 0; i < 5; i++) {
    out.push(testLogRecord({ t: T0 - 30n * MINUTE + BigInt(i) * SECOND, offset: i * 100, message: `old replica ${i} timeout`, ns: 'team-a', pod: 'api-0', uid: 'a0', node: 'node-1' }));
  }
  return out;
}

export interface LogApiFixture {
  readonly app: FastifyInstance;
  readonly store: SqliteLogStore;
  close(): Promise<void>;
}

export async function logApiFixture(opts: { records?: readonly LogRecord[]; configYaml?: string } = {}): Promise<LogApiFixture> {
  const dir = await mkdtemp(path.join(tmpdir(), 'vigil-log-api-'));
  const store = new SqliteLogStore({ dir: path.join(dir, 'logs') });
  const records = opts.records ?? fixtureRecords();
  for (let i = 0; i < records.length; i += 5000) await store.append(records.slice(i, i + 5000));
  const config = await parseConfig(opts.configYaml ?? '', { file: '', env: {} });
  const ctx: AppContext = {
    logger: silentLogger(),
    registry: new Registry(),
    roles: ['all'],
    startedAt: new Date(),
    readiness: () => ({ ready: true, services: [] }),
    reload: async () => ({ ok: true, warnings: [] }),
    config: () => ({ config, file: '', source: '' }),
    lastReloadError: () => undefined,
    flags: {},
    serveUi: false,
    logs: { store: () => store },
  };
  const app = await buildApp(ctx, {
    bodyLimit: 1024 * 1024,
    resolveLogScope: (req) => {
      const h = req.headers[SCOPE_HEADER];
      if (h === undefined) return 'all';
      return String(h)
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    },
  });
  return {
    app,
    store,
    close: async () => {
      await app.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Query-string parameters, nanosecond times as decimal strings. */
export function qs(params: Record<string, string | bigint | number>): string {
  return new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString();
}
