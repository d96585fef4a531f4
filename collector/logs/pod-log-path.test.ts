import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePodLogPath } from './pod-log-path.js';

describe('parsePodLogPath', () => {
  it('reads namespace, pod, UID, container and restart count from a live log', () => {
    expect(parsePodLogPath('/var/log/pods/kube-system_coredns-5d78c9869d-8x2kq_0b6f7a2e-3c1d-4e5f-9a8b-7c6d5e4f3a2b/coredns/3.log')).toEqual({
      namespace: 'kube-system',
      pod: 'coredns-5d78c9869d-8x2kq',
      podUid: '0b6f7a2e-3c1d-4e5f-9a8b-7c6d5e4f3a2b',
      container: 'coredns',
      restart: 3,
      rotated: false,
      compressed: false,
    });
  });

  it('recognises kubelet rotations, plain and gzipped', () => {
    const dir = '/var/log/pods/shop_api-0_uid-1/api';
    expect(parsePodLogPath(`${dir}/0.log.20240131-235959`)).toMatchObject({ restart: 0, rotated: true, compressed: false });
    expect(parsePodLogPath(`${dir}/12.log.20240131-235959.gz`)).toMatchObject({ restart: 12, rotated: true, compressed: true });
  });

  it('accepts any root, and a static pod whose directory carries the config hash', () => {
    expect(parsePodLogPath('/host/logs/kube-system_etcd-node-1_6f1a0e2b7c3d4e5f6a7b8c9d0e1f2a3b/etcd/0.log')).toMatchObject({
      namespace: 'kube-system',
      pod: 'etcd-node-1',
      podUid: '6f1a0e2b7c3d4e5f6a7b8c9d0e1f2a3b',
      container: 'etcd',
    });
    expect(parsePodLogPath('ns_pod_uid/c/1.log')).toMatchObject({ namespace: 'ns', pod: 'pod', podUid: 'uid', container: 'c', restart: 1 });
  });

  it.each([
    ['a flat /var/log/containers symlink', '/var/log/containers/api-0_shop_api-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.log'],
    ['kubelet’s temporary file during compression', '/var/log/pods/shop_api-0_uid-1/api/0.log.20240131-235959.tmp'],
    ['a malformed rotation stamp', '/var/log/pods/shop_api-0_uid-1/api/0.log.2024-01-31'],
    ['a non-numeric restart count', '/var/log/pods/shop_api-0_uid-1/api/x.log'],
    ['a negative restart count', '/var/log/pods/shop_api-0_uid-1/api/-1.log'],
    ['a directory with two parts', '/var/log/pods/shop_api-0/api/0.log'],
    ['a directory with four parts', '/var/log/pods/shop_api_0_uid/api/0.log'],
    ['an empty namespace', '/var/log/pods/_api-0_uid/api/0.log'],
    ['an empty container', '/var/log/pods/shop_api-0_uid//0.log'],
    ['another extension', '/var/log/pods/shop_api-0_uid-1/api/0.txt'],
    ['a gzipped live log', '/var/log/pods/shop_api-0_uid-1/api/0.log.gz'],
    ['too few segments', 'api/0.log'],
    ['no directory', '0.log'],
    ['the empty string', ''],
  ])('rejects %s', (_what, path) => {
    expect(parsePodLogPath(path)).toBeUndefined();
  });

  it('round-trips every path it builds the kubelet way, and never throws on others', () => {
    const name = fc.stringMatching(/^[a-z0-9]([-a-z0-9.]{0,20}[a-z0-9])?$/);
    fc.assert(
      fc.property(name, name, fc.uuid(), name, fc.nat(), fc.option(fc.boolean(), { nil: undefined }), (ns, pod, uid, container, restart, rotation) => {
        const suffix = rotation === undefined ? '' : `.20250102-030405${rotation ? '.gz' : ''}`;
        const meta = parsePodLogPath(`/var/log/pods/${ns}_${pod}_${uid}/${container}/${restart}.log${suffix}`);
        expect(meta).toEqual({ namespace: ns, pod, podUid: uid, container, restart, rotated: rotation !== undefined, compressed: rotation === true });
      }),
    );
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('/', '_', '.', 'a', '0', 'log', 'gz', '-', ' ') }), (path) => {
        const meta = parsePodLogPath(path);
        if (meta !== undefined) expect(path.includes(`${meta.namespace}_${meta.pod}_${meta.podUid}/${meta.container}/${meta.restart}.log`)).toBe(true);
      }),
    );
  });
});
