/**
 * The in-memory head: every series, its chunks and the inverted index, after Prometheus's
 * `head.go`/`head_append.go`. Everything here is synchronous; durability (the WAL) is plugged in
 * through `CommitLog` so the head can be tested and replayed without files.
 */
import type { Labels } from '../../../model/labels.js';
import { SeriesByLabels } from './series-map.js';
import type { Matcher } from '../../../model/matcher.js';
import { AppendError, type Appender } from '../interface.js';
import { HeadAppender } from './appender.js';
import { ChunkArena, type SealedArena } from './chunk/arena.js';
import { OpenChunkPool } from './chunk/pool.js';
import { SAMPLES_PER_CHUNK, SealedChunk, XorChunk } from './chunk/xor.js';
import { MemPostings } from './mempostings.js';
import type { Postings } from './postings.js';
import { postingsForMatchers } from './select.js';
import { MemSeries, type ChunkEnv } from './series.js';
import { float64BitsEqual } from '../../../model/stale.js';

/** Where a commit is made durable before it becomes visible. Called synchronously. */
export interface CommitLog {
  logSeries(series: readonly MemSeries[]): void;
  /** `refs[i]`, `ts[i]`, `vs[i]` for i < n are the accepted samples of one commit, in order. */
  logSamples(refs: Float64Array, ts: Float64Array, vs: Float64Array, n: number): void;
  /**
   * Awaited by `commit()` after a batch is logged; lets the WAL push back on writers when its
   * unflushed buffer grows, instead of buffering without bound.
   */
  afterCommit?(): Promise<void> | undefined;
}

export interface HeadOptions {
  /** Chunk range used to align chunk cuts; default 2h like Prometheus's block range. */
  readonly chunkRangeMs?: number;
  /** Samples per chunk before a cut; default 120. */
  readonly samplesPerChunk?: number;
  /** Samples older than `clock() - retentionMs` are refused as too old; default unlimited. */
  readonly retentionMs?: number;
  /** Upper bound on live series; appends creating more fail with reason 'limit'. */
  readonly maxSeries?: number;
  readonly clock?: () => number;
  readonly log?: CommitLog;
  /** Where sealed chunks go; default heap slabs. The TSDB passes file-backed segments. */
  readonly sealedArena?: SealedArena;
}

export interface HeadStats {
  readonly numSeries: number;
  readonly numSamples: number;
  readonly chunks: number;
  /** Chunk memory in bytes: sealed chunk bytes plus reserved open-chunk buffers. */
  readonly bytes: number;
  /** Samples refused at commit because a concurrent commit made them out of order or too old. */
  readonly rejectedAtCommit: number;
}

const DEFAULT_CHUNK_RANGE_MS = 2 * 3600_000;

/** Labels must be non-empty, strictly sorted by name, with non-empty names and values. */
function validLabels(ls: Labels): boolean {
  if (ls.length === 0) return false;
  let prev = '';
  for (let i = 0; i < ls.length; i++) {
    const l = ls[i]!;
    if (l.name === '' || l.value === '') return false;
    if (i > 0 && l.name <= prev) return false;
    prev = l.name;
  }
  return true;
}

export class Head implements ChunkEnv {
  readonly chunkRangeMs: number;
  readonly samplesPerChunk: number;
  readonly retentionMs: number;
  readonly maxSeries: number;
  readonly clock: () => number;
  log: CommitLog | undefined;

  readonly #byLabels = new SeriesByLabels<MemSeries>();
  readonly #byRef = new Map<number, MemSeries>();
  readonly index = new MemPostings();
  readonly sealedArena: SealedArena;
  readonly openPool = new OpenChunkPool();
  #nextRef = 1;
  /** Lower bound set by truncation: nothing before it may be appended any more. */
  #truncatedBefore = -Infinity;
  #numSamples = 0;
  #rejectedAtCommit = 0;
  /**
   * Column buffers recycled between batches: a push of 10k samples otherwise allocates (and
   * doubles its way up to) several off-heap arrays per request, whose churn through malloc showed
   * up as RSS. Commits are synchronous, so the commit scratch is never in use twice; appender
   * columns are handed back by the appender once its batch is committed or rolled back.
   */
  #commitRefs = new Float64Array(0);
  #commitTs = new Float64Array(0);
  #commitVs = new Float64Array(0);
  #spareTs: Float64Array | undefined;
  #spareVs: Float64Array | undefined;

  constructor(opts: HeadOptions = {}) {
    this.chunkRangeMs = opts.chunkRangeMs ?? DEFAULT_CHUNK_RANGE_MS;
    this.samplesPerChunk = opts.samplesPerChunk ?? SAMPLES_PER_CHUNK;
    this.retentionMs = opts.retentionMs ?? Infinity;
    this.maxSeries = opts.maxSeries ?? Infinity;
    this.clock = opts.clock ?? Date.now;
    this.log = opts.log;
    this.sealedArena = opts.sealedArena ?? new ChunkArena();
  }

  /** Oldest timestamp still accepted. */
  minValidTime(): number {
    const byRetention = this.clock() - this.retentionMs;
    return byRetention > this.#truncatedBefore ? byRetention : this.#truncatedBefore;
  }

  /**
   * Start of the data the head still answers for. Truncation drops whole chunks, so older samples
   * may linger in a chunk straddling the cut; queriers clamp to this so results do not depend on
   * chunk boundaries (nor change across a restart, whose replay drops those samples one by one).
   */
  get minQueryableTime(): number {
    return this.#truncatedBefore;
  }

  get numSeries(): number {
    return this.#byLabels.size;
  }

  byRef(ref: number): MemSeries | undefined {
    return this.#byRef.get(ref);
  }

  byLabels(labels: Labels): MemSeries | undefined {
    return this.#byLabels.get(labels);
  }

  /** Every live series, in creation order. */
  series(): IterableIterator<MemSeries> {
    return this.#byRef.values();
  }

  /** Looks a series up by labels, creating it when absent. Throws AppendError on bad labels. */
  getOrCreate(labels: Labels): MemSeries {
    const s = this.#byLabels.get(labels);
    if (s !== undefined) return s;
    if (!validLabels(labels)) throw new AppendError('invalid_labels', 'labels must be non-empty, sorted, unique and non-empty valued');
    if (this.#byLabels.size >= this.maxSeries) throw new AppendError('limit', `series limit ${this.maxSeries} reached`);
    return this.#create(this.#nextRef++, labels);
  }

  /**
   * Recreates a series under a ref read back from the WAL. If the labels already exist under
   * another ref (a series collected and re-created before a crash), the existing series is returned
   * and the caller maps the old ref onto it.
   */
  createWithRef(ref: number, labels: Labels): MemSeries {
    const existing = this.#byLabels.get(labels);
    if (existing !== undefined) return existing;
    if (this.#byRef.has(ref)) throw new Error(`tsdb: ref ${ref} reused for a different series`);
    if (ref >= this.#nextRef) this.#nextRef = ref + 1;
    const s = this.#create(ref, labels);
    s.logged = true;
    return s;
  }

  /**
   * Makes sure `ref` is never handed out to a new series. Replay calls it for refs whose series
   * record is gone (covered by a checkpoint that dropped the series), so an older segment's samples
   * can never be mistaken for a new series that happened to get the same ref.
   */
  reserveRef(ref: number): void {
    if (ref >= this.#nextRef) this.#nextRef = ref + 1;
  }

  #create(ref: number, labels: Labels): MemSeries {
    const s = new MemSeries(ref, this.index.add(ref, labels));
    this.#byLabels.add(s);
    this.#byRef.set(ref, s);
    return s;
  }

  /**
   * Appends one committed sample, applying the same checks as a commit. Used by WAL replay, where
   * refusals (duplicates of checkpointed data, samples past retention) are expected and silent.
   */
  appendReplayed(s: MemSeries, t: number, v: number, minValid: number): boolean {
    if (t < minValid || t <= s.lastT) return false;
    s.append(t, v, this);
    this.#numSamples++;
    return true;
  }

  /**
   * Installs a chunk read from a checkpoint (`bytes` is a view into the file buffer and is copied).
   * Chunks must arrive oldest first per series; the open one is rebuilt as appendable.
   */
  restoreChunk(s: MemSeries, bytes: Uint8Array, numSamples: number, minT: number, maxT: number, open: boolean): void {
    if (numSamples === 0 || maxT <= s.lastT) return;
    const view = new SealedChunk(bytes, 0, bytes.byteLength, numSamples, minT, maxT);
    if (minT <= s.lastT) {
      // Overlaps what we have (should not happen): fall back to sample-wise appends.
      const it = view.iterator();
      while (it.next()) this.appendReplayed(s, it.t, it.v, -Infinity);
      return;
    }
    if (s.head !== null) s.chunks.push(s.head.seal(this.sealedArena));
    s.head = null;
    if (open) {
      s.head = XorChunk.fromBytes(bytes, numSamples, this.openPool);
      s.headEnd = (Math.floor(minT / this.chunkRangeMs) + 1) * this.chunkRangeMs;
    } else {
      const slab = this.sealedArena.copy(bytes, bytes.byteLength);
      s.chunks.push(new SealedChunk(slab, this.sealedArena.lastOffset, bytes.byteLength, numSamples, minT, maxT));
    }
    const it = view.iterator();
    let lastV = 0;
    while (it.next()) lastV = it.v;
    s.lastT = maxT;
    s.lastV = lastV;
    this.#numSamples += numSamples;
  }

  appender(): Appender {
    return new HeadAppender(this);
  }

  /** Recycled appender columns (same length), or undefined; the caller owns them until `recycleColumns`. */
  takeColumns(): [Float64Array, Float64Array] | undefined {
    const ts = this.#spareTs;
    const vs = this.#spareVs;
    if (ts === undefined || vs === undefined) return undefined;
    this.#spareTs = this.#spareVs = undefined;
    return [ts, vs];
  }

  /** Takes back an appender's columns once nothing reads them; keeps the larger pair. */
  recycleColumns(ts: Float64Array, vs: Float64Array): void {
    if (this.#spareTs !== undefined && this.#spareTs.length >= ts.length) return;
    // Bounded: a huge one-off batch should not pin its buffers forever.
    if (ts.length > 1 << 20) return;
    this.#spareTs = ts;
    this.#spareVs = vs;
  }

  /**
   * Validates, logs and applies one batch. Samples that a concurrent commit made out of order, or
   * that fell behind retention since `append`, are dropped and counted, as Prometheus does.
   */
  commitBatch(runSeries: readonly MemSeries[], runEnds: readonly number[], ts: Float64Array, vs: Float64Array, n: number): void {
    const minValid = this.minValidTime();
    if (this.#commitRefs.length < n) {
      const size = Math.max(n, 2 * this.#commitRefs.length);
      this.#commitRefs = new Float64Array(size);
      this.#commitTs = new Float64Array(size);
      this.#commitVs = new Float64Array(size);
    }
    // Only the first k entries are meaningful; the log must not keep the arrays (it is synchronous).
    const refs = this.#commitRefs;
    const ats = this.#commitTs;
    const avs = this.#commitVs;
    // Accepted samples as runs too, applied a run at a time.
    const okSeries: MemSeries[] = [];
    const okEnds: number[] = [];
    // Index of the last accepted sample per series, so later samples compare against the batch
    // (a series may have several runs).
    const last = new Map<MemSeries, number>();
    let k = 0;
    for (let r = 0, i = 0; r < runSeries.length; r++) {
      const s = runSeries[r]!;
      const end = runEnds[r]!;
      let li = last.get(s);
      const k0 = k;
      for (; i < end; i++) {
        const t = ts[i]!;
        const v = vs[i]!;
        const lt = li === undefined ? s.lastT : ats[li]!;
        if (t < minValid) {
          this.#rejectedAtCommit++;
          continue;
        }
        if (t <= lt) {
          const lv = li === undefined ? s.lastV : avs[li]!;
          if (t !== lt || !float64BitsEqual(v, lv)) this.#rejectedAtCommit++;
          continue;
        }
        refs[k] = s.ref;
        ats[k] = t;
        avs[k] = v;
        li = k;
        k++;
      }
      if (k > k0) {
        last.set(s, k - 1);
        okSeries.push(s);
        okEnds.push(k);
      }
    }
    if (k === 0) return;
    if (this.log !== undefined) {
      const fresh: MemSeries[] = [];
      for (const s of last.keys()) if (!s.logged) fresh.push(s);
      if (fresh.length > 0) this.log.logSeries(fresh);
      this.log.logSamples(refs, ats, avs, k);
    }
    for (const s of last.keys()) s.logged = true;
    for (let r = 0, from = 0; r < okSeries.length; r++) {
      const to = okEnds[r]!;
      okSeries[r]!.appendRange(ats, avs, from, to, this);
      from = to;
    }
    this.#numSamples += k;
  }

  postings(matchers: readonly Matcher[]): Postings {
    return postingsForMatchers(this.index, matchers);
  }

  /**
   * Drops chunks ending before `mint` and garbage-collects series left without samples, then
   * refuses appends before `mint`. Returns what was removed.
   */
  truncate(mint: number): { series: number; samples: number } {
    if (mint > this.#truncatedBefore) this.#truncatedBefore = mint;
    let samples = 0;
    const dead: MemSeries[] = [];
    for (const s of this.#byRef.values()) {
      samples += s.truncateBefore(mint);
      if (s.head === null && s.chunks.length === 0 && s.pending === 0) dead.push(s);
    }
    for (const s of dead) {
      this.#byRef.delete(s.ref);
      this.#byLabels.delete(s);
    }
    this.index.remove(dead);
    this.#numSamples -= samples;
    return { series: dead.length, samples };
  }

  stats(): HeadStats {
    let chunks = 0;
    let bytes = 0;
    for (const s of this.#byRef.values()) {
      chunks += s.chunks.length + (s.head !== null ? 1 : 0);
      bytes += s.chunkBytes;
    }
    return { numSeries: this.#byLabels.size, numSamples: this.#numSamples, chunks, bytes, rejectedAtCommit: this.#rejectedAtCommit };
  }
}
