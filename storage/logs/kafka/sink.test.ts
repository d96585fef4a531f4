/**
 * The sink without a broker: what it does when Kafka is unreachable, and its lifecycle. Delivery
 * itself is proven by the LogSink contract suite in kafka.test.ts against a real broker.
 */
import { createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { logRecordId, type LogRecord, type LogSource } from '../../../model/logs.js';
import { silentLogger } from '../../../util/logging.js';
import { LogUnavailableError } from '../interface.js';
import { LogSinkClosedError } from '../store-sink.js';
import { KafkaLogSink } from './sink.js';

const SOURCE: LogSource = { node: 'n', namespace: 'ns', pod: 'p', podUid: 'u', container: 'c', restart: 0, path: '/x', fileKey: 'k' };
const RECORD: LogRecord = {
  id: logRecordId('n', 'k', 0),
  timeNs: 1n,
  stream: 'stdout',
  level: 'info',
  message: 'hello',
  source: SOURCE,
  offset: 0,
  endOffset: 10,
};

/** A port nothing listens on: bound, then released. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A port that accepts connections and never answers, as a hung broker. */
async function silentBroker(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const sinks: KafkaLogSink[] = [];
afterEach(async () => {
  await Promise.all(sinks.splice(0).map((s) => s.close().catch(() => undefined)));
});

function sink(port: number, registry = new Registry(), requestTimeoutMs = 30_000): KafkaLogSink {
  const s = new KafkaLogSink({
    client: {
      brokers: [`127.0.0.1:${port}`],
      clientId: 'vigil-test',
      connectionTimeoutMs: 300,
      requestTimeoutMs,
      retry: { retries: 1, initialRetryTime: 50, maxRetryTime: 100 },
    },
    topic: 'vigil-logs',
    registry,
    logger: silentLogger(),
    retry: { retries: 1, initialRetryTime: 50, maxRetryTime: 100 },
  });
  sinks.push(s);
  return s;
}

describe('KafkaLogSink without a broker', () => {
  it('fails a write with LogUnavailableError when no broker listens, and counts it', async () => {
    const registry = new Registry();
    const s = sink(await deadPort(), registry);
    const err = await s.write([RECORD]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LogUnavailableError);
    expect((err as Error).message).toMatch(/cannot connect to 127\.0\.0\.1:\d+/);
    const text = await registry.metrics();
    expect(text).toMatch(/vigil_kafka_sink_errors_total\{kind="unavailable"\} 1/);
    expect(text).toMatch(/vigil_kafka_sink_records_sent_total 0/);
    // The next write tries to connect again rather than remembering the failure.
    await expect(s.write([RECORD])).rejects.toBeInstanceOf(LogUnavailableError);
    expect(await registry.metrics()).toMatch(/vigil_kafka_sink_errors_total\{kind="unavailable"\} 2/);
  });

  it('fails a write with LogUnavailableError when the broker never answers', async () => {
    const broker = await silentBroker();
    try {
      const s = sink(broker.port, new Registry(), 300);
      await expect(s.write([RECORD])).rejects.toBeInstanceOf(LogUnavailableError);
    } finally {
      await broker.close();
    }
  });

  it('acknowledges an empty batch without contacting Kafka', async () => {
    const s = sink(await deadPort());
    await expect(s.write([])).resolves.toBeUndefined();
    await expect(s.flush()).resolves.toBeUndefined();
  });

  it('lets flush wait for writes under way and not fail with them', async () => {
    const s = sink(await deadPort());
    const w = s.write([RECORD]);
    const settled = w.then(
      () => 'resolved',
      () => 'rejected',
    );
    await s.flush();
    // flush resolved only after the write settled.
    expect(await Promise.race([settled, Promise.resolve('pending')])).toBe('rejected');
  });

  it('rejects an aborted write without sending', async () => {
    const s = sink(await deadPort());
    const ac = new AbortController();
    ac.abort(new Error('shutting down'));
    await expect(s.write([RECORD], ac.signal)).rejects.toThrow('shutting down');
  });

  it('rejects writes after close', async () => {
    const s = sink(await deadPort());
    await s.close();
    await expect(s.write([RECORD])).rejects.toBeInstanceOf(LogSinkClosedError);
    await expect(s.write([])).rejects.toBeInstanceOf(LogSinkClosedError);
    await expect(s.close()).resolves.toBeUndefined();
  });
});
