/**
 * How far V8 lets the old generation grow past its live size before the next full GC.
 *
 * On a machine with plenty of memory V8 picks the factor per GC between 1.1 and 4 from how cheap
 * marking looks next to the program's work, so the same ingest ended anywhere from 57 to 77 MiB of
 * old space over ~50 MiB live (`bench:ingest`, 14.8k series). A fixed 1.3 — the lower bound V8
 * itself uses on small-memory devices — kept it at 55-57 MiB (RSS 13-19 MiB lower) for ~8 % more ingest CPU, still far
 * below Prometheus's. Set at start-up through the flag V8 reads at every limit computation.
 */
import v8 from 'node:v8';

/** Old generation limit after a full GC: live size × (1 + this / 100). */
export const OLD_GENERATION_GROWTH_PERCENT = 30;

export function limitOldGenerationGrowth(percent: number = OLD_GENERATION_GROWTH_PERCENT): void {
  v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}
