/**
 * Request bodies read into recycled buffers, for the ingest routes.
 *
 * Fastify's `parseAs: 'buffer'` concatenates every body into a fresh Buffer. A remote_write
 * sender posts ~100 KB bodies back to back, and each one stays referenced by its request until
 * the WAL flush that acknowledges it (up to a second), long enough to be promoted out of V8's
 * young generation: the off-heap bytes then wait for a full GC, and malloc keeps that backlog
 * resident. Here a body is copied straight from the socket chunks into a buffer taken from a
 * small pool, and the route hands it back as soon as the body is decoded.
 */
import { errorCodes, type FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';

/** Bodies up to this size use pooled buffers; larger ones get their own (and are not kept). */
const MAX_POOLED_BYTES = 4 * 1024 * 1024;
/** Buffers kept for reuse: about the number of requests in flight from a few senders. */
const MAX_SPARE = 8;

export class BodyPool {
  readonly #spare: Buffer[] = [];
  /** Pooled buffers by the body views handed out, so `release` finds the whole buffer. */
  readonly #owner = new WeakMap<Buffer, Buffer>();

  /** A buffer of at least `n` bytes; its first `n` bytes are to be overwritten. */
  #take(n: number): Buffer {
    for (let i = this.#spare.length - 1; i >= 0; i--) {
      const b = this.#spare[i]!;
      if (b.length >= n) {
        this.#spare.splice(i, 1);
        return b;
      }
    }
    // Rounded up so a buffer fits the slightly larger bodies that follow.
    return Buffer.allocUnsafeSlow(Math.min(MAX_POOLED_BYTES, Math.max(64 * 1024, 2 ** Math.ceil(Math.log2(n)))));
  }

  /**
   * Hands a body back once nothing reads it any more (the route decoded it). Bodies that did not
   * come from the pool, or a second release, are ignored.
   */
  release(body: unknown): void {
    if (!Buffer.isBuffer(body)) return;
    const buf = this.#owner.get(body);
    if (buf === undefined) return;
    this.#owner.delete(body);
    if (this.#spare.length < MAX_SPARE) this.#spare.push(buf);
  }

  /**
   * A Fastify content-type parser with the checks of the built-in one: Content-Length and the
   * streamed length against the route's body limit, and the streamed length against
   * Content-Length.
   */
  parser(): (req: FastifyRequest, payload: Readable, done: (err: Error | null, body?: Buffer) => void) => void {
    return (req, payload, done) => {
      const limit = req.routeOptions.bodyLimit;
      const declared = Number(req.headers['content-length']);
      if (declared > limit) {
        done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
        return;
      }
      const pooled = Number.isSafeInteger(declared) && declared > 0 && declared <= MAX_POOLED_BYTES;
      const buf = pooled ? this.#take(declared) : undefined;
      const chunks: Buffer[] = [];
      let received = 0;
      const finish = (err: Error | null, body?: Buffer) => {
        payload.removeListener('data', onData);
        payload.removeListener('end', onEnd);
        payload.removeListener('error', onEnd);
        done(err, body);
      };
      const onData = (chunk: Buffer | string) => {
        const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        if (received + b.length > limit) {
          finish(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
          return;
        }
        // Past the declared length the body is invalid anyway (checked at the end): stop copying.
        if (buf !== undefined) {
          if (received + b.length <= declared) b.copy(buf, received);
        } else {
          chunks.push(b);
        }
        received += b.length;
      };
      const onEnd = (err?: Error) => {
        if (err != null) {
          const e = err as Error & { statusCode?: number };
          if (!(typeof e.statusCode === 'number' && e.statusCode >= 400)) e.statusCode = 400;
          finish(e);
          return;
        }
        if (!Number.isNaN(declared) && received !== declared) {
          finish(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
          return;
        }
        if (buf === undefined) {
          finish(null, Buffer.concat(chunks, received));
          return;
        }
        const body = buf.subarray(0, received);
        this.#owner.set(body, buf);
        finish(null, body);
      };
      payload.on('data', onData);
      payload.on('end', onEnd);
      payload.on('error', onEnd);
      payload.resume();
    };
  }
}
