import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { logRecordId, type LogRecord, type LogSource } from '../../model/logs.js';
import { LogUnavailableError, type LogSink } from '../../storage/logs/interface.js';
import { silentLogger } from '../../util/logging.js';
import { LogCollectorMetrics } from './metrics.js';
import { Shipper, type AckOwner, type ShipEntry } from './shipper.js';

const source: LogSource = { node: 'n', namespace: 'ns', pod: 'p', podUid: 'u', container: 'c', restart: 0, path: '/x/0.log', fileKey: 'fk' };

function record(offset: number): LogRecord {
  return { id: logRecordId('n', 'fk', offset), timeNs: BigInt(offset), stream: 'stdout', level: 'info', message: `m${offset}`, source, offset, endOffset: offset + 10 };
}

/** A sink that records batches; `failures` first writes fail; `gate` (when set) holds every write until opened. */
class RecordingSink implements LogSink {
  readonly name = 'recording';
  readonly batches: LogRecord[][] = [];
  attempts = 0;
  failures = 0;
  gate: Promise<void> | undefined;
  async write(batch: readonly LogRecord[], signal?: AbortSignal): Promise<void> {
    this.attempts++;
    if (this.gate !== undefined) {
      await Promise.race([
        this.gate,
        new Promise((_, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true })),
      ]);
    }
    if (this.failures > 0) {
      this.failures--;
      throw new LogUnavailableError('store down');
    }
    this.batches.push([...batch]);
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

class Owner implements AckOwner {
  readonly acks: number[] = [];
  acked(ticket: number): void {
    this.acks.push(ticket);
  }
}

function setup(sink: LogSink, over: Partial<ConstructorParameters<typeof Shipper>[0]> = {}) {
  const registry = new Registry();
  const metrics = new LogCollectorMetrics(registry, () => 0);
  const acknowledged: LogRecord[][] = [];
  const shipper = new Shipper({
    sink,
    metrics,
    logger: silentLogger(),
    maxQueueBytes: 1000,
    batchMaxRecords: 3,
    batchMaxBytes: 1_000_000,
    batchMaxWaitMs: 20,
    retryInitialMs: 10,
    retryMaxMs: 40,
    onAcknowledged: (b) => acknowledged.push([...b]),
    ...over,
  });
  shipper.start();
  return { shipper, metrics, registry, acknowledged };
}

const entries = (owner: Owner, offsets: number[], bytes = 100): ShipEntry[] => offsets.map((o, i) => ({ record: record(o), bytes, owner, ticket: i }));
const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('Shipper', () => {
  it('writes batches in order, sized by batchMaxRecords, and acknowledges every record once', async () => {
    const sink = new RecordingSink();
    const { shipper, acknowledged, metrics } = setup(sink);
    const owner = new Owner();
    shipper.push(entries(owner, [0, 10, 20, 30, 40, 50, 60]));
    await until(() => owner.acks.length === 7);
    expect(sink.batches.map((b) => b.map((r) => r.offset))).toEqual([[0, 10, 20], [30, 40, 50], [60]]);
    expect(owner.acks).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(acknowledged).toEqual(sink.batches);
    expect(shipper.queuedBytes).toBe(0);
    expect((await metrics.recordsShipped.get()).values[0]!.value).toBe(7);
    expect(await shipper.stop(Date.now() + 1000)).toBe(true);
  });

  it('splits by batchMaxBytes but always sends a record larger than the limit', async () => {
    const sink = new RecordingSink();
    const { shipper } = setup(sink, { batchMaxRecords: 100, batchMaxBytes: 250 });
    const owner = new Owner();
    shipper.push([...entries(owner, [0, 10, 20]), { record: record(30), bytes: 900, owner, ticket: 3 }, ...entries(owner, [40]).map((e) => ({ ...e, ticket: 4 }))]);
    await until(() => owner.acks.length === 5);
    expect(sink.batches.map((b) => b.map((r) => r.offset))).toEqual([[0, 10], [20], [30], [40]]);
    await shipper.stop(Date.now() + 1000);
  });

  it('retries a failing sink with the same batch until it recovers, counting errors, losing nothing', async () => {
    const sink = new RecordingSink();
    sink.failures = 5;
    const { shipper, metrics } = setup(sink);
    const owner = new Owner();
    const started = Date.now();
    shipper.push(entries(owner, [0, 10]));
    expect(shipper.queuedBytes).toBe(200);
    await until(() => owner.acks.length === 2);
    // Backoff 10, 20, 40, 40, 40 ms between the six attempts.
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(sink.attempts).toBe(6);
    expect(sink.batches.map((b) => b.map((r) => r.offset))).toEqual([[0, 10]]);
    expect((await metrics.sinkErrors.get()).values[0]!.value).toBe(5);
    expect(shipper.queuedBytes).toBe(0);
    await shipper.stop(Date.now() + 1000);
  });

  it('reports full once unacknowledged bytes reach the bound, and room again after the ack', async () => {
    const sink = new RecordingSink();
    let open!: () => void;
    sink.gate = new Promise((r) => (open = r));
    const { shipper, metrics } = setup(sink, { batchMaxRecords: 100 });
    const owner = new Owner();
    shipper.push(entries(owner, [0, 10, 20, 30, 40, 50, 60, 70, 80]));
    expect(shipper.full).toBe(false);
    shipper.push(entries(owner, [90]).map((e) => ({ ...e, ticket: 9 })));
    expect(shipper.full).toBe(true);
    expect((await metrics.queueBytes.get()).values[0]!.value).toBe(1000);
    await new Promise((r) => setTimeout(r, 50));
    expect(shipper.full).toBe(true); // the batch in flight still counts
    open();
    await until(() => !shipper.full);
    expect(shipper.queuedBytes).toBe(0);
    await shipper.stop(Date.now() + 1000);
  });

  it('stop waits for the queue to drain, or gives up at the deadline and aborts the write', async () => {
    const sink = new RecordingSink();
    sink.gate = new Promise(() => undefined); // never acknowledges
    const { shipper } = setup(sink);
    const owner = new Owner();
    shipper.push(entries(owner, [0, 10]));
    const t0 = Date.now();
    expect(await shipper.stop(Date.now() + 150)).toBe(false);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(owner.acks).toEqual([]);
    expect(shipper.pending).toBe(2);
  });
});
