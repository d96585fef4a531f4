import fc from 'fast-check';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileGlob, expandGlob, GlobError, globMatches } from './glob.js';

describe('compileGlob', () => {
  it('never throws anything but a GlobError, which names a position inside the pattern', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', '/', '*', '?', '[', ']', '!', '^', '-', '\\', '.', 'z', '\u0000') , maxLength: 30 }), (p) => {
        try {
          compileGlob(`/x/${p}`);
        } catch (e) {
          expect(e).toBeInstanceOf(GlobError);
          const g = e as GlobError;
          expect(g.position).toBeGreaterThanOrEqual(0);
          expect(g.position).toBeLessThan(g.pattern.length);
          expect(g.message).toContain(`position ${g.position}`);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('an escaped name matches exactly itself', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !s.includes('/') && !s.includes('\u0000') && s !== '.' && s !== '..'), (name) => {
        const escaped = name.replace(/[*?[\\\]]/g, (c) => `\\${c}`);
        const g = compileGlob(`/base/*/${escaped}`);
        expect(globMatches(g, `dir/${name}`)).toBe(true);
        expect(globMatches(g, `dir/${name}x`)).toBe(false);
      }),
    );
  });

  it('matches segments, classes and ** like the shell', () => {
    const g = compileGlob('/var/lib/app/**/[a-c]?.log');
    expect(g.base).toBe('/var/lib/app');
    expect(globMatches(g, 'ab.log')).toBe(true);
    expect(globMatches(g, 'x/y/cz.log')).toBe(true);
    expect(globMatches(g, 'x/dz.log')).toBe(false);
    expect(globMatches(g, '.hidden/ab.log')).toBe(false);
    const star = compileGlob('/logs/*.log');
    expect(globMatches(star, 'app.log')).toBe(true);
    expect(globMatches(star, '.app.log')).toBe(false);
    expect(globMatches(star, 'a/b.log')).toBe(false);
    const neg = compileGlob('/logs/[!0-9]*');
    expect(globMatches(neg, 'app')).toBe(true);
    expect(globMatches(neg, '1app')).toBe(false);
  });

  it('reports bad patterns with their position', () => {
    expect(() => compileGlob('/a/[abc')).toThrow(/position 3: unterminated character class/);
    expect(() => compileGlob('/a/b\\')).toThrow(/position 4: trailing backslash/);
    expect(() => compileGlob('/a/[z-a]')).toThrow(/out of order/);
    expect(() => compileGlob('')).toThrow(GlobError);
  });
});

describe('expandGlob', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vigil-glob-'));
    for (const f of ['a/x/app.log', 'a/x/app.log.1', 'a/y/z/deep.log', 'b/other.txt', 'b/.hidden.log', 'c.log']) {
      await mkdir(path.dirname(path.join(dir, f)), { recursive: true });
      await writeFile(path.join(dir, f), 'x\n');
    }
    await symlink(dir, path.join(dir, 'a', 'loop')); // a cycle `**` must not follow
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('lists matching files only, sorted, without following links into cycles', async () => {
    // A named level follows a link (as the shell does); `**` does not, so the cycle ends.
    expect(await expandGlob(compileGlob(`${dir}/*/*/*.log`))).toEqual([path.join(dir, 'a/loop/c.log'), path.join(dir, 'a/x/app.log')]);
    expect(await expandGlob(compileGlob(`${dir}/**/*.log`))).toEqual(
      ['a/x/app.log', 'a/y/z/deep.log', 'c.log'].map((f) => path.join(dir, f)),
    );
    expect(await expandGlob(compileGlob(`${dir}/a/x/app.log*`))).toEqual([path.join(dir, 'a/x/app.log'), path.join(dir, 'a/x/app.log.1')]);
    expect(await expandGlob(compileGlob(`${dir}/c.log`))).toEqual([path.join(dir, 'c.log')]);
    expect(await expandGlob(compileGlob(`${dir}/missing/*.log`))).toEqual([]);
  });
});
