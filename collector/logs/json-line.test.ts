import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonFieldParser, levelFromFields, parseJsonFields } from './json-line.js';

describe('parseJsonFields', () => {
  it('flattens nested objects with _, as LogQL | json does', () => {
    expect(parseJsonFields('{"level":"info","http":{"method":"GET","status":200,"req":{"path":"/x"}},"ok":true,"gone":false}')).toEqual({
      level: 'info',
      http_method: 'GET',
      http_status: '200',
      http_req_path: '/x',
      ok: 'true',
      gone: 'false',
    });
  });

  it('skips arrays and nulls, including arrays of objects', () => {
    expect(parseJsonFields('{"a":[1,{"b":2},[3]],"n":null,"c":"x","e":[],"o":{}}')).toEqual({ c: 'x' });
  });

  it('keeps number text exactly: exponents, fractions and integers beyond 2^53', () => {
    expect(parseJsonFields('{"a":1e3,"b":1.50,"c":12345678901234567890,"d":-0,"e":0.1E-7}')).toEqual({
      a: '1e3',
      b: '1.50',
      c: '12345678901234567890',
      d: '-0',
      e: '0.1E-7',
    });
  });

  it('decodes string escapes', () => {
    expect(parseJsonFields('{"msg":"line1\\nline2 \\"q\\" \\\\ \\/ \\u00e9 \\ud83d\\ude00 \\t"}')).toEqual({ msg: 'line1\nline2 "q" \\ / é 😀 \t' });
  });

  it('sanitises keys the way Loki does', () => {
    expect(parseJsonFields('{"log.level":"warn","1st":"a","a b":"c","  trim  ":"d","ünï":"e","":"f","x":{"":{"y":"z"}},"k😀":"g"}')).toEqual({
      log_level: 'warn',
      _1st: 'a',
      a_b: 'c',
      trim: 'd',
      _n_: 'e',
      x_y: 'z',
      k_: 'g',
    });
  });

  it('lets a later duplicate key win', () => {
    expect(parseJsonFields('{"a":"1","a":"2"}')).toEqual({ a: '2' });
  });

  it('stores __proto__ as an ordinary field', () => {
    const fields = parseJsonFields('{"__proto__":"x","a":"1"}')!;
    expect(Object.keys(fields)).toEqual(['__proto__', 'a']);
    expect(fields['__proto__']).toBe('x');
    expect(Object.getPrototypeOf(fields)).toBe(Object.prototype);
  });

  it.each([
    ['not an object', '["a"]'],
    ['a string', '"a"'],
    ['trailing text', '{"a":1} x'],
    ['two objects', '{"a":1}{"b":2}'],
    ['a truncated object', '{"a":"b'],
    ['a missing colon', '{"a" 1}'],
    ['a trailing comma', '{"a":1,}'],
    ['a bad escape', '{"a":"\\x"}'],
    ['a short unicode escape', '{"a":"\\u12"}'],
    ['a raw control character', '{"a":"x\ty"}'],
    ['a leading zero', '{"a":01}'],
    ['a bare fraction', '{"a":.5}'],
    ['a dangling exponent', '{"a":1e}'],
    ['single quotes', "{'a':1}"],
    ['an unquoted key', '{a:1}'],
    ['an unclosed array', '{"a":[1,2}'],
    ['a misnested array', '{"a":[1}]}'],
  ])('refuses %s', (_what, text) => {
    expect(parseJsonFields(text)).toBeUndefined();
  });

  it('accepts whatever JSON.parse accepts as an object, and refuses the rest, never throwing', () => {
    const check = (text: string): void => {
      let expected: unknown;
      try {
        expected = JSON.parse(text);
      } catch {
        expected = undefined;
      }
      const isObject = typeof expected === 'object' && expected !== null && !Array.isArray(expected);
      expect(parseJsonFields(text) !== undefined).toBe(isObject);
    };
    fc.assert(fc.property(fc.json({ maxDepth: 4 }), check), { numRuns: 500 });
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom('{', '}', '[', ']', '"', ':', ',', '\\', 'u', '0', '1', 'e', '-', '.', 't', 'n', 'a', ' ', '\n') }), check), { numRuns: 2000 });
    fc.assert(fc.property(fc.string({ unit: 'binary' }), check));
  });

  it('flattens like a reference implementation over JSON.parse', () => {
    // Reference: flatten parsed JSON; keys limited to [a-z] so sanitising is the identity,
    // numbers limited to integers so JSON.parse keeps their text.
    const reference = (value: unknown, prefix: string, out: Record<string, string>): Record<string, string> => {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        const key = prefix === '' ? k : `${prefix}_${k}`;
        if (typeof v === 'string') out[key] = v;
        else if (typeof v === 'number' || typeof v === 'boolean') out[key] = String(v);
        else if (v !== null && typeof v === 'object' && !Array.isArray(v)) reference(v, key, out);
      }
      return out;
    };
    const leaf = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }));
    const key = fc.stringMatching(/^[a-z]{1,3}$/);
    const { tree } = fc.letrec((tie) => ({
      tree: fc.dictionary(key, fc.oneof({ depthSize: 'small' }, leaf, tie('tree')), { maxKeys: 5 }),
    }));
    fc.assert(
      fc.property(tree, (obj) => {
        const text = JSON.stringify(obj);
        expect(parseJsonFields(text)).toEqual(reference(JSON.parse(text), '', {}));
      }),
      { numRuns: 500 },
    );
  });

  it('reuses keys of the previous line only where the text matches', () => {
    const parser = new JsonFieldParser();
    expect(parser.parse('{"level":"info","msg":"a","n":{"k":"1"}}')).toEqual({ level: 'info', msg: 'a', n_k: '1' });
    // Same position, other key; a prefix of the cached key; the cached key under another parent.
    expect(parser.parse('{"lvl":"warn","ms":"b","m":{"k":"2"}}')).toEqual({ lvl: 'warn', ms: 'b', m_k: '2' });
    expect(parser.parse('{"level":"x","msg":"y","n":{"k":"3"}}')).toEqual({ level: 'x', msg: 'y', n_k: '3' });
    expect(parser.parse('{"lev\\u0065l":"e","msg":"y"}')).toEqual({ level: 'e', msg: 'y' });
    expect(parser.parse('{"levelx":"e"}')).toEqual({ levelx: 'e' });
  });

  it('survives nesting far beyond the flattening depth', () => {
    const deep = `{"a":${'{"b":'.repeat(5000)}1${'}'.repeat(5000)},"c":"d"}`;
    expect(parseJsonFields(deep)).toMatchObject({ c: 'd' });
    const deepArray = `{"a":${'['.repeat(100_000)}${']'.repeat(100_000)},"c":"d"}`;
    expect(parseJsonFields(deepArray)).toEqual({ c: 'd' });
  });
});

describe('levelFromFields', () => {
  it('reads level, lvl, severity and log.level, in that order', () => {
    expect(levelFromFields({ level: 'warn', severity: 'ERROR' })).toBe('warn');
    expect(levelFromFields({ lvl: 'eror' })).toBe('error');
    expect(levelFromFields({ severity: 'CRITICAL' })).toBe('fatal');
    expect(levelFromFields(parseJsonFields('{"log.level":"debug"}')!)).toBe('debug');
    expect(levelFromFields(parseJsonFields('{"log":{"level":"info"}}')!)).toBe('info');
    expect(levelFromFields(parseJsonFields('{"level":30}')!)).toBe('info');
    expect(levelFromFields({ level: 'verbose', severity: 'warning' })).toBe('warn');
    expect(levelFromFields({ msg: 'error' })).toBeUndefined();
  });
});
