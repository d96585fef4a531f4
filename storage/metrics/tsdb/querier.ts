/**
 * Read side of the head: a `Querier` over [mint, maxt].
 */
import { labelsCompare, type Labels } from '../../../model/labels.js';
import type { Matcher } from '../../../model/matcher.js';
import type { Querier, Sample, SelectHints, Series } from '../interface.js';
import type { ChunkReader } from './chunk/xor.js';
import { wasmXorDecoder } from './chunk/xor-wasm.js';
import type { Head } from './head.js';
import type { MemSeries } from './series.js';

/** How many series to process between AbortSignal checks. */
const ABORT_CHECK_EVERY = 1024;

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new DOMException('query aborted', 'AbortError');
}

/**
 * Sorts series by labels. Nothing derived from the label sets (such as a sort key) is kept between
 * selects: it would outlive the query and make a repeated query cheaper than its first.
 */
function sortByLabels(out: HeadSeries[]): void {
  out.sort((a, b) => labelsCompare(a.labels, b.labels));
}

/** A selected series; its chunk list is fixed at select time, so later appends do not leak in. */
class HeadSeries implements Series {
  constructor(
    readonly labels: Labels,
    readonly chunks: readonly ChunkReader[],
    readonly mint: number,
    readonly maxt: number,
  ) {}

  *samples(): Generator<Sample, void, undefined> {
    const { mint, maxt } = this;
    for (const c of this.chunks) {
      const it = c.iterator();
      if (!it.seek(mint)) continue;
      do {
        if (it.t > maxt) return;
        yield { t: it.t, v: it.v };
      } while (it.next());
    }
  }

  sampleCapacity(): number {
    let n = 0;
    for (const c of this.chunks) n += c.numSamples;
    return n;
  }

  readInto(lo: number, hi: number, ts: Float64Array, vs: Float64Array, k: number): number {
    const mint = Math.max(lo, this.mint);
    const maxt = Math.min(hi, this.maxt);
    if (mint > maxt) return k;
    if (wasmXorDecoder !== undefined) return wasmXorDecoder.decode(this.chunks, mint, maxt, ts, vs, k);
    for (const c of this.chunks) k = c.decodeInto(mint, maxt, ts, vs, k);
    return k;
  }
}

export class HeadQuerier implements Querier {
  readonly sortedSelect = true;
  readonly #head: Head;
  readonly #mint: number;
  readonly #maxt: number;
  /** Registration with the open-chunk pool: selected series may read open chunks in place until close. */
  readonly #readEpoch: number;
  #closed = false;

  constructor(head: Head, mint: number, maxt: number) {
    this.#head = head;
    this.#mint = Math.max(mint, head.minQueryableTime);
    this.#maxt = maxt;
    this.#readEpoch = head.openPool.beginRead();
  }

  #check(): void {
    if (this.#closed) throw new Error('tsdb: querier used after close');
  }

  /** Live series matching all matchers that have samples in [mint, maxt], in postings order. */
  #matching(matchers: readonly Matcher[], mint: number, maxt: number, signal?: AbortSignal): MemSeries[] {
    const head = this.#head;
    const out: MemSeries[] = [];
    const postings = head.postings(matchers);
    for (let i = 0; i < postings.length; i++) {
      if (i % ABORT_CHECK_EVERY === 0) throwIfAborted(signal);
      const s = head.byRef(postings[i]!);
      if (s !== undefined && s.hasSamplesIn(mint, maxt)) out.push(s);
    }
    return out;
  }

  /**
   * Series matching all matchers with samples in range, sorted by labels unless
   * `hints.sortSeries` is false (then in postings order: sorting is most of the cost of selecting
   * a thousand series for an instant query). `hints.start/end` narrow the range further: the
   * caller promises to read no more, and skipping chunks outside it saves decoding (a PromQL
   * selector usually needs a few minutes of a longer querier range).
   */
  async select(matchers: readonly Matcher[], hints?: SelectHints, signal?: AbortSignal): Promise<Series[]> {
    this.#check();
    throwIfAborted(signal);
    const mint = hints?.start !== undefined ? Math.max(this.#mint, hints.start) : this.#mint;
    const maxt = hints?.end !== undefined ? Math.min(this.#maxt, hints.end) : this.#maxt;
    const out: HeadSeries[] = [];
    if (mint > maxt) return out;
    for (const s of this.#matching(matchers, mint, maxt, signal)) {
      const chunks = s.chunksIn(mint, maxt);
      if (chunks.length > 0) out.push(new HeadSeries(s.labels, chunks, mint, maxt));
    }
    throwIfAborted(signal);
    if (hints?.sortSeries !== false) sortByLabels(out);
    return out;
  }

  async labelNames(matchers?: readonly Matcher[]): Promise<string[]> {
    this.#check();
    if (matchers === undefined || matchers.length === 0) return this.#head.index.labelNames();
    const names = new Set<string>();
    for (const s of this.#matching(matchers, this.#mint, this.#maxt)) for (const l of s.labels) names.add(l.name);
    return [...names].sort();
  }

  async labelValues(name: string, matchers?: readonly Matcher[]): Promise<string[]> {
    this.#check();
    if (matchers === undefined || matchers.length === 0) return this.#head.index.labelValues(name);
    const values = new Set<string>();
    for (const s of this.#matching(matchers, this.#mint, this.#maxt)) {
      for (const l of s.labels) if (l.name === name) values.add(l.value);
    }
    return [...values].sort();
  }

  /** Series returned by `select` must not be read after this. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#head.openPool.endRead(this.#readEpoch);
  }
}
