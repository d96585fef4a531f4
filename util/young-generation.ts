/**
 * A fixed size for V8's young generation in the long-running server.
 *
 * V8 doubles the young generation (two semi-spaces) whenever many objects survive a scavenge, up
 * to 32 MiB, and keeps it there. The size is a trade between the two workloads. Ingest allocates
 * little per sample and almost none of it survives, so 4 MiB serves it (`bench:ingest`: RSS
 * ~25 MiB below 32 MiB, CPU within 3 %). Queries keep their intermediates (decode buffers,
 * group tables, result arrays) alive for tens of milliseconds, and a small generation copies
 * them on every scavenge: over `bench/promql-local.ts`'s query set, scavenges took 92 ms a pass
 * at 4 MiB, 47 ms at 16 MiB and 40 ms at 32 MiB. 16 MiB keeps most of the query gain for about
 * half the memory of 32 MiB.
 *
 * The maximum can only be set on the command line, which `vigil` does not control; the growth
 * factor, however, is read at every resize. So at start-up the generation is grown to the target
 * once (by keeping a few MiB alive across a scavenge) and growth is then switched off; an
 * observer switches it back on should V8 shrink the generation below the target when idle.
 */
import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';
import v8 from 'node:v8';

/** Young generation size (both semi-spaces) the server runs with. */
export const YOUNG_GENERATION_BYTES = 16 * 1024 * 1024;

let factor = 2;

function newSpaceBytes(): number {
  for (const s of v8.getHeapSpaceStatistics()) if (s.space_name === 'new_space') return s.space_size;
  return 0;
}

function setFactor(f: number): void {
  if (f === factor) return;
  factor = f;
  v8.setFlagsFromString(`--semi-space-growth-factor=${f}`);
}

/** Below the target: a factor reaching it in one resize (the observer hears of GCs late). */
function adjust(limitBytes: number): void {
  const size = newSpaceBytes();
  setFactor(size === 0 || size >= limitBytes ? 1 : Math.max(2, 2 ** Math.round(Math.log2(limitBytes / size))));
}

/**
 * Grows the young generation to `limitBytes` (a power of two) and keeps it there. Returns a
 * function that stops the observer (tests).
 */
export function fixYoungGeneration(limitBytes: number = YOUNG_GENERATION_BYTES): () => void {
  adjust(limitBytes);
  // Survivors of a scavenge beyond the current capacity make V8 grow it: keep arrays alive until
  // it has (bounded, in case this V8 sizes its heap differently).
  const keep: number[][] = [];
  for (let i = 0; i < 8192 && factor > 1; i++) {
    keep.push(new Array<number>(512).fill(i));
    if (i % 64 === 63) adjust(limitBytes);
  }
  keep.length = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR || kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        adjust(limitBytes);
        return;
      }
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  return () => obs.disconnect();
}
