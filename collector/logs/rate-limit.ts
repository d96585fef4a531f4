/**
 * Per-stream line rate limits: a token bucket per key (one container stream), refilled at
 * `linesPerSecond` up to `burst`. Over the limit, the caller holds the container's lines back in
 * its file rather than dropping them (Promtail's `readline_rate_drop: false`), so the limit
 * protects the pipeline from one noisy container without losing what it wrote.
 *
 * A reservation larger than the burst is allowed once the bucket is full and leaves it in debt,
 * so a batch of any size passes eventually and the long-run rate still holds.
 */

interface Bucket {
  tokens: number;
  updatedMs: number;
}

const TOKEN_EPSILON = 1e-6;

/** Full buckets are forgotten on a sweep: a full bucket is the same as no bucket. */
const SWEEP_INTERVAL_MS = 60_000;

/** Token bucket per container stream: lines per second with a burst. */
export class StreamRateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  readonly #buckets = new Map<string, Bucket>();
  #sweptMs = -Infinity;

  constructor(opts: { linesPerSecond: number; burst: number }) {
    if (!(opts.linesPerSecond > 0) || !Number.isFinite(opts.linesPerSecond)) throw new RangeError(`linesPerSecond must be a positive number, got ${opts.linesPerSecond}`);
    if (!(opts.burst >= 1) || !Number.isFinite(opts.burst)) throw new RangeError(`burst must be at least 1, got ${opts.burst}`);
    this.#rate = opts.linesPerSecond / 1000;
    this.#burst = opts.burst;
  }

  /** ms to wait before `n` more lines may pass (0 = now); takes tokens when 0. */
  reserve(key: string, n: number, nowMs: number): number {
    if (nowMs - this.#sweptMs >= SWEEP_INTERVAL_MS) this.#sweep(nowMs);
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: this.#burst, updatedMs: nowMs };
      this.#buckets.set(key, bucket);
    } else {
      this.#refill(bucket, nowMs);
    }
    const needed = Math.min(n, this.#burst);
    // Refills are fractional: allow rounding error, or waiting the time we said may fall short.
    if (bucket.tokens >= needed - TOKEN_EPSILON) {
      bucket.tokens -= n;
      return 0;
    }
    return Math.ceil((needed - bucket.tokens) / this.#rate);
  }

  /** Drops a key's bucket (its file is closed). */
  forget(key: string): void {
    this.#buckets.delete(key);
  }

  /** Buckets currently held. */
  get size(): number {
    return this.#buckets.size;
  }

  #refill(bucket: Bucket, nowMs: number): void {
    // A clock stepping back refills nothing rather than draining.
    const elapsed = Math.max(0, nowMs - bucket.updatedMs);
    bucket.tokens = Math.min(this.#burst, bucket.tokens + elapsed * this.#rate);
    bucket.updatedMs = Math.max(bucket.updatedMs, nowMs);
  }

  #sweep(nowMs: number): void {
    this.#sweptMs = nowMs;
    for (const [key, bucket] of this.#buckets) {
      this.#refill(bucket, nowMs);
      if (bucket.tokens >= this.#burst) this.#buckets.delete(key);
    }
  }
}
