/**
 * The collector's non-blocking view of a `PodMetadataProvider`.
 *
 * The collector's single loop must never wait on the kubelet: a slow or hung pod list would stop
 * reading every file on the node. Lookups run in the background; the loop asks `lookup` and gets
 * the last answer at once. Only a pod never answered for yet is `pending`, so that its files are
 * not read before its exclusion annotations are known, and that for at most `waitMs`: after
 * that its files are read without metadata (metadata is an extra, never a gate).
 */
import type { PodMetadata, PodMetadataProvider } from './pod-metadata.js';

export type Lookup = { readonly state: 'ready'; readonly meta: PodMetadata | undefined } | { readonly state: 'pending' };

interface Entry {
  meta: PodMetadata | undefined;
  answered: boolean;
  inflight: boolean;
  /** When the first lookup started. */
  readonly sinceMs: number;
  lastAskedMs: number;
  lastUsedMs: number;
}

export interface PodMetadataLookupsOptions {
  /** How long a pod without any answer yet holds its files back. */
  readonly waitMs: number;
  /** How often a known pod is asked again (the provider has its own cache). */
  readonly refreshMs: number;
  /** Called when a pod gets its first answer, so the caller can look at its files again. */
  readonly onFirstAnswer: () => void;
  readonly now?: () => number;
}

export class PodMetadataLookups {
  readonly #provider: PodMetadataProvider;
  readonly #opts: PodMetadataLookupsOptions;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();

  constructor(provider: PodMetadataProvider, opts: PodMetadataLookupsOptions) {
    this.#provider = provider;
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
  }

  lookup(namespace: string, pod: string, podUid: string): Lookup {
    const now = this.#now();
    const key = `${namespace}\u0000${pod}\u0000${podUid}`;
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = { meta: undefined, answered: false, inflight: false, sinceMs: now, lastAskedMs: -Infinity, lastUsedMs: now };
      this.#entries.set(key, entry);
    }
    entry.lastUsedMs = now;
    if (!entry.inflight && now - entry.lastAskedMs >= this.#opts.refreshMs) this.#ask(entry, namespace, pod, podUid, now);
    if (entry.answered || now - entry.sinceMs >= this.#opts.waitMs) return { state: 'ready', meta: entry.meta };
    return { state: 'pending' };
  }

  /** Forgets pods not looked up since `cutoffMs`. */
  prune(cutoffMs: number): void {
    for (const [key, e] of this.#entries) if (e.lastUsedMs < cutoffMs && !e.inflight) this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }

  #ask(entry: Entry, namespace: string, pod: string, podUid: string, now: number): void {
    entry.inflight = true;
    entry.lastAskedMs = now;
    const settle = (meta: PodMetadata | undefined, ok: boolean) => {
      entry.inflight = false;
      // A failed lookup keeps the previous answer; the first failure still ends the wait.
      if (ok) entry.meta = meta;
      const first = !entry.answered;
      entry.answered = true;
      if (first) this.#opts.onFirstAnswer();
    };
    let result: Promise<PodMetadata | undefined>;
    try {
      result = this.#provider.get(namespace, pod, podUid);
    } catch {
      settle(undefined, false);
      return;
    }
    result.then(
      (meta) => settle(meta, true),
      () => settle(undefined, false),
    );
  }
}
