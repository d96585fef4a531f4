import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointStore } from './checkpoint-store.js';

describe('CheckpointStore', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vigil-cp-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('keeps checkpoints across reopening, updates in place and forgets', () => {
    const file = path.join(dir, 'a', 'log-checkpoints.db');
    const s1 = CheckpointStore.open(file);
    s1.save([
      { fileKey: 'k1', offset: 10, dev: '2049', ino: '18446744073709551615', path: '/p/0.log', updatedMs: 1 },
      { fileKey: 'k2', offset: 20, dev: '2049', ino: '7', path: '/p/1.log', updatedMs: 1 },
    ]);
    s1.save([{ fileKey: 'k1', offset: 15, dev: '2049', ino: '9', path: '/p/0.log.20240101-000000.gz', updatedMs: 2 }]);
    s1.close();
    const s2 = CheckpointStore.open(file);
    expect(s2.all().sort((a, b) => a.fileKey.localeCompare(b.fileKey))).toEqual([
      { fileKey: 'k1', offset: 15, dev: '2049', ino: '9', path: '/p/0.log.20240101-000000.gz', updatedMs: 2 },
      { fileKey: 'k2', offset: 20, dev: '2049', ino: '7', path: '/p/1.log', updatedMs: 1 },
    ]);
    s2.delete(['k2', 'unknown']);
    expect(s2.all().map((c) => c.fileKey)).toEqual(['k1']);
    s2.close();
  });

  it('refuses a database written by a newer schema', () => {
    const file = path.join(dir, 'newer.db');
    const db = new Database(file);
    db.pragma('user_version = 99');
    db.close();
    expect(() => CheckpointStore.open(file)).toThrow(/schema version 99 is newer/);
  });

  it('refuses a negative offset instead of storing it', () => {
    const s = CheckpointStore.open(path.join(dir, 'neg.db'));
    expect(() => s.save([{ fileKey: 'k', offset: -1, dev: '1', ino: '1', path: '/p', updatedMs: 0 }])).toThrow(/CHECK/);
    expect(s.all()).toEqual([]);
    s.close();
  });
});
