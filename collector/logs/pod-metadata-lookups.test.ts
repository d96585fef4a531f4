import { describe, expect, it } from 'vitest';
import type { PodMetadata, PodMetadataProvider } from './pod-metadata.js';
import { PodMetadataLookups } from './pod-metadata-lookups.js';

/** A provider whose answers the test hands out one by one. */
class ManualProvider implements PodMetadataProvider {
  readonly calls: Array<{ uid: string; resolve: (m: PodMetadata | undefined) => void; reject: (e: Error) => void }> = [];
  get(_ns: string, _pod: string, uid: string): Promise<PodMetadata | undefined> {
    return new Promise((resolve, reject) => this.calls.push({ uid, resolve, reject }));
  }
}

const flush = () => new Promise((r) => setImmediate(r));

describe('PodMetadataLookups', () => {
  it('answers at once from the last answer, is pending only for an unanswered pod, and for at most waitMs', async () => {
    let now = 1000;
    let firstAnswers = 0;
    const provider = new ManualProvider();
    const lookups = new PodMetadataLookups(provider, { waitMs: 500, refreshMs: 100, onFirstAnswer: () => firstAnswers++, now: () => now });
    expect(lookups.lookup('ns', 'a', 'ua')).toEqual({ state: 'pending' });
    expect(lookups.lookup('ns', 'a', 'ua')).toEqual({ state: 'pending' });
    expect(provider.calls.length).toBe(1); // one request in flight per pod
    const meta = { labels: { app: 'a' }, annotations: {} };
    provider.calls[0]!.resolve(meta);
    await flush();
    expect(firstAnswers).toBe(1);
    expect(lookups.lookup('ns', 'a', 'ua')).toEqual({ state: 'ready', meta });

    // A hung provider: the known pod keeps its answer, a new pod waits waitMs, then goes without.
    now += 200;
    expect(lookups.lookup('ns', 'a', 'ua')).toEqual({ state: 'ready', meta });
    expect(provider.calls.length).toBe(2); // refreshed in the background
    expect(lookups.lookup('ns', 'b', 'ub')).toEqual({ state: 'pending' });
    now += 499;
    expect(lookups.lookup('ns', 'b', 'ub')).toEqual({ state: 'pending' });
    now += 1;
    expect(lookups.lookup('ns', 'b', 'ub')).toEqual({ state: 'ready', meta: undefined });

    // A failed refresh keeps the previous answer.
    provider.calls[1]!.reject(new Error('kubelet down'));
    await flush();
    expect(lookups.lookup('ns', 'a', 'ua')).toEqual({ state: 'ready', meta });
  });

  it('forgets pods not asked about for a while', () => {
    let now = 0;
    const lookups = new PodMetadataLookups({ get: async () => undefined }, { waitMs: 0, refreshMs: 0, onFirstAnswer: () => undefined, now: () => now });
    lookups.lookup('ns', 'a', 'ua');
    now = 100;
    lookups.lookup('ns', 'b', 'ub');
    return flush().then(() => {
      lookups.prune(50);
      expect(lookups.size).toBe(1);
    });
  });
});
