/**
 * The bounded queue between the file readers and the `LogSink`, and the loop that empties it.
 *
 * - Bounded in bytes: records count from the moment they are queued until the sink acknowledged
 *   them, so a slow or failing sink fills the queue and the readers stop reading (`full`); no
 *   record is ever dropped to make room.
 * - One batch in flight at a time, batches in queue order, so a file's records arrive in the
 *   order they were read and acknowledgements come back in that order too.
 * - A failed write is retried, the same batch, with exponential backoff, forever: the sink's
 *   outage may outlast any limit, and the files are the buffer. Only `stop` gives up on it.
 */
import type { LogRecord } from '../../model/logs.js';
import type { LogSink } from '../../storage/logs/interface.js';
import type { Logger } from '../../util/logging.js';
import type { LogCollectorMetrics } from './metrics.js';

/** Whoever must learn that a record was acknowledged: its file's checkpoint tracker. */
export interface AckOwner {
  acked(ticket: number): void;
}

export interface ShipEntry {
  readonly record: LogRecord;
  /** Accounted size (bytes of the runtime lines it came from, plus a fixed overhead). */
  readonly bytes: number;
  readonly owner: AckOwner;
  readonly ticket: number;
}

export interface ShipperOptions {
  readonly sink: LogSink;
  readonly metrics: LogCollectorMetrics;
  readonly logger: Logger;
  readonly maxQueueBytes: number;
  readonly batchMaxRecords: number;
  readonly batchMaxBytes: number;
  readonly batchMaxWaitMs: number;
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
  /** After every acknowledged batch, once its owners were told. */
  readonly onAcknowledged?: (batch: readonly LogRecord[]) => void;
  /** After every acknowledged batch and whenever room frees up in the queue. */
  readonly onProgress?: () => void;
}

export class Shipper {
  readonly #opts: ShipperOptions;
  /** Entries before `#head` were taken into a batch; their slots are cleared. */
  #queue: Array<ShipEntry | undefined> = [];
  #head = 0;
  #inFlight = 0;
  /** Bytes of queued and in-flight records. */
  #bytes = 0;
  /** Bytes of queued records not yet taken into a batch. */
  #waitingBytes = 0;
  #stopping = false;
  readonly #abort = new AbortController();
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #failingSince: number | undefined;

  constructor(opts: ShipperOptions) {
    this.#opts = opts;
  }

  /** Bytes of records read but not yet acknowledged. */
  get queuedBytes(): number {
    return this.#bytes;
  }

  /** True when readers must wait: the queue holds `maxQueueBytes` or more. */
  get full(): boolean {
    return this.#bytes >= this.#opts.maxQueueBytes;
  }

  /** Records queued or in flight. */
  get pending(): number {
    return this.#waiting + this.#inFlight;
  }

  get #waiting(): number {
    return this.#queue.length - this.#head;
  }

  /** Whether the sink is failing right now (the last write attempt failed). */
  get failing(): boolean {
    return this.#failingSince !== undefined;
  }

  push(entries: readonly ShipEntry[]): void {
    if (entries.length === 0) return;
    if (this.#stopping) throw new Error('shipper is stopping');
    for (const e of entries) {
      this.#queue.push(e);
      this.#bytes += e.bytes;
      this.#waitingBytes += e.bytes;
    }
    this.#opts.metrics.queueBytes.set(this.#bytes);
    this.#notify();
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /**
   * Stops after everything queued was acknowledged, or at `deadline` (ms since epoch), whichever
   * comes first; a write still under way then is aborted. Resolves true when the queue drained.
   */
  async stop(deadline: number): Promise<boolean> {
    this.#stopping = true;
    this.#notify();
    const loop = this.#loop ?? Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now()))));
    const outcome = await Promise.race([loop.then(() => 'done' as const), timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      this.#abort.abort();
      this.#notify();
      // A sink that ignores the abort signal cannot hold the shutdown: its late answer is ignored.
      await Promise.race([loop, new Promise((r) => setTimeout(r, 1000).unref())]);
    }
    return this.pending === 0;
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  /** Waits until `push`, `stop`, or `ms` elapsed (no timeout when undefined). */
  #sleep(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
      if (ms !== undefined) {
        timer = setTimeout(() => {
          this.#wake = undefined;
          resolve();
        }, ms);
      }
    });
  }

  async #run(): Promise<void> {
    const o = this.#opts;
    while (!this.#abort.signal.aborted) {
      if (this.#waiting === 0) {
        if (this.#stopping) return;
        await this.#sleep();
        continue;
      }
      // Give a small batch a moment to fill up: fewer, larger writes.
      const waitUntil = Date.now() + o.batchMaxWaitMs;
      while (!this.#stopping && this.#waiting < o.batchMaxRecords && this.#waitingBytes < o.batchMaxBytes && Date.now() < waitUntil) {
        await this.#sleep(waitUntil - Date.now());
      }
      const batch = this.#take();
      const records = batch.map((e) => e.record);
      if (!(await this.#write(records))) return;
      let bytes = 0;
      for (const e of batch) {
        e.owner.acked(e.ticket);
        bytes += e.bytes;
      }
      this.#inFlight = 0;
      this.#compact();
      this.#bytes -= bytes;
      o.metrics.queueBytes.set(this.#bytes);
      o.metrics.recordsShipped.inc(records.length);
      try {
        o.onAcknowledged?.(records);
      } catch (err) {
        o.logger.error({ err }, 'onAcknowledged callback failed');
      }
      o.onProgress?.();
    }
  }

  /** Takes the next batch off the queue (it stays accounted in `#bytes` until acknowledged). */
  #take(): ShipEntry[] {
    const o = this.#opts;
    const batch: ShipEntry[] = [];
    let bytes = 0;
    while (this.#head < this.#queue.length && batch.length < o.batchMaxRecords) {
      const e = this.#queue[this.#head]!;
      if (batch.length > 0 && bytes + e.bytes > o.batchMaxBytes) break;
      batch.push(e);
      bytes += e.bytes;
      this.#queue[this.#head++] = undefined;
    }
    this.#waitingBytes -= bytes;
    this.#inFlight = batch.length;
    return batch;
  }

  #compact(): void {
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 4096 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Writes until acknowledged; false when aborted by `stop`. */
  async #write(records: readonly LogRecord[]): Promise<boolean> {
    const o = this.#opts;
    let delay = o.retryInitialMs;
    let attempt = 0;
    for (;;) {
      attempt++;
      try {
        await o.sink.write(records, this.#abort.signal);
        if (this.#abort.signal.aborted) return false;
        if (this.#failingSince !== undefined) {
          o.logger.info({ sink: o.sink.name, failedForMs: Date.now() - this.#failingSince, attempts: attempt }, 'log sink recovered');
          this.#failingSince = undefined;
        }
        return true;
      } catch (err) {
        if (this.#abort.signal.aborted) return false;
        o.metrics.sinkErrors.inc();
        // Log the first failure and then at the backoff's cap, not every retry.
        if (this.#failingSince === undefined || delay >= o.retryMaxMs) {
          o.logger.warn({ err, sink: o.sink.name, records: records.length, attempt, retryInMs: delay }, 'log sink write failed; retrying');
        }
        this.#failingSince ??= Date.now();
        await this.#pause(delay);
        delay = Math.min(delay * 2, o.retryMaxMs);
      }
    }
  }

  /** Sleeps `ms` unless `stop` aborts. */
  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.#abort.signal;
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
