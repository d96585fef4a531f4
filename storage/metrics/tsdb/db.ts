/**
 * The embedded TSDB: an in-memory head made durable by a WAL with periodic checkpoints, plus
 * background retention. Implements the storage `Appendable` and `Queryable` interfaces.
 *
 * There are no persistent blocks: the whole retention window lives in compressed head chunks
 * (~1–2 bytes a sample), the WAL only has to survive restarts, and checkpoints keep its replay
 * bounded. See `head.ts`, `wal.ts` and `checkpoint.ts` for the parts.
 *
 * The WAL also feeds tailers such as remote_write (`wal-reader.ts`). They register named holds
 * (`wal-hold.ts`) so checkpoints keep the segments they have not shipped, bounded by retention.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Appendable, Appender, Querier, Queryable } from '../interface.js';
import { deleteCheckpointsBefore, listCheckpoints, loadCheckpoint, writeCheckpoint, type CheckpointStats } from './checkpoint.js';
import { Head, type CommitLog, type HeadStats } from './head.js';
import { SILENT_LOGGER, type TSDBLogger } from './logger.js';
import { MappedChunkArena } from './chunk/mapped-arena.js';
import { HeadQuerier } from './querier.js';
import { decodeRecord, DecodeError, Encoder, encodeSamples, encodeSeries, RECORD_SAMPLES, RECORD_SERIES } from './record.js';
import type { MemSeries } from './series.js';
import { FRAME_HEADER_BYTES, listSegments, readRecords, replaySegments, segmentName, WAL } from './wal.js';
import { WalHolds, type WalHoldDrop, type WalPosition } from './wal-hold.js';

export interface TSDBOptions {
  readonly dir: string;
  /** Samples older than now − retention are dropped and refused; default 24h. */
  readonly retentionMs?: number;
  /** WAL flush + fdatasync period, bounding what a crash loses; default 1000 ms. 0 = manual. */
  readonly walFlushIntervalMs?: number;
  /** WAL segment size; default 128 MiB. */
  readonly walSegmentSize?: number;
  /** Size retention on chunk memory: the oldest chunks are dropped beyond it. */
  readonly maxBytes?: number;
  /** Upper bound on live series; appends creating more fail with reason 'limit'. */
  readonly maxSeries?: number;
  readonly logger?: TSDBLogger;
  /** Millisecond clock for retention decisions; injectable for tests. */
  readonly clock?: () => number;
  /** Period of the background retention/checkpoint task; default 60 s. 0 disables it. */
  readonly maintenanceIntervalMs?: number;
  /** Checkpoint at least this often (by `clock`); default 30 min. */
  readonly checkpointIntervalMs?: number;
  /** ...or once this many WAL bytes were written since the last one; default 256 MiB. */
  readonly checkpointWalBytes?: number;
  readonly chunkRangeMs?: number;
  readonly samplesPerChunk?: number;
  /**
   * Where sealed head chunks live: 'mapped' (default) packs them into file-backed segments under
   * `<dir>/chunks_head/` that the kernel can page out, as Prometheus does; 'heap' keeps them in
   * process memory.
   */
  readonly headChunks?: 'mapped' | 'heap';
}

export interface TSDBStats extends HeadStats {
  readonly walSegment: number;
  readonly walPendingBytes: number;
  readonly lastCheckpoint: number | null;
  /** Highest sample timestamp logged since open (ms), or null; the newest appended sample. */
  readonly maxLoggedTime: number | null;
  /** Whether sealed head chunks are in file-backed segments (false: on the heap). */
  readonly headChunksMapped: boolean;
}

export interface TruncateResult {
  readonly mint: number;
  readonly series: number;
  readonly samples: number;
}

export interface TSDB extends Appendable, Queryable {
  stats(): TSDBStats;
  /** Makes every commit so far durable. */
  flushWAL(): Promise<void>;
  /** Applies time and size retention now. */
  truncate(): Promise<TruncateResult>;
  /** Writes a checkpoint now and deletes the WAL segments it covers (except held ones). */
  checkpoint(): Promise<CheckpointStats>;
  close(): Promise<void>;

  // --- For WAL tailers (remote_write): see `wal-reader.ts` and `wal-hold.ts`. ---

  /** The directory of the WAL segments and checkpoints. */
  readonly walDir: string;
  /** The logical end of the WAL: where the next record will go (a reader started here sees only newer records). */
  walPosition(): WalPosition;
  /**
   * Creates or moves the hold `name`: segments at or after `pos.segment` are not deleted by
   * checkpoints (nor at start-up) until the hold moves past them, is released, or they fall entirely
   * out of retention (the safety valve, reported to `onWalHoldDrop` listeners). Persisted, so it is in
   * force across restarts. Resolves once durable.
   */
  holdWal(name: string, pos: WalPosition): Promise<void>;
  releaseWal(name: string): Promise<void>;
  walHolds(): ReadonlyMap<string, WalPosition>;
  /** Subscribes to safety-valve releases; returns the unsubscribe function. */
  onWalHoldDrop(listener: (drop: WalHoldDrop) => void): () => void;
}

const HOUR = 3600_000;

/** Opens (creating or recovering) a TSDB in `opts.dir`: loads the latest checkpoint, replays the WAL. */
export async function openTSDB(opts: TSDBOptions): Promise<TSDB> {
  const logger = opts.logger ?? SILENT_LOGGER;
  const clock = opts.clock ?? Date.now;
  const walDir = join(opts.dir, 'wal');
  await mkdir(walDir, { recursive: true });
  const sealedArena =
    (opts.headChunks ?? 'mapped') === 'mapped'
      ? new MappedChunkArena({ dir: join(opts.dir, 'chunks_head'), onFallback: (reason) => logger.warn(`tsdb: ${reason}`) })
      : undefined;
  const head = new Head({
    ...(sealedArena !== undefined && { sealedArena }),
    retentionMs: opts.retentionMs ?? 24 * HOUR,
    clock,
    ...(opts.maxSeries !== undefined && { maxSeries: opts.maxSeries }),
    ...(opts.chunkRangeMs !== undefined && { chunkRangeMs: opts.chunkRangeMs }),
    ...(opts.samplesPerChunk !== undefined && { samplesPerChunk: opts.samplesPerChunk }),
  });

  const started = performance.now();
  const checkpoints = await listCheckpoints(walDir);
  const cp = checkpoints.length > 0 ? checkpoints[checkpoints.length - 1]! : -1;
  const holds = await WalHolds.load(walDir);
  const refs = cp >= 0 ? await loadCheckpoint(walDir, cp, head, logger) : new Map<number, MemSeries>();
  if (cp >= 0) {
    // Segments a checkpoint covers may survive a crash between checkpointing and deleting; those a
    // WAL tailer still holds are kept on purpose (replay starts after the checkpoint either way).
    const keepFrom = holds.minSegment();
    for (const s of await listSegments(walDir)) if (s <= cp && s < keepFrom) await rm(join(walDir, segmentName(s)), { force: true });
    await deleteCheckpointsBefore(walDir, cp);
  }
  const replay = new Replayer(head, refs, logger);
  const lastSeg = await replaySegments(walDir, (p) => replay.apply(p), { after: cp, logger });
  const wal = await WAL.open(walDir, Math.max(lastSeg, cp) + 1, {
    ...(opts.walSegmentSize !== undefined && { segmentSize: opts.walSegmentSize }),
    ...(opts.walFlushIntervalMs !== undefined && { flushIntervalMs: opts.walFlushIntervalMs }),
    logger,
  });
  const db = new DB(head, wal, walDir, opts, logger, clock, cp >= 0 ? cp : null, holds, sealedArena);
  head.log = db.commitLog;
  await db.truncate();
  const s = head.stats();
  logger.info(
    `tsdb: opened ${opts.dir} in ${Math.round(performance.now() - started)} ms: ${s.numSeries} series, ${s.numSamples} samples ` +
      `(checkpoint ${cp >= 0 ? segmentName(cp) : 'none'}, ${replay.samples} WAL samples replayed, ${replay.unknownRefs} for unknown series)`,
  );
  db.start();
  return db;
}

/** Applies WAL records to the head, mapping WAL refs onto live series. */
class Replayer {
  samples = 0;
  unknownRefs = 0;
  readonly #minValid: number;

  constructor(
    readonly head: Head,
    readonly refs: Map<number, MemSeries>,
    readonly logger: TSDBLogger,
  ) {
    this.#minValid = head.minValidTime();
  }

  apply(payload: Buffer): void {
    let rec;
    try {
      rec = decodeRecord(payload);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      this.logger.warn(`tsdb wal: skipping undecodable record: ${err.message}`);
      return;
    }
    if (rec.type === RECORD_SERIES) {
      for (const e of rec.series) this.refs.set(e.ref, this.head.createWithRef(e.ref, e.labels));
    } else if (rec.type === RECORD_SAMPLES) {
      const { refs, ts, vs } = rec;
      for (let i = 0; i < refs.length; i++) {
        const s = this.refs.get(refs[i]!);
        if (s === undefined) {
          this.unknownRefs++;
          this.head.reserveRef(refs[i]!);
          continue;
        }
        if (this.head.appendReplayed(s, ts[i]!, vs[i]!, this.#minValid)) this.samples++;
      }
    }
  }
}

/** Newest sample time and sample count of one sealed segment, for the hold safety valve. */
interface SegmentSummary {
  readonly maxT: number;
  readonly samples: number;
}

class DB implements TSDB {
  readonly commitLog: CommitLog;
  readonly walDir: string;
  readonly #holds: WalHolds;
  readonly #holdListeners = new Set<(drop: WalHoldDrop) => void>();
  /** Summaries of sealed segments (immutable, so cached) that the valve had to look at. */
  readonly #segmentSummaries = new Map<number, SegmentSummary>();
  #maxLoggedTime: number | null = null;
  readonly #head: Head;
  readonly #sealedArena: MappedChunkArena | undefined;
  readonly #wal: WAL;
  readonly #opts: TSDBOptions;
  readonly #logger: TSDBLogger;
  readonly #clock: () => number;
  #lastCheckpoint: number | null;
  #lastCheckpointAt: number;
  #walBytesAtCheckpoint = 0;
  #timer: NodeJS.Timeout | null = null;
  /** Serialises maintenance (retention, checkpoint) so runs never overlap. */
  #maintenance: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(head: Head, wal: WAL, walDir: string, opts: TSDBOptions, logger: TSDBLogger, clock: () => number, lastCheckpoint: number | null, holds: WalHolds, sealedArena: MappedChunkArena | undefined) {
    this.#head = head;
    this.#sealedArena = sealedArena;
    this.walDir = walDir;
    this.#holds = holds;
    this.#wal = wal;
    this.#opts = opts;
    this.#logger = logger;
    this.#clock = clock;
    this.#lastCheckpoint = lastCheckpoint;
    this.#lastCheckpointAt = clock();
    const sampleEncoder = new Encoder(64 * 1024);
    this.commitLog = {
      logSeries: (series) => wal.log(encodeSeries(series)),
      logSamples: (refs, ts, vs, n) => {
        // One encoder reused for every commit: `wal.log` copies the record before returning.
        sampleEncoder.reset();
        wal.log(encodeSamples(refs, ts, vs, n, sampleEncoder));
        let max = this.#maxLoggedTime ?? -Infinity;
        for (let i = 0; i < n; i++) if (ts[i]! > max) max = ts[i]!;
        this.#maxLoggedTime = max;
      },
      afterCommit: () => wal.backpressure(),
    };
  }

  start(): void {
    const every = this.#opts.maintenanceIntervalMs ?? 60_000;
    if (every <= 0) return;
    this.#timer = setInterval(() => {
      this.#serial(() => this.#maintain()).catch((err: unknown) => this.#logger.warn(`tsdb: maintenance failed: ${String(err)}`));
    }, every);
    this.#timer.unref();
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#maintenance.then(fn);
    this.#maintenance = p.catch(() => {});
    return p;
  }

  async #maintain(): Promise<void> {
    if (this.#closed) return;
    await this.#truncateNow();
    const dueByTime = this.#clock() - this.#lastCheckpointAt >= (this.#opts.checkpointIntervalMs ?? 30 * 60_000);
    const dueBySize = this.#wal.totalLogged - this.#walBytesAtCheckpoint >= (this.#opts.checkpointWalBytes ?? 256 * 1024 * 1024);
    if (dueByTime || dueBySize) await this.#checkpointNow();
  }

  #live(): void {
    if (this.#closed) throw new Error('tsdb: closed');
  }

  appender(): Appender {
    this.#live();
    return this.#head.appender();
  }

  async querier(mint: number, maxt: number): Promise<Querier> {
    this.#live();
    return new HeadQuerier(this.#head, mint, maxt);
  }

  stats(): TSDBStats {
    return {
      ...this.#head.stats(),
      walSegment: this.#wal.currentSegment,
      walPendingBytes: this.#wal.pendingBytes,
      lastCheckpoint: this.#lastCheckpoint,
      maxLoggedTime: this.#maxLoggedTime,
      headChunksMapped: this.#sealedArena !== undefined && !this.#sealedArena.fellBack,
    };
  }

  flushWAL(): Promise<void> {
    return this.#wal.flush();
  }

  truncate(): Promise<TruncateResult> {
    return this.#serial(() => this.#truncateNow());
  }

  async #truncateNow(): Promise<TruncateResult> {
    let mint = this.#head.minValidTime();
    const maxBytes = this.#opts.maxBytes;
    if (maxBytes !== undefined) mint = Math.max(mint, this.#sizeCutoff(maxBytes));
    const r = this.#head.truncate(mint);
    if (r.series > 0 || r.samples > 0) this.#logger.info(`tsdb: retention dropped ${r.samples} samples and ${r.series} series before ${mint}`);
    return { mint, ...r };
  }

  /**
   * The time before which sealed chunks must go to bring chunk memory under `maxBytes`: drop the
   * chunks that end earliest first, as block-based size retention drops the oldest block. Chunk
   * sizes are summed per minute of end time rather than sorted, so the cost stays linear in the
   * number of chunks; the price is cutting at minute granularity.
   */
  #sizeCutoff(maxBytes: number): number {
    const st = this.#head.stats();
    if (st.bytes <= maxBytes) return -Infinity;
    const BUCKET = 60_000;
    const byMinute = new Map<number, number>();
    for (const s of this.#head.series()) {
      for (const c of s.chunks) {
        const b = Math.floor(c.maxT / BUCKET);
        byMinute.set(b, (byMinute.get(b) ?? 0) + c.size);
      }
    }
    let excess = st.bytes - maxBytes;
    let cutoff = -Infinity;
    for (const b of [...byMinute.keys()].sort((x, y) => x - y)) {
      if (excess <= 0) break;
      excess -= byMinute.get(b)!;
      cutoff = (b + 1) * BUCKET;
    }
    return cutoff;
  }

  checkpoint(): Promise<CheckpointStats> {
    return this.#serial(() => this.#checkpointNow());
  }

  async #checkpointNow(): Promise<CheckpointStats> {
    const started = performance.now();
    const n = this.#wal.cut();
    // Segments ≤ n must be on disk before they can be replaced by (and deleted after) the checkpoint.
    await this.#wal.flush();
    const loggedAtCut = this.#wal.totalLogged;
    const st = await writeCheckpoint(this.walDir, n, this.#head, this.#head.minValidTime());
    this.#lastCheckpoint = n;
    const deleted = await this.#deleteCovered();
    await deleteCheckpointsBefore(this.walDir, n);
    this.#lastCheckpointAt = this.#clock();
    this.#walBytesAtCheckpoint = loggedAtCut;
    this.#logger.info(
      `tsdb: checkpoint ${segmentName(n)}: ${st.series} series, ${st.chunks} chunks, ${st.bytes} bytes in ` +
        `${Math.round(performance.now() - started)} ms; deleted ${deleted} WAL segment(s)`,
    );
    return st;
  }

  walPosition(): WalPosition {
    return this.#wal.position;
  }

  walHolds(): ReadonlyMap<string, WalPosition> {
    return this.#holds.all();
  }

  onWalHoldDrop(listener: (drop: WalHoldDrop) => void): () => void {
    this.#holdListeners.add(listener);
    return () => void this.#holdListeners.delete(listener);
  }

  async holdWal(name: string, pos: WalPosition): Promise<void> {
    const before = this.#holds.minSegment();
    await this.#holds.set(name, pos);
    // A hold moving forward may free segments an earlier checkpoint already covers.
    if (this.#lastCheckpoint !== null && this.#holds.minSegment() > before && before <= this.#lastCheckpoint && !this.#closed) {
      await this.#serial(() => this.#deleteCovered());
    }
  }

  async releaseWal(name: string): Promise<void> {
    await this.#holds.delete(name);
    if (this.#lastCheckpoint !== null && !this.#closed) await this.#serial(() => this.#deleteCovered());
  }

  /**
   * Deletes the segments the last checkpoint covers that no hold keeps. Before that, the safety
   * valve: a held segment whose samples are all older than retention is of no use to anyone (the
   * head has dropped them too) and would let a dead endpoint grow the disk without bound, so the
   * hold is moved past it and the samples its holder never read are reported as dropped.
   */
  async #deleteCovered(): Promise<number> {
    const cp = this.#lastCheckpoint;
    if (cp === null) return 0;
    const minValid = this.#head.minValidTime();
    const onDisk = new Set(await listSegments(this.walDir));
    for (const [name, from] of [...this.#holds.all()]) {
      let seg = from.segment;
      let samples = 0;
      const segments = new Map<number, number>();
      for (; seg <= cp; seg++) {
        if (!onDisk.has(seg)) continue;
        const sum = await this.#summarize(seg, seg === from.segment ? from.offset : 0);
        if (sum.maxT >= minValid) break;
        samples += sum.samples;
        segments.set(seg, sum.samples);
      }
      if (segments.size === 0) continue;
      const to = { segment: seg, offset: 0 };
      await this.#holds.set(name, to);
      this.#logger.warn(
        `tsdb: WAL hold ${name} was behind retention; released segments ${segmentName(from.segment)}–${segmentName(seg - 1)} (${samples} unread samples dropped)`,
      );
      for (const l of this.#holdListeners) l({ name, from, to, samples, segments });
    }
    const upTo = Math.min(cp, this.#holds.minSegment() - 1);
    for (const seg of this.#segmentSummaries.keys()) if (seg <= upTo) this.#segmentSummaries.delete(seg);
    return this.#wal.deleteSegmentsUpTo(upTo);
  }

  /** Newest sample time and the number of samples at or after byte `from` of a sealed segment. */
  async #summarize(seg: number, from: number): Promise<SegmentSummary> {
    const cached = from === 0 ? this.#segmentSummaries.get(seg) : undefined;
    if (cached !== undefined) return cached;
    let maxT = -Infinity;
    let samples = 0;
    let off = 0;
    await readRecords(join(this.walDir, segmentName(seg)), (payload) => {
      const at = off;
      off += FRAME_HEADER_BYTES + payload.length;
      let rec;
      try {
        rec = decodeRecord(payload);
      } catch {
        return;
      }
      if (rec.type !== RECORD_SAMPLES) return;
      for (const t of rec.ts) if (t > maxT) maxT = t;
      if (at >= from) samples += rec.ts.length;
    }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    const sum = { maxT, samples };
    if (from === 0) this.#segmentSummaries.set(seg, sum);
    return sum;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    await this.#maintenance;
    await this.#wal.close();
    this.#sealedArena?.close();
  }
}
