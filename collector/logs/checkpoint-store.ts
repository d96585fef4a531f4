/**
 * Durable checkpoints of the log tailer: per file, the offset up to which every record was
 * acknowledged by the sink (and is not part of a record still being assembled).
 *
 * Kept in SQLite (`<dataDir>/log-checkpoints.db`) in WAL mode with `synchronous = NORMAL`:
 * a commit is one small WAL append of the rows that changed, instead of rewriting every file's
 * checkpoint as a replaced-file scheme would each 200 ms. A committed transaction survives a
 * process crash (kill -9) because it is in the OS page cache; a power loss may lose the latest
 * commits, which only moves checkpoints back: the records after them are read again and the
 * store drops them by ID. A checkpoint can lag but never run ahead of acknowledgements.
 *
 * A checkpoint is keyed by the file's `fileKey` (content identity), and records the device and
 * inode the file had when it was last read. The key alone decides: record IDs derive from
 * (node, fileKey, offset), so two files with one fileKey share one ID space whatever their inodes,
 * and a gzipped rotation (new inode) must find the checkpoint of the plain file it came from.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

export interface Checkpoint {
  readonly fileKey: string;
  /** Next byte to read (uncompressed offset): every record before it is acknowledged. */
  readonly offset: number;
  /** `st_dev` and `st_ino` of the file last read under this key, as decimal strings. */
  readonly dev: string;
  readonly ino: string;
  /** Path the file was last read at. */
  readonly path: string;
  readonly updatedMs: number;
}

const SCHEMA_VERSION = 1;

export class CheckpointStore {
  readonly #db: Database.Database;
  readonly #upsert: Database.Statement;
  readonly #delete: Database.Statement;
  readonly #saveMany: (rows: readonly Checkpoint[]) => void;
  readonly #deleteMany: (keys: readonly string[]) => void;

  private constructor(db: Database.Database) {
    this.#db = db;
    this.#upsert = db.prepare(
      `INSERT INTO log_checkpoints (file_key, "offset", dev, ino, path, updated_ms) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(file_key) DO UPDATE SET "offset" = excluded."offset", dev = excluded.dev, ino = excluded.ino,
         path = excluded.path, updated_ms = excluded.updated_ms`,
    );
    this.#delete = db.prepare('DELETE FROM log_checkpoints WHERE file_key = ?');
    this.#saveMany = db.transaction((rows: readonly Checkpoint[]) => {
      for (const c of rows) this.#upsert.run(c.fileKey, c.offset, c.dev, c.ino, c.path, c.updatedMs);
    });
    this.#deleteMany = db.transaction((keys: readonly string[]) => {
      for (const k of keys) this.#delete.run(k);
    });
  }

  /** Opens (creating if needed) the checkpoint database at `file`. */
  static open(file: string): CheckpointStore {
    mkdirSync(path.dirname(file), { recursive: true });
    const db = new Database(file);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) {
        throw new Error(`${file}: checkpoint schema version ${version} is newer than this Vigil's (${SCHEMA_VERSION})`);
      }
      db.exec(`CREATE TABLE IF NOT EXISTS log_checkpoints (
        file_key TEXT PRIMARY KEY,
        "offset" INTEGER NOT NULL CHECK ("offset" >= 0),
        dev TEXT NOT NULL,
        ino TEXT NOT NULL,
        path TEXT NOT NULL,
        updated_ms INTEGER NOT NULL
      ) STRICT`);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    } catch (err) {
      db.close();
      throw err;
    }
    return new CheckpointStore(db);
  }

  all(): Checkpoint[] {
    const rows = this.#db.prepare('SELECT file_key, "offset", dev, ino, path, updated_ms FROM log_checkpoints').all() as Array<{
      file_key: string;
      offset: number;
      dev: string;
      ino: string;
      path: string;
      updated_ms: number;
    }>;
    return rows.map((r) => ({ fileKey: r.file_key, offset: r.offset, dev: r.dev, ino: r.ino, path: r.path, updatedMs: r.updated_ms }));
  }

  /** Writes the given checkpoints in one transaction. */
  save(rows: readonly Checkpoint[]): void {
    if (rows.length > 0) this.#saveMany(rows);
  }

  /** Forgets checkpoints in one transaction. */
  delete(fileKeys: readonly string[]): void {
    if (fileKeys.length > 0) this.#deleteMany(fileKeys);
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
