import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from './build-info.js';

const built = path.join(PACKAGE_ROOT, 'dist/util/young-generation.js');

// A fresh process: the test worker's own young generation has long been sized by vitest.
describe.skipIf(!existsSync(built))('fixYoungGeneration', () => {
  it('grows the young generation to the target at once and keeps it there while objects survive', () => {
    const script = `
      import v8 from 'node:v8';
      import { fixYoungGeneration } from ${JSON.stringify(built)};
      const size = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
      fixYoungGeneration(8 * 1024 * 1024);
      const first = size();
      const keep = [];
      let batch = [];
      for (let i = 0; i < 3e6; i++) {
        batch.push({ i, a: [i] });
        if (batch.length > 50000) { keep.push(batch.slice(0, 100)); batch = []; }
      }
      await new Promise((r) => setTimeout(r, 50));
      console.log(JSON.stringify({ first, after: size(), kept: keep.length }));
    `;
    const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as { first: number; after: number };
    expect(out.first).toBe(8 * 1024 * 1024);
    expect(out.after).toBe(8 * 1024 * 1024);
  });
});
