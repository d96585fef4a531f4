/**
 * The query path keeps nothing derived from stored series between requests: a module-level map
 * keyed by label sets (which the head hands out unchanged from query to query) would make a
 * repeated query cheaper than its first, which the benchmarks and users would both misread.
 * Per-query memos are keyed by an object that lives only as long as the query (the evaluator).
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const QUERY_PATH = [
  ...readdirSync(path.join(ROOT, 'promql/engine'))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => `promql/engine/${f}`),
  'storage/metrics/tsdb/querier.ts',
  'storage/metrics/tsdb/chunk/xor-wasm.ts',
  'api/prometheus/result-json.ts',
];

/** Top-level `const x = new (Weak)Map<Labels…` / `<Label…` declarations. */
function labelKeyedModuleMaps(src: string): string[] {
  return src.split('\n').filter((line) => /^(export )?const \w+ = new (Weak)?Map<\s*(Labels|Label\b|readonly Label)/.test(line));
}

describe('query path', () => {
  it('keeps no module-level memo keyed by label sets', () => {
    const found: string[] = [];
    for (const f of QUERY_PATH) for (const line of labelKeyedModuleMaps(readFileSync(path.join(ROOT, f), 'utf8'))) found.push(`${f}: ${line}`);
    expect(found).toEqual([]);
  });

  it('recognises such a memo', () => {
    expect(labelKeyedModuleMaps('const sortKeys = new WeakMap<Labels, string>();\nfunction f() {}')).toHaveLength(1);
    expect(labelKeyedModuleMaps('const perQuery = new WeakMap<Evaluator, Map<Labels, string>>();')).toEqual([]);
  });
});
