/**
 * The indexer service without a broker: start-up failure and clean stop, and its backoff. The
 * per-batch logic is index-batch.test.ts; consuming from a real broker is kafka.test.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { silentLogger } from '../../../util/logging.js';
import { SqliteLogStore } from '../sqlite/index.js';
import { backoffMs, Indexer } from './indexer.js';

async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('Indexer service', () => {
  it('fails to start when no broker answers, and stops cleanly afterwards', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'vigil-indexer-'));
    const store = new SqliteLogStore({ dir });
    try {
      const indexer = new Indexer({
        client: { brokers: [`127.0.0.1:${await deadPort()}`], clientId: 'vigil-test', connectionTimeoutMs: 200, retry: { retries: 1, initialRetryTime: 50, maxRetryTime: 100 } },
        topic: 'vigil-logs',
        store: () => store,
        registry: new Registry(),
        logger: silentLogger(),
      });
      const fatal: unknown[] = [];
      await expect(indexer.start({ signal: new AbortController().signal, fatal: (e) => void fatal.push(e) })).rejects.toThrow(/ECONNREFUSED|Connection error/);
      await expect(indexer.stop()).resolves.toBeUndefined();
      expect(fatal).toEqual([]);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a topic name Kafka would refuse', () => {
    expect(
      () => new Indexer({ client: { brokers: ['x:9092'], clientId: 'c' }, topic: 'logs/k8s', store: () => { throw new Error('unused'); }, registry: new Registry(), logger: silentLogger() }),
    ).toThrow(/topic "logs\/k8s"/);
  });

  it('backs off exponentially with jitter, up to the cap', () => {
    const opts = { initialMs: 100, maxMs: 3000 };
    for (let failures = 1; failures <= 40; failures++) {
      const step = Math.min(3000, 100 * 2 ** (failures - 1));
      for (let i = 0; i < 50; i++) {
        const d = backoffMs(failures, opts);
        expect(d).toBeGreaterThanOrEqual(Math.floor(step / 2));
        expect(d).toBeLessThanOrEqual(step);
      }
    }
    expect(backoffMs(1)).toBeLessThanOrEqual(500);
    expect(backoffMs(100)).toBeLessThanOrEqual(30_000);
  });
});
