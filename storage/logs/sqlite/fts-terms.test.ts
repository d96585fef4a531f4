import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ftsMatchExpression, substringTerms } from './fts-terms.js';
import { SCHEMA_SQL } from './schema.js';

describe('full-text prefilter terms', () => {
  it('take only the words a substring holds whole, the last one as a prefix', () => {
    expect(substringTerms('rror')).toEqual([]);
    expect(substringTerms('timed out')).toEqual([{ text: 'out', prefix: true }]);
    expect(substringTerms(' timed out ')).toEqual([
      { text: 'timed', prefix: false },
      { text: 'out', prefix: false },
    ]);
    expect(substringTerms('x request-id=7')).toEqual([
      { text: 'request', prefix: false },
      { text: 'id', prefix: false },
    ]);
    expect(substringTerms('user=alice id=42')).toEqual([
      { text: 'alice', prefix: false },
      { text: 'id', prefix: false },
    ]);
    expect(substringTerms('user=alice id=421')).toEqual([
      { text: 'alice', prefix: false },
      { text: '421', prefix: true },
      { text: 'id', prefix: false },
    ]);
    expect(substringTerms('"Ünïcode"')).toEqual([{ text: 'Ünïcode', prefix: false }]);
    expect(ftsMatchExpression(substringTerms(' say "hi"'))).toBe('"say" AND "hi"');
    expect(ftsMatchExpression(substringTerms('abc'))).toBeUndefined();
  });

  describe('never lose a line that contains the substring (against a real FTS5 index)', () => {
    const db = new Database(':memory:');
    db.exec(SCHEMA_SQL);
    afterAll(() => db.close());
    const insert = db.prepare('INSERT INTO records (sid, t, off, id, msg) VALUES (0, 0, 0, ?, ?)');
    const index = db.prepare('INSERT INTO records_fts (rowid, msg) VALUES (?, ?)');
    // The rowid is bound as a BigInt: better-sqlite3 binds numbers as REAL, and FTS5 ignores a
    // REAL rowid constraint next to MATCH.
    const matches = db.prepare('SELECT count(*) FROM records_fts WHERE records_fts MATCH ? AND rowid = ?').pluck();
    let n = 0;

    // Lines over an alphabet that makes word boundaries, case and non-ASCII text likely.
    const unit = fc.constantFrom('a', 'B', 'c', 'Z', '0', '9', ' ', '-', '=', '"', '*', '.', ':', '\n', '\t', 'é', 'Ü', '日', '🙂', '_', '\u0000');
    const lineArb = fc.array(unit, { minLength: 1, maxLength: 60 }).map((u) => u.join(''));

    it('for substrings of random lines', () => {
      fc.assert(
        fc.property(lineArb, fc.nat(), fc.nat(), (line, a, b) => {
          const from = a % line.length;
          const to = from + 1 + (b % (line.length - from));
          const needle = line.slice(from, to);
          const id = `r${n++}`;
          const rowid = BigInt(insert.run(id, line).lastInsertRowid);
          index.run(rowid, line);
          const expr = ftsMatchExpression(substringTerms(needle));
          if (expr === undefined) return;
          expect(matches.get(expr, rowid), `${JSON.stringify(needle)} in ${JSON.stringify(line)}: ${expr}`).toBe(1);
        }),
        { numRuns: 3000 },
      );
    });

    it('and build a valid query from any text', () => {
      fc.assert(
        fc.property(fc.string({ maxLength: 80, unit: 'binary' }), (needle) => {
          const expr = ftsMatchExpression(substringTerms(needle));
          if (expr !== undefined) expect(() => matches.get(expr, 1n)).not.toThrow();
        }),
        { numRuns: 2000 },
      );
    });
  });
});
