import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { silentLogger } from '../../util/logging.js';
import { tsdbService, type TsdbService } from './service.js';
import { L, M, dump } from './tsdb/testutil.js';

const dirs: string[] = [];
const services: TsdbService[] = [];
afterEach(async () => {
  for (const s of services.splice(0)) await s.stop();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function started(retentionBytes?: number): Promise<TsdbService> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'vigil-tsdb-svc-'));
  dirs.push(dataDir);
  const svc = tsdbService({ dataDir, retentionMs: 24 * 3600_000, retentionBytes, logger: silentLogger(), registry: new Registry() });
  await svc.start({ signal: new AbortController().signal, fatal: () => {} });
  services.push(svc);
  return svc;
}

/** 20 series, one sample a second for the last 40 minutes. */
async function fill(svc: TsdbService): Promise<{ first: number; last: number }> {
  const last = Math.floor(Date.now() / 1000) * 1000;
  const first = last - 2400_000;
  const app = svc.appendable().appender();
  const refs = new Array<number>(20).fill(0);
  for (let t = first; t <= last; t += 1000) {
    for (let i = 0; i < 20; i++) refs[i] = app.append(refs[i]!, L({ __name__: 'load', i: String(i) }), t, (t / 1000) % 97);
  }
  await app.commit();
  return { first, last };
}

describe('TSDB service retention', () => {
  it('keeps chunk memory under storage.metrics.retention_size, dropping the oldest chunks', async () => {
    const svc = await started(16 * 1024);
    const { first, last } = await fill(svc);
    expect(svc.db().stats().bytes).toBeGreaterThan(16 * 1024);
    await svc.db().truncate();
    expect(svc.db().stats().bytes).toBeLessThanOrEqual(16 * 1024);
    const series = Object.values(await dump(svc.queryable(), [M('=', '__name__', 'load')]));
    expect(series).toHaveLength(20);
    for (const samples of series) {
      expect(samples[0]![0]).toBeGreaterThan(first);
      expect(samples.at(-1)![0]).toBe(last);
    }
  });

  it('keeps everything within time retention when no size is set', async () => {
    const svc = await started();
    const { first } = await fill(svc);
    const before = svc.db().stats();
    await svc.db().truncate();
    expect(svc.db().stats()).toMatchObject({ bytes: before.bytes, numSamples: before.numSamples });
    for (const samples of Object.values(await dump(svc.queryable(), [M('=', '__name__', 'load')]))) expect(samples[0]![0]).toBe(first);
  });
});
