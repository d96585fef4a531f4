/**
 * `npm run bench:parse`: the exposition-parse figure of `bench:ingest` alone, without starting
 * any system. BENCH_PARSE_SECONDS sets the length of each run (default 3).
 */
import { formatParseThroughput, parseThroughput } from './parse-throughput.js';

console.log(formatParseThroughput(parseThroughput(Number(process.env.BENCH_PARSE_SECONDS ?? 3))));
