import fc from 'fast-check';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discoverGlobFiles, discoverPodLogs, metaFromExtraPath, rotationFamily } from './discovery.js';
import { compileGlob } from './glob.js';

describe('discovery', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'vigil-disc-'));
    const files = [
      'pods/shop_cart_uid-1/app/0.log',
      'pods/shop_cart_uid-1/app/1.log',
      'pods/shop_cart_uid-1/app/0.log.20240101-000000',
      'pods/shop_cart_uid-1/app/0.log.20231231-000000.gz',
      'pods/shop_cart_uid-1/app/0.log.20240101-000001.tmp',
      'pods/shop_cart_uid-1/app/notes.txt',
      'pods/not-a-pod-dir/app/0.log',
      'vol/billing/api/server.log',
      'vol/billing/api/server.log.1',
      'vol/billing/api/server.log-20240101.gz',
      'hostpath/web_front_uid-2/nginx/extra/access.log',
    ];
    for (const f of files) {
      mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      writeFileSync(path.join(dir, f), 'x\n');
    }
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('lists live files and rotations under the pods root, with metadata, and skips .tmp and strangers', async () => {
    const d = await discoverPodLogs(path.join(dir, 'pods'));
    const got = d.files.map((f) => [path.relative(dir, f.path), f.live, f.compressed, f.meta.restart]).sort();
    expect(got).toEqual([
      ['pods/shop_cart_uid-1/app/0.log', true, false, 0],
      ['pods/shop_cart_uid-1/app/0.log.20231231-000000.gz', false, true, 0],
      ['pods/shop_cart_uid-1/app/0.log.20240101-000000', false, false, 0],
      ['pods/shop_cart_uid-1/app/1.log', true, false, 1],
    ]);
    expect(d.files[0]!.meta).toMatchObject({ namespace: 'shop', pod: 'cart', podUid: 'uid-1', container: 'app' });
    expect(d.files.every((f) => f.scope === undefined)).toBe(true);
    expect(d.dirs).toContain(path.join(dir, 'pods/shop_cart_uid-1/app'));
    expect(d.complete).toBe(true);
    expect(await discoverPodLogs(path.join(dir, 'missing'))).toEqual({ files: [], dirs: [path.join(dir, 'missing')], complete: false });
  });

  it('extra globs: rotated names are read once, not followed; metadata from pod dirs or the <ns>/<pod>/<file> convention', async () => {
    const d = await discoverGlobFiles([compileGlob(`${dir}/vol/*/*/server.log*`), compileGlob(`${dir}/hostpath/**/*.log`)]);
    const got = d.files.map((f) => [path.relative(dir, f.path), f.live, f.compressed, f.meta.namespace, f.meta.pod, f.meta.podUid, f.meta.container]).sort();
    expect(got).toEqual([
      ['hostpath/web_front_uid-2/nginx/extra/access.log', true, false, 'web', 'front', 'uid-2', 'nginx'],
      ['vol/billing/api/server.log', true, false, 'billing', 'api', '', 'server'],
      ['vol/billing/api/server.log-20240101.gz', false, true, 'billing', 'api', '', 'server'],
      ['vol/billing/api/server.log.1', false, false, 'billing', 'api', '', 'server'],
    ]);
    // A file and its rotations share one fingerprint scope.
    expect(new Set(d.files.filter((f) => f.path.includes('/vol/')).map((f) => f.scope))).toEqual(new Set([path.join(dir, 'vol/billing/api/server.log')]));
  });

  it('path metadata never throws and keeps a rotated name in its family', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: fc.constantFrom('a', '_', '.', '-', '1', '/', 'log', 'gz', ' ') , maxLength: 12 }), { maxLength: 6 }), (parts) => {
        const p = `/${parts.join('/')}`;
        const meta = metaFromExtraPath(p);
        for (const v of [meta.namespace, meta.pod, meta.podUid, meta.container]) expect(typeof v).toBe('string');
        expect(Number.isInteger(meta.restart)).toBe(true);
        const fam = rotationFamily(p);
        expect(rotationFamily(`${fam}.1`)).toBe(fam);
        expect(rotationFamily(`${fam}-20240101.gz`)).toBe(fam);
      }),
    );
  });
});
