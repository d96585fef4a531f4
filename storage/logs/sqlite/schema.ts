/**
 * The layout of one day file. A record's row holds only what varies per line; everything its
 * container file shares (pod, container, restart, node, file key) and the two per-line values with
 * few distinct values (stdout/stderr, level) sit once in `streams`, and the row points at it. So
 * a query that names streams (namespace, pod, level…) resolves them to stream ids first and reads
 * only those rows, by the `(sid, t, off, id)` index that also yields them in order.
 *
 * That index is also what makes appends idempotent: a replayed record has the same stream, time,
 * offset and id, and `INSERT OR IGNORE` drops it. A unique index on the id alone would do the
 * same at a price measured at more than half the append rate: ids are hashes, so every insert
 * dirties a random page of an index far larger than the cache, where `(sid, t, off, id)` only
 * ever appends at the end of each stream.
 *
 * Times are nanoseconds since the file's own UTC midnight: below 2^47, so JavaScript numbers hold
 * them exactly and SQLite stores them in 6 bytes.
 *
 * One full-text index, external-content (the text lives once, in `records`), without positions
 * or sizes. It holds the words of each message, a prefilter for `|=` (see fts-terms.ts), and the
 * words of each id, so "show context" finds its anchor by id: FTS5 indexes are log-structured
 * (sorted segments, merged as appends go on), which keeps random keys cheap to insert. One index
 * for both costs ~11% less append time than two. Measured by bench/log-store.ts.
 */

export const SCHEMA_VERSION = 1;

export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS streams (
  sid        INTEGER PRIMARY KEY,
  namespace  TEXT NOT NULL,
  pod        TEXT NOT NULL,
  pod_uid    TEXT NOT NULL,
  container  TEXT NOT NULL,
  restart    INTEGER NOT NULL,
  node       TEXT NOT NULL,
  file_key   TEXT NOT NULL,
  stream     TEXT NOT NULL,
  level      TEXT NOT NULL,
  first_t    INTEGER NOT NULL,
  last_t     INTEGER NOT NULL,
  count      INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS streams_identity
  ON streams (pod_uid, container, restart, node, file_key, stream, level, namespace, pod);

CREATE TABLE IF NOT EXISTS records (
  rowid   INTEGER PRIMARY KEY,
  sid     INTEGER NOT NULL,
  t       INTEGER NOT NULL,
  off     INTEGER NOT NULL,
  id      TEXT NOT NULL,
  msg     TEXT NOT NULL,
  fields  TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS records_stream_order ON records (sid, t, off, id);

CREATE VIRTUAL TABLE IF NOT EXISTS records_fts USING fts5 (
  msg, id, content = 'records', content_rowid = 'rowid',
  tokenize = 'ascii', detail = none, columnsize = 0
);
CREATE VIRTUAL TABLE IF NOT EXISTS records_fts_vocab USING fts5vocab (records_fts, 'row');
`;

/**
 * Run once when a file is created. A higher automerge lets more index segments pile up before
 * they are merged: cheaper appends (measured +10% lines/s) for a few more segments per lookup.
 */
export const FTS_SETUP_SQL = `INSERT INTO records_fts (records_fts, rank) VALUES ('automerge', 16);`;
