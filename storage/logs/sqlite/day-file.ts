/**
 * One UTC day of log records in one SQLite file: its connection, its prepared statements and a
 * cache of its `streams` table. Everything here is synchronous and speaks the file's own terms
 * (times relative to its midnight, stream ids); `store.ts` plans across days.
 *
 * Durability: WAL with `synchronous=NORMAL`. A commit is written to the WAL before `append`
 * returns, so a crash of the process loses nothing the sink acknowledged; the WAL is only fsynced
 * at checkpoints, so a power cut or kernel crash can lose the last commits (never corrupt the
 * file). Replays after such a loss are harmless: appends are idempotent by record id.
 *
 * Readers in other connections or processes never block the writer, nor it them (WAL); each
 * statement reads one consistent snapshot.
 */
import Database from 'better-sqlite3';
import type { LogLevel, LogStreamName } from '../../../model/logs.js';
import type { StoredLogRecord } from '../interface.js';
import { compileLineRegex } from '../line-filter.js';
import { ftsTermSyntax, idMatchExpression } from './fts-terms.js';
import { FTS_SETUP_SQL, SCHEMA_SQL, SCHEMA_VERSION } from './schema.js';

export const DAY_NS = 86_400_000_000_000n;

/** A row of `streams`, as cached in memory. */
export interface StreamRow {
  readonly sid: number;
  readonly namespace: string;
  readonly pod: string;
  readonly podUid: string;
  readonly container: string;
  readonly restart: number;
  readonly node: string;
  readonly fileKey: string;
  readonly stream: LogStreamName;
  readonly level: LogLevel;
  /** Oldest and newest record time (relative to the file's midnight) and the record count. */
  firstT: number;
  lastT: number;
  count: number;
}

export type StreamIdentity = Omit<StreamRow, 'sid' | 'firstT' | 'lastT' | 'count'>;

/** A record ready for its day file. */
export interface PendingRecord {
  readonly id: string;
  readonly t: number;
  readonly off: number;
  readonly msg: string;
  readonly fields: string | null;
  readonly stream: StreamIdentity;
}

export interface RecordRow {
  readonly sid: number;
  readonly t: number;
  readonly off: number;
  readonly id: string;
  readonly msg: string;
  readonly fields: string | null;
}

/** A position in a file's order: rows strictly after (forward) or before (backward) it. */
export interface RelativeKey {
  readonly t: number;
  readonly off: number;
  readonly id: string;
}

/** Line filters as SQL over `r.msg`, plus an optional full-text prefilter. */
export interface RowConditions {
  readonly sql: readonly string[];
  readonly params: readonly unknown[];
  /** FTS5 MATCH expression every matching row satisfies. */
  readonly match?: string;
}

/**
 * How a scan reaches its rows: through the full-text index (rows holding the words), through the
 * `(sid, t, off, id)` index (each selected stream in order), or straight through the table in
 * storage order (sequential, all rows, filtered).
 */
export type RowSource = 'text-index' | 'stream-scan' | 'table-scan';

export interface ScanRequest {
  readonly sids: readonly number[];
  /** The sids are every stream of the file: no stream condition is needed. */
  readonly allStreams: boolean;
  /** Relative time bounds: `lo` inclusive, `hi` exclusive. */
  readonly lo: number;
  readonly hi: number;
  readonly after?: RelativeKey;
  readonly descending: boolean;
  readonly conditions: RowConditions;
  readonly source: RowSource;
  readonly limit: number;
}

export class DayFileError extends Error {
  constructor(file: string, detail: string, options?: { cause?: unknown }) {
    super(`log store file ${file}: ${detail}`, options);
    this.name = 'DayFileError';
  }
}

const REGEXP_FUNCTION = 'vigil_line_regexp';
const REGEX_CACHE_SIZE = 128;
const regexCache = new Map<string, RegExp>();

/** Compiled line regexes for the SQL function, shared by all files; patterns were checked before. */
function cachedLineRegex(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (re === undefined) {
    re = compileLineRegex(pattern);
    if (regexCache.size >= REGEX_CACHE_SIZE) regexCache.delete(regexCache.keys().next().value!);
    regexCache.set(pattern, re);
  } else {
    regexCache.delete(pattern);
    regexCache.set(pattern, re);
  }
  return re;
}

/** SQL for `r.msg` matching (or not) an RE2 pattern bound as a parameter. */
export function regexpCondition(negated: boolean): string {
  return `${negated ? 'NOT ' : ''}${REGEXP_FUNCTION}(?, r.msg)`;
}

const STATEMENT_CACHE_SIZE = 64;
/** Rows of a word counted exactly before its frequency is extrapolated (see `termFrequency`). */
const TERM_SAMPLE_ROWS = 2000;
const COLUMNS = 'r.sid AS sid, r.t AS t, r.off AS off, r.id AS id, r.msg AS msg, r.fields AS fields';

function identityKey(s: StreamIdentity): string {
  return `${s.podUid}\u0000${s.container}\u0000${s.restart}\u0000${s.node}\u0000${s.fileKey}\u0000${s.stream}\u0000${s.level}\u0000${s.namespace}\u0000${s.pod}`;
}

interface StreamDbRow {
  sid: number;
  namespace: string;
  pod: string;
  pod_uid: string;
  container: string;
  restart: number;
  node: string;
  file_key: string;
  stream: string;
  level: string;
  first_t: number;
  last_t: number;
  count: number;
}

export interface OpenDayFileOptions {
  readonly readonly: boolean;
  readonly busyTimeoutMs: number;
}

export class DayFile {
  readonly day: string;
  readonly path: string;
  /** The file's UTC midnight in epoch nanoseconds. */
  readonly startNs: bigint;
  readonly #db: Database.Database;
  readonly #readonly: boolean;
  readonly #statements = new Map<string, Database.Statement>();
  #streams = new Map<number, StreamRow>();
  #byIdentity = new Map<string, number>();
  #dataVersion = -1;
  #open = true;

  private constructor(day: string, filePath: string, startNs: bigint, db: Database.Database, readonly: boolean) {
    this.day = day;
    this.path = filePath;
    this.startNs = startNs;
    this.#db = db;
    this.#readonly = readonly;
  }

  static open(day: string, filePath: string, startNs: bigint, opts: OpenDayFileOptions): DayFile {
    let db: Database.Database | undefined;
    try {
      db = new Database(filePath, { readonly: opts.readonly, fileMustExist: opts.readonly });
      db.pragma(`busy_timeout = ${opts.busyTimeoutMs}`);
      db.function(REGEXP_FUNCTION, { deterministic: true }, (pattern, msg) =>
        cachedLineRegex(String(pattern)).test(String(msg)) ? 1 : 0,
      );
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) {
        throw new DayFileError(filePath, `schema version ${version} is newer than this Vigil understands (${SCHEMA_VERSION})`);
      }
      if (!opts.readonly) {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        // Checkpoint every ~16 MiB of WAL rather than 4 MiB: fewer, larger copies under ingest.
        db.pragma('wal_autocheckpoint = 4000');
        db.pragma('journal_size_limit = 67108864');
        if (version === 0) {
          db.transaction(() => {
            db!.exec(SCHEMA_SQL);
            db!.exec(FTS_SETUP_SQL);
            db!.pragma(`user_version = ${SCHEMA_VERSION}`);
          }).immediate();
        }
      } else if (version === 0) {
        throw new DayFileError(filePath, 'not initialised yet');
      }
      const file = new DayFile(day, filePath, startNs, db, opts.readonly);
      file.#refreshStreams();
      return file;
    } catch (err) {
      db?.close();
      throw err;
    }
  }

  get isOpen(): boolean {
    return this.#open;
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    if (!this.#readonly) {
      try {
        this.#db.pragma('optimize');
      } catch {
        // Statistics are an optimisation; closing must not fail over them.
      }
    }
    this.#db.close();
  }

  #statement(sql: string): Database.Statement {
    let st = this.#statements.get(sql);
    if (st === undefined) {
      st = this.#db.prepare(sql);
      if (this.#statements.size >= STATEMENT_CACHE_SIZE) this.#statements.delete(this.#statements.keys().next().value!);
      this.#statements.set(sql, st);
    }
    return st;
  }

  /** Reloads the stream cache when another connection committed since it was loaded. */
  #refreshStreams(): void {
    const version = this.#db.pragma('data_version', { simple: true }) as number;
    if (version === this.#dataVersion) return;
    const rows = this.#statement('SELECT * FROM streams').all() as StreamDbRow[];
    const streams = new Map<number, StreamRow>();
    const byIdentity = new Map<string, number>();
    for (const r of rows) {
      const s: StreamRow = {
        sid: r.sid,
        namespace: r.namespace,
        pod: r.pod,
        podUid: r.pod_uid,
        container: r.container,
        restart: r.restart,
        node: r.node,
        fileKey: r.file_key,
        stream: r.stream as LogStreamName,
        level: r.level as LogLevel,
        firstT: r.first_t,
        lastT: r.last_t,
        count: r.count,
      };
      streams.set(s.sid, s);
      byIdentity.set(identityKey(s), s.sid);
    }
    this.#streams = streams;
    this.#byIdentity = byIdentity;
    this.#dataVersion = version;
  }

  /** The file's streams, current as of this call. */
  streams(): readonly StreamRow[] {
    this.#refreshStreams();
    return [...this.#streams.values()];
  }

  /** Records in the file, as of the last look at its streams. */
  get rowCount(): number {
    let n = 0;
    for (const s of this.#streams.values()) n += s.count;
    return n;
  }

  stream(sid: number): StreamRow | undefined {
    return this.#streams.get(sid);
  }

  /**
   * Stores records in one transaction: all of them or, on any failure, none. Returns how many
   * were new; the rest were already present (same id).
   */
  append(records: readonly PendingRecord[]): { stored: number; duplicates: number } {
    this.#refreshStreams();
    const insertStream = this.#statement(
      `INSERT INTO streams (namespace, pod, pod_uid, container, restart, node, file_key, stream, level, first_t, last_t, count)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`,
    );
    const insertRecord = this.#statement('INSERT OR IGNORE INTO records (sid, t, off, id, msg, fields) VALUES (?, ?, ?, ?, ?, ?)');
    const maxRowid = this.#statement('SELECT coalesce(max(rowid), 0) FROM records').pluck();
    // One pass of the tokenizer over the batch's new rows, in SQLite, instead of one call per row.
    const indexText = this.#statement('INSERT INTO records_fts (rowid, msg, id) SELECT rowid, msg, id FROM records WHERE rowid > ?');
    const updateStream = this.#statement(
      'UPDATE streams SET first_t = min(first_t, ?), last_t = max(last_t, ?), count = count + ? WHERE sid = ?',
    );

    const created: StreamRow[] = [];
    const touched = new Map<number, { first: number; last: number; count: number }>();
    const run = this.#db.transaction(() => {
      const before = maxRowid.get() as number;
      let stored = 0;
      const localIds = new Map<string, number>();
      for (const rec of records) {
        const key = identityKey(rec.stream);
        let sid = this.#byIdentity.get(key) ?? localIds.get(key);
        if (sid === undefined) {
          const s = rec.stream;
          sid = Number(
            insertStream.run(s.namespace, s.pod, s.podUid, s.container, s.restart, s.node, s.fileKey, s.stream, s.level, rec.t, rec.t)
              .lastInsertRowid,
          );
          localIds.set(key, sid);
          created.push({ ...s, sid, firstT: rec.t, lastT: rec.t, count: 0 });
        }
        if (insertRecord.run(sid, rec.t, rec.off, rec.id, rec.msg, rec.fields).changes === 0) continue;
        stored++;
        const stat = touched.get(sid);
        if (stat === undefined) touched.set(sid, { first: rec.t, last: rec.t, count: 1 });
        else {
          if (rec.t < stat.first) stat.first = rec.t;
          if (rec.t > stat.last) stat.last = rec.t;
          stat.count++;
        }
      }
      if (stored > 0) indexText.run(before);
      for (const [sid, stat] of touched) updateStream.run(stat.first, stat.last, stat.count, sid);
      return stored;
    });
    const stored = run.immediate();
    // Published only after the commit: a rolled-back batch leaves the cache as the file is.
    for (const s of created) {
      this.#streams.set(s.sid, s);
      this.#byIdentity.set(identityKey(s), s.sid);
    }
    for (const [sid, stat] of touched) {
      const s = this.#streams.get(sid)!;
      if (s.count === 0) {
        s.firstT = stat.first;
        s.lastT = stat.last;
      } else {
        s.firstT = Math.min(s.firstT, stat.first);
        s.lastT = Math.max(s.lastT, stat.last);
      }
      s.count += stat.count;
    }
    return { stored, duplicates: records.length - stored };
  }

  #where(req: Pick<ScanRequest, 'sids' | 'allStreams' | 'lo' | 'hi' | 'after' | 'descending' | 'conditions' | 'source'>): {
    from: string;
    where: string;
    params: unknown[];
  } {
    const clauses: string[] = [];
    const params: unknown[] = [];
    const source = req.source === 'text-index' && req.conditions.match === undefined ? 'stream-scan' : req.source;
    if (source === 'stream-scan') {
      if (req.sids.length === 1) {
        clauses.push('r.sid = ?');
        params.push(req.sids[0]);
      } else {
        clauses.push('r.sid IN (SELECT value FROM json_each(?))');
        params.push(JSON.stringify(req.sids));
      }
    } else if (!req.allStreams) {
      // A row's stream is checked against a bitmap, one byte per sid: cheaper per row than IN.
      let max = 0;
      for (const sid of req.sids) if (sid > max) max = sid;
      const bitmap = Buffer.alloc(max + 1);
      for (const sid of req.sids) bitmap[sid] = 1;
      clauses.push("substr(?, r.sid + 1, 1) = x'01'");
      params.push(bitmap);
    }
    let from = 'records AS r';
    if (source === 'table-scan') from = 'records AS r NOT INDEXED';
    if (source === 'text-index') {
      // CROSS JOIN fixes the loop order: the (few) index hits outside, each row fetched by rowid.
      from = 'records_fts CROSS JOIN records AS r ON r.rowid = records_fts.rowid';
      clauses.unshift('records_fts MATCH ?');
      params.unshift(req.conditions.match);
    }
    clauses.push('r.t >= ?', 'r.t < ?');
    params.push(req.lo, req.hi);
    if (req.after) {
      const a = req.after;
      clauses.push(req.descending ? '(r.t, r.off, r.id) < (?, ?, ?)' : '(r.t, r.off, r.id) > (?, ?, ?)');
      params.push(a.t, a.off, a.id);
    }
    clauses.push(...req.conditions.sql);
    params.push(...req.conditions.params);
    return { from, where: clauses.join(' AND '), params };
  }

  /** Matching rows in order (ascending or descending by time, offset, id), at most `limit`. */
  scan(req: ScanRequest): RecordRow[] {
    const { from, where, params } = this.#where(req);
    const dir = req.descending ? 'DESC' : 'ASC';
    const sql = `SELECT ${COLUMNS} FROM ${from} WHERE ${where} ORDER BY r.t ${dir}, r.off ${dir}, r.id ${dir} LIMIT ?`;
    return this.#statement(sql).all(...params, req.limit) as RecordRow[];
  }

  /**
   * Counts of matching rows per bucket. Buckets are `stepNs` wide and aligned to the epoch; keys
   * are bucket start times in epoch nanoseconds.
   */
  volume(req: Omit<ScanRequest, 'limit' | 'after' | 'descending'>, stepNs: bigint): Map<bigint, number> {
    const { from, where, params } = this.#where({ ...req, descending: false });
    const out = new Map<bigint, number>();
    // Bucket of an epoch time T = floor(T / step). With the file's midnight S = q·step + r,
    // floor((S + t) / step) = q + floor((t + r) / step): small integers SQLite computes exactly.
    const q = this.startNs / stepNs;
    const r = this.startNs % stepNs;
    if (stepNs <= 2n ** 52n) {
      const sql = `SELECT (r.t + ?) / ? AS b, count(*) AS n FROM ${from} WHERE ${where} GROUP BY b`;
      const rows = this.#statement(sql).all(r, stepNs, ...params) as Array<{ b: number; n: number }>;
      for (const row of rows) out.set((q + BigInt(row.b)) * stepNs, row.n);
      return out;
    }
    // A step longer than ~52 days: the day holds at most one bucket boundary; count either side.
    const boundary = stepNs - r; // relative time where bucket q + 1 starts
    const sql = `SELECT count(*) AS n FROM ${from} WHERE ${where} AND r.t >= ? AND r.t < ?`;
    const st = this.#statement(sql);
    const below = st.get(...params, 0, boundary < DAY_NS ? boundary : DAY_NS) as { n: number };
    if (below.n > 0) out.set(q * stepNs, below.n);
    if (boundary < DAY_NS) {
      const above = st.get(...params, boundary, DAY_NS) as { n: number };
      if (above.n > 0) out.set((q + 1n) * stepNs, above.n);
    }
    return out;
  }

  /** Oldest and newest record time of a stream within [lo, hi), or undefined when it has none. */
  streamBounds(sid: number, lo: number, hi: number): { first: number; last: number } | undefined {
    const first = this.#statement('SELECT t FROM records WHERE sid = ? AND t >= ? AND t < ? ORDER BY t ASC LIMIT 1')
      .pluck()
      .get(sid, lo, hi) as number | undefined;
    if (first === undefined) return undefined;
    const last = this.#statement('SELECT t FROM records WHERE sid = ? AND t >= ? AND t < ? ORDER BY t DESC LIMIT 1')
      .pluck()
      .get(sid, lo, hi) as number;
    return { first, last };
  }

  findById(id: string): RecordRow | undefined {
    this.#refreshStreams();
    const match = idMatchExpression(id);
    if (match === undefined) {
      // An id with no word characters at all (never one of ours): only a scan can find it.
      return this.#statement(`SELECT ${COLUMNS} FROM records AS r WHERE r.id = ?`).get(id) as RecordRow | undefined;
    }
    return this.#statement(
      `SELECT ${COLUMNS} FROM records_fts CROSS JOIN records AS r ON r.rowid = records_fts.rowid WHERE records_fts MATCH ? AND r.id = ?`,
    ).get(match, id) as RecordRow | undefined;
  }

  /**
   * How many rows contain an index term, or any word starting with it; infinite when more than
   * `cap` distinct words share the prefix.
   *
   * A whole word's count is exact up to `TERM_SAMPLE_ROWS` rows, beyond that extrapolated from
   * where its `TERM_SAMPLE_ROWS`-th row lies in the file: counting every row of a common word
   * walks its whole row list (measured: 55 ms for a word in 3.3M of 9.3M rows), which cost more
   * than the queries it was planning. Rows are stored in arrival order, so the extrapolation
   * assumes the word is about as frequent later in the day as early in it; the planner only
   * needs the order of magnitude.
   */
  termFrequency(folded: string, prefix: boolean, cap: number): number {
    if (!prefix) {
      const nth = this.#statement('SELECT rowid FROM records_fts WHERE records_fts MATCH ? ORDER BY rowid LIMIT 1 OFFSET ?')
        .pluck()
        .get(ftsTermSyntax({ text: folded, prefix: false }), TERM_SAMPLE_ROWS - 1) as number | undefined;
      if (nth === undefined) {
        const doc = this.#statement('SELECT doc FROM records_fts_vocab WHERE term = ?').pluck().get(folded) as number | undefined;
        return doc ?? 0;
      }
      // Two statements: SQLite reads min() or max() from the end of the b-tree only when alone.
      const lo = this.#statement('SELECT min(rowid) FROM records').pluck().get() as number;
      const hi = this.#statement('SELECT max(rowid) FROM records').pluck().get() as number;
      return Math.round((TERM_SAMPLE_ROWS * (hi - lo + 1)) / (nth - lo + 1));
    }
    const docs = this.#statement('SELECT doc FROM records_fts_vocab WHERE term >= ? AND term < ? LIMIT ?')
      .pluck()
      .all(folded, `${folded}\u{10ffff}`, cap) as number[];
    if (docs.length >= cap) return Number.POSITIVE_INFINITY; // too many words share the prefix to tell
    let sum = 0;
    for (const d of docs) sum += d;
    return sum;
  }

  /**
   * Deletes the rows older than relative time `t` (index entries too) and recomputes the stream
   * statistics. Returns the number of rows deleted.
   */
  deleteBefore(t: number): number {
    const deleted = this.#db.transaction(() => {
      // An external-content index forgets a row only when told its old values.
      this.#db
        .prepare("INSERT INTO records_fts (records_fts, rowid, msg, id) SELECT 'delete', rowid, msg, id FROM records WHERE t < ?")
        .run(t);
      const n = this.#db.prepare('DELETE FROM records WHERE t < ?').run(t).changes;
      this.#db.exec(`
        UPDATE streams SET
          first_t = coalesce((SELECT min(t) FROM records WHERE records.sid = streams.sid), 0),
          last_t = coalesce((SELECT max(t) FROM records WHERE records.sid = streams.sid), 0),
          count = (SELECT count(*) FROM records WHERE records.sid = streams.sid);
        DELETE FROM streams WHERE count = 0;`);
      return n;
    }).immediate();
    this.#dataVersion = -1;
    this.#refreshStreams();
    return deleted;
  }

  toStored(row: RecordRow): StoredLogRecord {
    let s = this.#streams.get(row.sid);
    if (s === undefined) {
      // A stream another connection committed after our last look.
      this.#refreshStreams();
      s = this.#streams.get(row.sid);
    }
    if (s === undefined) throw new DayFileError(this.path, `record ${row.id} names unknown stream ${row.sid}`);
    const rec: StoredLogRecord = {
      id: row.id,
      timeNs: this.startNs + BigInt(row.t),
      stream: s.stream,
      level: s.level,
      message: row.msg,
      ...(row.fields !== null && { fields: JSON.parse(row.fields) as Record<string, string> }),
      namespace: s.namespace,
      pod: s.pod,
      podUid: s.podUid,
      container: s.container,
      restart: s.restart,
      node: s.node,
      fileKey: s.fileKey,
      offset: row.off,
    };
    return rec;
  }

  /** The relative key of a row, for keyset continuation. */
  static keyOf(row: RecordRow): RelativeKey {
    return { t: row.t, off: row.off, id: row.id };
  }
}
