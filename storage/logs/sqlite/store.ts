/**
 * The embedded log store: one SQLite file per UTC day under one directory (`YYYY-MM-DD.db`), a
 * record in the file of its timestamp's day. Retention deletes whole files, and the rows of the
 * one day the cutoff falls into.
 *
 * Queries are planned per day file. Matchers select stream ids from the (small, cached) streams
 * table first, so a query for one pod reads that pod's rows only. Rows then come one of three
 * ways, whichever is estimated cheapest (see `#plan`):
 *  - text index: a `|=` whose words are rare in the file is answered from the full-text index,
 *    each hit checked exactly;
 *  - stream scan: each selected stream's rows, in order, from the `(sid, t, off, id)` index. With
 *    `sid IN (…) ORDER BY t LIMIT n`, SQLite stops reading a stream once its rows can no longer
 *    make the page, so the newest 100 lines of 800 streams cost ~800 short index reads, not a
 *    sort of the day (measured: 3 ms on 1M lines; a k-way merge in JavaScript took 45 ms);
 *  - table scan: every row in storage order, for a rare match the text index cannot find (a
 *    single word may be part of a longer one): sequential reads, 8× cheaper per row.
 * Days are visited in the search direction until the page is full. A query is one statement per
 * day file; between files the event loop gets a turn and the abort signal is checked.
 *
 * One process writes a directory; any number may read it (`readonly`), also while it is written.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { LogRecord } from '../../../model/logs.js';
import type { Matcher } from '../../../model/matcher.js';
import { decodeLogCursor, encodeLogCursor, type LogCursor } from '../cursor.js';
import {
  LogUnavailableError,
  type AppendResult,
  type LineFilter,
  type LogContextRequest,
  type LogContextResult,
  type LogSearchRequest,
  type LogSearchResult,
  type LogSelection,
  type LogStore,
  type LogStreamInfo,
  type LogVolumeBucket,
  type RejectedRecord,
  type StoredLogRecord,
} from '../interface.js';
import { compileLineRegex } from '../line-filter.js';
import { recordProblem } from '../record-check.js';
import { compareLogStreams } from '../record-order.js';
import {
  DAY_NS,
  DayFile,
  DayFileError,
  regexpCondition,
  type PendingRecord,
  type RecordRow,
  type RelativeKey,
  type RowConditions,
  type RowSource,
  type StreamRow,
} from './day-file.js';
import { foldedTerm, ftsMatchExpression, needleWordCount, substringEstimateTerms, substringTerms, type FtsTerm } from './fts-terms.js';

export type SqliteQueryPlan = RowSource;

export interface SqliteLogStoreOptions {
  /** Directory of the day files (`<data_dir>/logs`); created when missing unless read-only. */
  readonly dir: string;
  /** Open for reading only, e.g. beside a process that writes the directory. */
  readonly readonly?: boolean;
  /**
   * How long a statement waits for another connection's lock before failing. The wait blocks the
   * event loop (better-sqlite3 is synchronous), so it is short: a writer that cannot get the lock
   * fails with `LogUnavailableError` and its caller retries with backoff. Default 250 ms.
   */
  readonly busyTimeoutMs?: number;
  /** Longest message accepted, in UTF-8 bytes; longer records are rejected. Default 1 MiB. */
  readonly maxMessageBytes?: number;
  /** Always use this plan instead of choosing one; for tests and benchmarks. */
  readonly forcePlan?: SqliteQueryPlan;
}

const DAY_FILE = /^(\d{4})-(\d{2})-(\d{2})\.db$/;
const DAY_MS = 86_400_000;
const DAY_REL = Number(DAY_NS);
/** Day files are named by four-digit years. */
const MAX_TIME_NS = BigInt(Date.UTC(10000, 0, 1)) * 1_000_000n;
const MAX_ID_BYTES = 256;
const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;
/** Per-row costs of the plans, in microseconds: a row fetched by rowid or in stream order, a
 * row read in storage order, an entry of a word's row list. */
const INDEX_ROW_US = 1.7;
const STREAM_ROW_US = 1.7;
const TABLE_ROW_US = 0.2;
const DOCLIST_ENTRY_US = 0.05;
const PREFIX_TERM_CAP = 256;
/** A filtered stream scan's first time slice is this part of its range (see `#scanDay`). */
const FIRST_SLICE_PARTS = 64;
/** Longest stretch of synchronous query work before yielding to the event loop. */
const YIELD_AFTER_MS = 15;
const TRANSIENT_SQLITE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|CANTOPEN|NOMEM|PROTOCOL)/;


export class LogStoreClosedError extends LogUnavailableError {
  constructor() {
    super('log store is closed');
    this.name = 'LogStoreClosedError';
  }
}

export class ReadOnlyLogStoreError extends Error {
  constructor(dir: string) {
    super(`log store ${dir} is open read-only`);
    this.name = 'ReadOnlyLogStoreError';
  }
}

function dayName(dayIndex: bigint): string {
  return new Date(Number(dayIndex) * DAY_MS).toISOString().slice(0, 10);
}

function dayIndexOf(name: string): bigint | undefined {
  const m = DAY_FILE.exec(name);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (Number.isNaN(ms) || dayName(BigInt(ms / DAY_MS)) !== name.slice(0, 10)) return undefined;
  return BigInt(ms / DAY_MS);
}

/** Why a record cannot be stored, or undefined when it can. */
function unavailable(where: string, err: unknown): unknown {
  const code = (err as { code?: unknown }).code;
  if (err instanceof Database.SqliteError && typeof code === 'string' && TRANSIENT_SQLITE.test(code)) {
    return new LogUnavailableError(`log store ${where}: ${code}: ${err.message}`, { cause: err });
  }
  return err;
}

/** What a query asks of rows, compiled once and applied to every day file. */
interface CompiledSelection {
  readonly streamMatches: (s: StreamRow) => boolean;
  readonly conditions: RowConditions;
  readonly terms: readonly FtsTerm[];
  readonly estimateTerms: readonly FtsTerm[];
  /** Share of lines expected to pass the filters the text index says nothing about. */
  readonly guessedPassRate: number;
}

function streamLabel(s: StreamRow, name: string): string {
  switch (name) {
    case 'namespace':
      return s.namespace;
    case 'pod':
      return s.pod;
    case 'container':
      return s.container;
    case 'node':
      return s.node;
    case 'stream':
      return s.stream;
    case 'level':
      return s.level;
    default:
      return ''; // as in Prometheus: a label a stream lacks matches as the empty string
  }
}

function matcherPredicate(matchers: readonly Matcher[]): (s: StreamRow) => boolean {
  if (matchers.length === 0) return () => true;
  // Streams differing only in file, restart or uid share their labels: decide each label set once.
  const memo = new Map<string, boolean>();
  return (s) => {
    const key = `${s.namespace}\u0000${s.pod}\u0000${s.container}\u0000${s.node}\u0000${s.stream}\u0000${s.level}`;
    let ok = memo.get(key);
    if (ok === undefined) {
      ok = matchers.every((m) => m.matches(streamLabel(s, m.name)));
      memo.set(key, ok);
    }
    return ok;
  };
}

/** A GLOB pattern matching any text that contains `s`: its wildcards escaped as classes. */
function substringGlob(s: string): string {
  return `*${s.replace(/[*?[]/g, (c) => `[${c}]`)}*`;
}

/** Guessed share of lines passing the filters the text index cannot estimate. */
const GUESSED_PASS_RATE = { '!=': 0.9, '|~': 0.1, '!~': 0.9 } as const;
/**
 * The words of a `|=` substring must also be adjacent and in order: a line holding them all is
 * this much less likely to match than their counts alone say, per word after the first.
 */
const ADJACENCY_PASS_RATE = 0.1;

interface CompiledLineFilters {
  readonly conditions: RowConditions;
  /** Words every matching line holds: the text index's query. */
  readonly terms: readonly FtsTerm[];
  /** Words that only estimate how many lines match. */
  readonly estimateTerms: readonly FtsTerm[];
  readonly guessedPassRate: number;
}

function compileLineFilters(filters: readonly LineFilter[]): CompiledLineFilters {
  const sql: string[] = [];
  const params: unknown[] = [];
  const terms: FtsTerm[] = [];
  const estimateTerms: FtsTerm[] = [];
  let guessedPassRate = 1;
  for (const f of filters) {
    if (f.op !== '|=') guessedPassRate *= GUESSED_PASS_RATE[f.op] ?? 1;
    switch (f.op) {
      // GLOB is SQLite's fastest exact, case-sensitive substring test (twice instr's speed).
      case '|=':
        sql.push('r.msg GLOB ?');
        params.push(substringGlob(f.value));
        terms.push(...substringTerms(f.value));
        estimateTerms.push(...substringEstimateTerms(f.value));
        guessedPassRate *= ADJACENCY_PASS_RATE ** Math.max(0, needleWordCount(f.value) - 1);
        break;
      case '!=':
        sql.push('r.msg NOT GLOB ?');
        params.push(substringGlob(f.value));
        break;
      case '|~':
      case '!~':
        compileLineRegex(f.value); // a bad pattern fails the query before any file is read
        sql.push(regexpCondition(f.op === '!~'));
        params.push(f.value);
        break;
      default:
        throw new Error(`unknown line filter operator ${JSON.stringify((f as LineFilter).op)}`);
    }
  }
  const match = ftsMatchExpression(terms);
  return { conditions: { sql, params, ...(match !== undefined && { match }) }, terms, estimateTerms, guessedPassRate };
}

function compileSelection(matchers: readonly Matcher[], filters: readonly LineFilter[]): CompiledSelection {
  return { streamMatches: matcherPredicate(matchers), ...compileLineFilters(filters) };
}

/** Hands the event loop back now and then during long queries; aborts when asked to. */
class Pacer {
  #last = performance.now();
  constructor(readonly signal: AbortSignal | undefined) {}

  async pause(): Promise<void> {
    this.signal?.throwIfAborted();
    if (performance.now() - this.#last < YIELD_AFTER_MS) return;
    await new Promise((resolve) => setImmediate(resolve));
    this.#last = performance.now();
    this.signal?.throwIfAborted();
  }
}

interface DayScan {
  readonly select: CompiledSelection;
  /** Time bounds in epoch nanoseconds: `startNs` inclusive, `endNs` exclusive. */
  readonly startNs: bigint;
  readonly endNs: bigint;
  readonly descending: boolean;
  /** Only rows strictly after this key in the scan's direction. */
  readonly after?: { readonly timeNs: bigint; readonly offset: number; readonly id: string };
  readonly limit: number;
}

export class SqliteLogStore implements LogStore {
  readonly name = 'sqlite';
  readonly #dir: string;
  readonly #readonly: boolean;
  readonly #busyTimeoutMs: number;
  readonly #maxMessageBytes: number;
  readonly #forcePlan: SqliteQueryPlan | undefined;
  /** Day index → file, opened on first use; undefined until then. */
  readonly #days = new Map<bigint, DayFile | undefined>();
  #closed = false;

  constructor(opts: SqliteLogStoreOptions) {
    this.#dir = opts.dir;
    this.#readonly = opts.readonly ?? false;
    this.#busyTimeoutMs = opts.busyTimeoutMs ?? 250;
    this.#maxMessageBytes = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#forcePlan = opts.forcePlan;
    if (!this.#readonly) mkdirSync(this.#dir, { recursive: true });
    this.#scanDirectory();
  }

  get dir(): string {
    return this.#dir;
  }

  /** The days that have a file, oldest first, as `YYYY-MM-DD`. */
  days(): string[] {
    if (this.#readonly) this.#scanDirectory();
    return [...this.#days.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map(dayName);
  }

  /** Brings the day list in line with the directory (other processes create and drop files). */
  #scanDirectory(): void {
    let names: string[];
    try {
      names = readdirSync(this.#dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') names = [];
      else throw err;
    }
    const present = new Set<bigint>();
    for (const name of names) {
      const day = dayIndexOf(name);
      if (day === undefined) continue;
      present.add(day);
      if (!this.#days.has(day)) this.#days.set(day, undefined);
    }
    for (const [day, file] of this.#days) {
      if (present.has(day)) continue;
      file?.close();
      this.#days.delete(day);
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new LogStoreClosedError();
  }

  #checkWritable(): void {
    this.#checkOpen();
    if (this.#readonly) throw new ReadOnlyLogStoreError(this.#dir);
  }

  #path(day: bigint): string {
    return path.join(this.#dir, `${dayName(day)}.db`);
  }

  /** The day's file, opened (and created, when writing) on first use. */
  #file(day: bigint, create: boolean): DayFile | undefined {
    let file = this.#days.get(day);
    if (file?.isOpen) return file;
    if (file === undefined && !this.#days.has(day) && !create) return undefined;
    try {
      file = DayFile.open(dayName(day), this.#path(day), day * DAY_NS, { readonly: this.#readonly, busyTimeoutMs: this.#busyTimeoutMs });
    } catch (err) {
      // A reader may see a file its writer has created but not yet initialised: no records yet.
      if (this.#readonly && err instanceof DayFileError) return undefined;
      throw unavailable(this.#path(day), err);
    }
    this.#days.set(day, file);
    return file;
  }

  /** Open files whose day overlaps [startNs, endNs), oldest first. */
  #filesIn(startNs: bigint, endNs: bigint): DayFile[] {
    if (this.#readonly) this.#scanDirectory();
    const files: DayFile[] = [];
    for (const day of [...this.#days.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
      const dayStart = day * DAY_NS;
      if (dayStart >= endNs || dayStart + DAY_NS <= startNs) continue;
      const file = this.#file(day, false);
      if (file) files.push(file);
    }
    return files;
  }

  async append(batch: readonly LogRecord[], signal?: AbortSignal): Promise<AppendResult> {
    this.#checkWritable();
    signal?.throwIfAborted();
    const rejected: RejectedRecord[] = [];
    const byDay = new Map<bigint, PendingRecord[]>();
    batch.forEach((r, index) => {
      const problem = recordProblem(r, { maxMessageBytes: this.#maxMessageBytes, maxIdBytes: MAX_ID_BYTES, maxTimeNs: MAX_TIME_NS, timeRange: '1970-01-01 to 9999-12-31' });
      if (problem !== undefined) {
        rejected.push({ index, reason: problem });
        return;
      }
      const day = r.timeNs / DAY_NS;
      let list = byDay.get(day);
      if (list === undefined) byDay.set(day, (list = []));
      const s = r.source;
      list.push({
        id: r.id,
        t: Number(r.timeNs - day * DAY_NS),
        off: r.offset,
        msg: r.message,
        fields: r.fields === undefined ? null : JSON.stringify(r.fields),
        stream: {
          namespace: s.namespace,
          pod: s.pod,
          podUid: s.podUid,
          container: s.container,
          restart: s.restart,
          node: s.node,
          fileKey: s.fileKey,
          stream: r.stream,
          level: r.level,
        },
      });
    });
    let stored = 0;
    let duplicates = 0;
    // One transaction per day file. A batch spanning midnight that fails half-way is retried
    // whole by its sender; the half already stored then counts as duplicates.
    for (const day of [...byDay.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
      const file = this.#file(day, true)!;
      let res: { stored: number; duplicates: number };
      try {
        res = file.append(byDay.get(day)!);
      } catch (err) {
        throw unavailable(file.path, err);
      }
      stored += res.stored;
      duplicates += res.duplicates;
    }
    return { stored, duplicates, rejected };
  }

  /** Candidate streams of a file for a scan, and the estimated number of candidate rows. */
  #candidates(file: DayFile, select: CompiledSelection, lo: number, hi: number): { streams: StreamRow[]; rows: number; allStreams: boolean } {
    const streams: StreamRow[] = [];
    let rows = 0;
    let allStreams = true;
    for (const s of file.streams()) {
      if (s.count === 0 || s.lastT < lo || s.firstT >= hi) continue; // the time bounds exclude its rows anyway
      if (!select.streamMatches(s)) {
        allStreams = false;
        continue;
      }
      streams.push(s);
      const span = s.lastT - s.firstT + 1;
      const overlap = Math.min(hi, s.lastT + 1) - Math.max(lo, s.firstT);
      rows += span <= 0 ? s.count : (s.count * overlap) / span;
    }
    return { streams, rows, allStreams };
  }

  /**
   * Chooses how to read a file's rows, by estimated cost in microseconds (constants measured on
   * 1M lines, bench/log-store.ts):
   *  - text index: each row holding all the words fetched by rowid, plus the word lists read;
   *    rows and matches are estimated from each word's row count as if words were independent;
   *  - stream scan: each candidate row fetched in stream order, all of them or, with a limit,
   *    about as many as it takes to meet `limit` matches at the estimated match rate;
   *  - table scan: every row of the file, in storage order, which is sequential and so much
   *    cheaper per row: it wins when most rows must be read anyway.
   * A word no row holds proves the file has no match.
   */
  #plan(
    file: DayFile,
    select: CompiledSelection,
    candidates: { streams: number; rows: number },
    limit: number | undefined,
  ): SqliteQueryPlan | 'empty' {
    const total = Math.max(1, file.rowCount);
    let fraction = select.guessedPassRate;
    let doclists = 0;
    for (const term of select.terms) {
      const rows = file.termFrequency(foldedTerm(term.text), term.prefix, PREFIX_TERM_CAP);
      if (rows === 0) return 'empty';
      fraction *= Math.min(1, rows / total);
      doclists += Math.min(rows, total);
    }
    for (const term of select.estimateTerms) {
      // A word that never occurs whole may still occur as a tail: count it as rare, not absent.
      const rows = file.termFrequency(foldedTerm(term.text), false, PREFIX_TERM_CAP);
      fraction *= Math.min(1, Math.max(1, rows) / total);
    }
    const forced = this.#forcePlan;
    if (forced) return forced === 'text-index' && select.terms.length === 0 ? 'stream-scan' : forced;
    const matches = Math.max(1, candidates.rows * fraction);
    const streamRows = limit === undefined ? candidates.rows : Math.min(candidates.rows, (limit * candidates.rows) / matches + candidates.streams);
    const costs: Array<[SqliteQueryPlan, number]> = [
      ['stream-scan', STREAM_ROW_US * streamRows],
      ['table-scan', TABLE_ROW_US * total],
    ];
    if (select.terms.length > 0) {
      costs.push(['text-index', INDEX_ROW_US * total * fraction + DOCLIST_ENTRY_US * doclists]);
    }
    return costs.reduce((best, c) => (c[1] < best[1] ? c : best))[0];
  }

  /** One file's share of a scan: its matching rows in order, at most `scan.limit`. */
  #scanDay(file: DayFile, scan: DayScan): StoredLogRecord[] {
    const lo = Number(scan.startNs > file.startNs ? scan.startNs - file.startNs : 0n);
    const hi = Number(scan.endNs < file.startNs + DAY_NS ? scan.endNs - file.startNs : DAY_NS);
    if (lo >= hi) return [];
    let after: RelativeKey | undefined;
    if (scan.after) {
      const rel = scan.after.timeNs - file.startNs;
      if (scan.descending ? rel < 0n : rel >= DAY_NS) return [];
      if (rel >= 0n && rel < DAY_NS) after = { t: Number(rel), off: scan.after.offset, id: scan.after.id };
    }
    const { streams, rows, allStreams } = this.#candidates(file, scan.select, lo, hi);
    if (streams.length === 0) return [];
    const plan = this.#plan(file, scan.select, { streams: streams.length, rows }, scan.limit);
    if (plan === 'empty') return [];
    const request = {
      sids: streams.map((s) => s.sid),
      allStreams,
      ...(after && { after }),
      descending: scan.descending,
      conditions: scan.select.conditions,
      source: plan,
    };
    if (plan !== 'stream-scan' || scan.select.conditions.sql.length === 0) {
      return file.scan({ ...request, lo, hi, limit: scan.limit }).map((row) => file.toStored(row));
    }
    // SQLite stops reading a stream once its rows can no longer make the page, but a stream
    // with no matching row never gets there: it is read to the end of the range (measured: 470
    // ms for `|~ "status=5\d\d"` over one deployment, whose info streams hold no match). So a
    // filtered stream scan goes through the range in slices from its near end, each twice as
    // long as the one before, until the page is full: a non-matching stream is then read about
    // as far back as the matches that fill the page, at most twice that.
    let first = hi;
    let last = lo;
    for (const s of streams) {
      first = Math.min(first, s.firstT);
      last = Math.max(last, s.lastT + 1);
    }
    let from = Math.max(lo, first);
    let to = Math.min(hi, last);
    if (after) {
      if (scan.descending) to = Math.min(to, after.t + 1);
      else from = Math.max(from, after.t);
    }
    const found: RecordRow[] = [];
    let span = Math.max(1, Math.ceil((to - from) / FIRST_SLICE_PARTS));
    while (found.length < scan.limit && from < to) {
      const sliceLo = scan.descending ? Math.max(from, to - span) : from;
      const sliceHi = scan.descending ? to : Math.min(to, from + span);
      for (const row of file.scan({ ...request, lo: sliceLo, hi: sliceHi, limit: scan.limit - found.length })) found.push(row);
      if (scan.descending) to = sliceLo;
      else from = sliceHi;
      span *= 2;
    }
    return found.map((row) => file.toStored(row));
  }

  /** Matching records of all files in the scan's order, at most `scan.limit`. */
  async #scan(files: readonly DayFile[], scan: DayScan, pacer: Pacer): Promise<StoredLogRecord[]> {
    const ordered = scan.descending ? [...files].reverse() : files;
    const out: StoredLogRecord[] = [];
    for (const file of ordered) {
      // Retention may have dropped a file while we paused (its rows are gone), or close() ran.
      this.#checkOpen();
      if (!file.isOpen) continue;
      const rows = this.#scanDay(file, { ...scan, limit: scan.limit - out.length });
      out.push(...rows);
      if (out.length >= scan.limit) break;
      await pacer.pause();
    }
    return out;
  }

  async search(req: LogSearchRequest, signal?: AbortSignal): Promise<LogSearchResult> {
    this.#checkOpen();
    if (!Number.isSafeInteger(req.limit) || req.limit < 1) throw new RangeError(`search limit must be a positive integer, got ${req.limit}`);
    const select = compileSelection(req.matchers, req.lineFilters);
    const cursor: LogCursor | undefined = req.cursor !== undefined ? decodeLogCursor(req.cursor, req.direction) : undefined;
    if (req.startNs >= req.endNs) return { records: [] };
    const pacer = new Pacer(signal);
    const found = await this.#scan(
      this.#filesIn(req.startNs, req.endNs),
      {
        select,
        startNs: req.startNs,
        endNs: req.endNs,
        descending: req.direction === 'backward',
        ...(cursor && { after: cursor }),
        limit: req.limit + 1,
      },
      pacer,
    );
    const records = found.slice(0, req.limit);
    if (found.length <= req.limit) return { records };
    return { records, nextCursor: encodeLogCursor(req.direction, records[records.length - 1]!) };
  }

  async context(req: LogContextRequest, signal?: AbortSignal): Promise<LogContextResult> {
    this.#checkOpen();
    for (const [what, n] of [['before', req.before], ['after', req.after]] as const) {
      if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`context ${what} must be a non-negative integer, got ${n}`);
    }
    const pacer = new Pacer(signal);
    const files = this.#filesIn(0n, MAX_TIME_NS);
    let anchorFile: DayFile | undefined;
    let anchorRow: RecordRow | undefined;
    for (const file of [...files].reverse()) {
      anchorRow = file.findById(req.id);
      if (anchorRow) {
        anchorFile = file;
        break;
      }
    }
    if (!anchorFile || !anchorRow) return { before: [], after: [] };
    const anchor = anchorFile.toStored(anchorRow);
    const select: CompiledSelection = {
      streamMatches: (s) => s.podUid === anchor.podUid && s.container === anchor.container && s.restart === anchor.restart,
      conditions: { sql: [], params: [] },
      terms: [],
      estimateTerms: [],
      guessedPassRate: 1,
    };
    const before =
      req.before === 0
        ? []
        : await this.#scan(
            files.filter((f) => f.startNs <= anchorFile.startNs),
            { select, startNs: 0n, endNs: MAX_TIME_NS, descending: true, after: anchor, limit: req.before },
            pacer,
          );
    const after =
      req.after === 0
        ? []
        : await this.#scan(
            files.filter((f) => f.startNs >= anchorFile.startNs),
            { select, startNs: 0n, endNs: MAX_TIME_NS, descending: false, after: anchor, limit: req.after },
            pacer,
          );
    return { anchor, before: before.reverse(), after };
  }

  async volume(sel: LogSelection, stepNs: bigint, signal?: AbortSignal): Promise<LogVolumeBucket[]> {
    this.#checkOpen();
    if (typeof stepNs !== 'bigint' || stepNs <= 0n) throw new RangeError(`volume step must be a positive number of nanoseconds, got ${stepNs}`);
    const select = compileSelection(sel.matchers, sel.lineFilters);
    const pacer = new Pacer(signal);
    const counts = new Map<bigint, number>();
    if (sel.startNs < sel.endNs) {
      for (const file of this.#filesIn(sel.startNs, sel.endNs)) {
        await pacer.pause();
        if (!file.isOpen) continue;
        const lo = Number(sel.startNs > file.startNs ? sel.startNs - file.startNs : 0n);
        const hi = Number(sel.endNs < file.startNs + DAY_NS ? sel.endNs - file.startNs : DAY_NS);
        const { streams, rows, allStreams } = this.#candidates(file, select, lo, hi);
        if (streams.length === 0) continue;
        // Without line filters the stream index alone answers (it covers sid and t).
        const plan = select.conditions.sql.length === 0 ? 'stream-scan' : this.#plan(file, select, { streams: streams.length, rows }, undefined);
        if (plan === 'empty') continue;
        const buckets = file.volume(
          { sids: streams.map((s) => s.sid), allStreams, lo, hi, conditions: select.conditions, source: plan },
          stepNs,
        );
        for (const [start, n] of buckets) counts.set(start, (counts.get(start) ?? 0) + n);
      }
    }
    return [...counts]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([startNs, count]) => ({ startNs, count }));
  }

  async streams(sel: LogSelection, signal?: AbortSignal): Promise<LogStreamInfo[]> {
    this.#checkOpen();
    const matches = matcherPredicate(sel.matchers);
    const pacer = new Pacer(signal);
    const byKey = new Map<string, { -readonly [K in keyof LogStreamInfo]: LogStreamInfo[K] }>();
    if (sel.startNs < sel.endNs) {
      for (const file of this.#filesIn(sel.startNs, sel.endNs)) {
        await pacer.pause();
        if (!file.isOpen) continue;
        const lo = Number(sel.startNs > file.startNs ? sel.startNs - file.startNs : 0n);
        const hi = Number(sel.endNs < file.startNs + DAY_NS ? sel.endNs - file.startNs : DAY_REL);
        for (const s of file.streams()) {
          if (s.count === 0 || s.lastT < lo || s.firstT >= hi || !matches(s)) continue;
          const bounds = s.firstT >= lo && s.lastT < hi ? { first: s.firstT, last: s.lastT } : file.streamBounds(s.sid, lo, hi);
          if (bounds === undefined) continue;
          const first = file.startNs + BigInt(bounds.first);
          const last = file.startNs + BigInt(bounds.last);
          const key = `${s.namespace}\u0000${s.pod}\u0000${s.podUid}\u0000${s.container}\u0000${s.node}`;
          const info = byKey.get(key);
          if (info === undefined) {
            byKey.set(key, { namespace: s.namespace, pod: s.pod, podUid: s.podUid, container: s.container, node: s.node, firstSeenNs: first, lastSeenNs: last });
          } else {
            if (first < info.firstSeenNs) info.firstSeenNs = first;
            if (last > info.lastSeenNs) info.lastSeenNs = last;
          }
        }
      }
    }
    return [...byKey.values()].sort(compareLogStreams);
  }

  /**
   * Deletes every file whose whole day is older than the cutoff, and the older rows of the day
   * the cutoff falls into. Returns the number of files deleted.
   */
  async applyRetention(cutoffNs: bigint): Promise<number> {
    this.#checkWritable();
    let removed = 0;
    for (const day of [...this.#days.keys()]) {
      const dayStart = day * DAY_NS;
      if (dayStart + DAY_NS <= cutoffNs) {
        this.#days.get(day)?.close();
        this.#days.delete(day);
        const file = this.#path(day);
        for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
        removed++;
      } else if (dayStart < cutoffNs) {
        const file = this.#file(day, false);
        if (!file) continue;
        try {
          file.deleteBefore(Number(cutoffNs - dayStart));
        } catch (err) {
          throw unavailable(file.path, err);
        }
      }
    }
    return removed;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const file of this.#days.values()) file?.close();
    this.#days.clear();
  }
}
