/**
 * `npm run bench:logsearch`: log search latency of the embedded store against grep, in one run.
 *
 * BENCH_LOGSEARCH_LINES (default 10M) runtime lines of a day from ~200 pods (see
 * logsearch-dataset.ts) are written as CRI files under a `/var/log/pods`-style root and, through
 * the collector's record assembler, into `SqliteLogStore`. Then six questions a developer asks
 * are answered twice:
 *
 * - by Vigil, the way the API answers them: LogQL text → parse → plan (scoped to the namespace,
 *   as for a developer who may read only it) → `LogStore.search`/`context`/`volume` → the
 *   residual pipeline, paging until the page of 100 lines is full; 1 warm-up run, then 20 timed;
 * - by GNU grep (`LC_ALL=C`) over the same pods' raw files, with the page cache warm (which
 *   favours grep); 1 warm-up, then 5 timed runs, median.
 *
 * Each pair is checked to give the same answer (counts, or content for context, or every volume
 * bucket), untimed. Targets (issue 6): selective queries p50 ≤ 50 ms and ≥ 10× faster than grep;
 * no query slower than grep.
 *
 * BENCH_TMPDIR: where the dataset goes (default the OS temp dir). BENCH_LOGSEARCH_KEEP=1 keeps it
 * and prints its path; BENCH_LOGSEARCH_REUSE=<that path> runs the queries on it again.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseTimeNs, type LogRecord } from '../model/logs.js';
import type { StoredLogRecord } from '../storage/logs/interface.js';
import { parseLogQuery, planLogQuery, restrictPlan, type LogQueryPlan, type PipelineResult } from '../storage/logs/logql/index.js';
import { SqliteLogStore } from '../storage/logs/sqlite/index.js';
import { RARE_TERM, RARE_TERM_HITS, RARE_TERM_NAMESPACE, writeDataset, type BenchPod } from './logsearch-dataset.js';
import { dirBytes, formatBytes, printTable } from './proc.js';

const LINES = Number(process.env.BENCH_LOGSEARCH_LINES ?? 10_000_000);
const KEEP = process.env.BENCH_LOGSEARCH_KEEP === '1';
const REUSE = process.env.BENCH_LOGSEARCH_REUSE;
const VIGIL_RUNS = 20;
const GREP_RUNS = 5;
/** Lines per search response; Grafana asks for 1000 by default, a terminal user wants a screenful. */
const LIMIT = 100;
/** Store page size while the residual pipeline drops records: fewer round trips than LIMIT. */
const PIPELINE_PAGE = 1000;
const CONTEXT_LINES = 50;
const T0 = parseTimeNs('2025-03-10T00:00:00Z');
const DAY_NS = 86_400_000_000_000n;
const MINUTE_NS = 60_000_000_000n;
const DAY = { startNs: T0, endNs: T0 + DAY_NS };

interface Manifest {
  readonly pods: readonly BenchPod[];
  readonly lines: number;
  readonly records: number;
  readonly rawBytes: number;
  readonly generateSeconds: number;
  readonly appendSeconds: number;
}

/** A log query's lines, as the API's search answers it: store pages through the pipeline. */
async function searchLogql(
  store: SqliteLogStore,
  query: string,
  range: { startNs: bigint; endNs: bigint },
  scope: readonly string[],
  limit: number,
  direction: 'backward' | 'forward' = 'backward',
): Promise<Array<{ record: StoredLogRecord; result: PipelineResult }>> {
  const plan: LogQueryPlan = restrictPlan(planLogQuery(parseLogQuery(query), range), scope);
  if (plan.selection === undefined) return [];
  const out: Array<{ record: StoredLogRecord; result: PipelineResult }> = [];
  let cursor: string | undefined;
  do {
    const want = plan.pipeline.isEmpty ? Math.min(limit - out.length, 5000) : PIPELINE_PAGE;
    const page = await store.search({ ...plan.selection, direction, limit: want, ...(cursor !== undefined && { cursor }) });
    for (const record of page.records) {
      const result = plan.pipeline.process(record);
      if (result === undefined) continue;
      out.push({ record, result });
      if (out.length >= limit) return out;
    }
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return out;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

async function timeVigil(run: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  await run();
  const ms: number[] = [];
  for (let i = 0; i < VIGIL_RUNS; i++) {
    const t0 = performance.now();
    await run();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { p50: quantile(ms, 0.5), p99: quantile(ms, 0.99) };
}

/** Runs a shell pipeline in the pods root; its standard output. */
function shell(root: string, command: string): string {
  const res = spawnSync('bash', ['-c', `set -o pipefail; ${command}`], {
    cwd: root,
    env: { ...process.env, LC_ALL: 'C' },
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  // grep exits 1 when nothing matched: an answer, not a failure.
  if (res.status !== 0 && res.status !== 1) throw new Error(`${command}: exit ${res.status}: ${res.stderr}`);
  return res.stdout;
}

function timeGrep(root: string, command: string): { median: number; out: string } {
  let out = shell(root, command);
  const ms: number[] = [];
  for (let i = 0; i < GREP_RUNS; i++) {
    const t0 = performance.now();
    out = shell(root, command);
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return { median: quantile(ms, 0.5), out };
}

/** Single-quoted for bash. */
function sq(s: string): string {
  return `'${s.replaceAll("'", "'\\''")}'`;
}

async function buildDataset(work: string): Promise<Manifest> {
  const root = path.join(work, 'pods');
  const store = new SqliteLogStore({ dir: path.join(work, 'store') });
  let appendMs = 0;
  let stored = 0;
  console.log(`writing ${LINES.toLocaleString('en')} lines to ${work} …`);
  const ds = await writeDataset({
    root,
    lines: LINES,
    startNs: T0,
    onBatch: async (batch: LogRecord[]) => {
      const t0 = performance.now();
      const res = await store.append(batch);
      appendMs += performance.now() - t0;
      if (res.rejected.length > 0 || res.duplicates > 0) throw new Error(`store refused records: ${JSON.stringify(res).slice(0, 300)}`);
      stored += res.stored;
    },
  });
  const t0 = performance.now();
  await store.close(); // checkpoints the WAL into the day file
  appendMs += performance.now() - t0;
  if (stored !== ds.records) throw new Error(`stored ${stored} of ${ds.records} records`);
  const manifest: Manifest = { ...ds, appendSeconds: appendMs / 1000 };
  writeFileSync(path.join(work, 'manifest.json'), JSON.stringify(manifest));
  return manifest;
}

interface QueryRow {
  readonly name: string;
  readonly selective: boolean;
  readonly p50: number;
  readonly p99: number;
  readonly grepMs: number;
  readonly check: string;
  readonly ok: boolean;
}

async function main(): Promise<void> {
  const work = REUSE ?? mkdtempSync(path.join(process.env.BENCH_TMPDIR ?? tmpdir(), 'vigil-bench-logsearch-'));
  try {
    const m: Manifest =
      REUSE !== undefined && existsSync(path.join(REUSE, 'manifest.json'))
        ? (JSON.parse(readFileSync(path.join(REUSE, 'manifest.json'), 'utf8')) as Manifest)
        : await buildDataset(work);
    const root = path.join(work, 'pods');
    const storeBytes = dirBytes(path.join(work, 'store'));
    printTable(
      ['dataset', 'value'],
      [
        ['runtime lines (CRI lines in files)', m.lines.toLocaleString('en')],
        ['records (stack traces joined)', m.records.toLocaleString('en')],
        ['pods / namespaces', `${m.pods.length} / ${new Set(m.pods.map((p) => p.namespace)).size}`],
        ['generate + write files + assemble records', `${m.generateSeconds.toFixed(1)} s`],
        ['SqliteLogStore.append (batches of 2000) + close', `${m.appendSeconds.toFixed(1)} s, ${Math.round(m.records / m.appendSeconds).toLocaleString('en')} records/s`],
        ['raw CRI files', formatBytes(m.rawBytes)],
        ['store on disk', `${formatBytes(storeBytes)} (${(storeBytes / m.rawBytes).toFixed(2)}× raw)`],
      ],
    );

    // Read the files once so grep runs warm, as the store's pages are after ingest.
    shell(root, 'cat */*/*.log > /dev/null');
    const store = new SqliteLogStore({ dir: path.join(work, 'store'), readonly: true });
    const rows: QueryRow[] = [];
    const commands: string[] = [];
    const ns = (name: string) => m.pods.filter((p) => p.namespace === name);

    // 1. A pod's lines in a 15-minute window.
    {
      const pod = ns(RARE_TERM_NAMESPACE).find((p) => p.deployment === 'payment-api')!;
      const query = `{namespace="${pod.namespace}", pod="${pod.name}"}`;
      const range = { startNs: T0 + 180n * MINUTE_NS, endNs: T0 + 195n * MINUTE_NS };
      const { p50, p99 } = await timeVigil(() => searchLogql(store, query, range, [pod.namespace], LIMIT));
      const grep = `grep -hE '^2025-03-10T03:(0[0-9]|1[0-4]):' ${pod.dir}/*/*.log`;
      const g = timeGrep(root, `${grep} | wc -l`);
      const all = await searchLogql(store, query, range, [pod.namespace], Number.MAX_SAFE_INTEGER, 'forward');
      const vigilLines = all.reduce((n, x) => n + x.record.message.split('\n').length, 0);
      // Records as grep sees them: lines that do not continue a stack trace.
      const grepRecords = Number(shell(root, `${grep} | grep -cvE '^[^ ]+ [^ ]+ F ([[:space:]]|Caused by: |[a-z]+(\\.[a-z]+)*\\.[A-Z][A-Za-z]*Exception: )'`));
      const grepLines = Number(g.out.trim());
      commands.push(`1: ${grep} | wc -l`);
      rows.push({
        name: `1 pod, 15 min (${query} 03:00–03:15)`,
        selective: true,
        p50,
        p99,
        grepMs: g.median,
        check: `${all.length} records = ${vigilLines} lines; grep ${grepLines} lines, ${grepRecords} records`,
        ok: all.length === grepRecords && vigilLines === grepLines && all.length > 0,
      });
    }

    // 2. A rare term across one namespace for 24 h.
    const rareQuery = `{namespace="${RARE_TERM_NAMESPACE}"} |= "${RARE_TERM}"`;
    const rareHits = await searchLogql(store, rareQuery, DAY, [RARE_TERM_NAMESPACE], LIMIT);
    {
      const { p50, p99 } = await timeVigil(() => searchLogql(store, rareQuery, DAY, [RARE_TERM_NAMESPACE], LIMIT));
      const grep = `grep -hF ${sq(RARE_TERM)} ${RARE_TERM_NAMESPACE}_*/*/*.log`;
      const g = timeGrep(root, `${grep} | wc -l`);
      commands.push(`2: ${grep} | wc -l`);
      const grepCount = Number(g.out.trim());
      rows.push({
        name: `2 rare term, namespace, 24 h (${rareQuery})`,
        selective: true,
        p50,
        p99,
        grepMs: g.median,
        check: `${rareHits.length} records; grep ${grepCount} lines; planted ${RARE_TERM_HITS}`,
        ok: rareHits.length === grepCount && grepCount === RARE_TERM_HITS,
      });
    }

    // 3. A regex over one deployment.
    {
      const query = '{namespace="shop", pod=~"checkout-.*"} |~ `status=5\\d\\d`';
      const { p50, p99 } = await timeVigil(() => searchLogql(store, query, DAY, ['shop'], LIMIT));
      const grep = `grep -hE 'status=5[0-9][0-9]' shop_checkout-*/*/*.log`;
      const g = timeGrep(root, `${grep} | wc -l`);
      commands.push(`3: ${grep} | wc -l`);
      const all = await searchLogql(store, query, DAY, ['shop'], Number.MAX_SAFE_INTEGER, 'forward');
      const grepCount = Number(g.out.trim());
      rows.push({
        name: `3 regex, deployment, 24 h (${query})`,
        selective: false,
        p50,
        p99,
        grepMs: g.median,
        check: `${all.length} records in all; grep ${grepCount} lines`,
        ok: all.length === grepCount && grepCount > 0,
      });
    }

    // 4. A JSON field filter.
    {
      const query = '{namespace="identity"} | json | latency_ms > 800';
      const { p50, p99 } = await timeVigil(() => searchLogql(store, query, DAY, ['identity'], LIMIT));
      const grep = `grep -hE '"latency_ms":(80[1-9]|8[1-9][0-9]|9[0-9]{2}|[1-9][0-9]{3,})[,}]' identity_*/*/*.log`;
      const g = timeGrep(root, `${grep} | wc -l`);
      commands.push(`4: ${grep} | wc -l`);
      const all = await searchLogql(store, query, DAY, ['identity'], Number.MAX_SAFE_INTEGER, 'forward');
      const grepCount = Number(g.out.trim());
      rows.push({
        name: `4 JSON field, namespace, 24 h (${query})`,
        selective: false,
        p50,
        p99,
        grepMs: g.median,
        check: `${all.length} records in all; grep ${grepCount} lines`,
        ok: all.length === grepCount && grepCount > 0,
      });
    }

    // 5. Context around a hit: the rare term's line in a payment-api pod.
    {
      const hit = rareHits.find((h) => h.record.pod.startsWith('payment-api-'))!.record;
      const pod = m.pods.find((p) => p.name === hit.pod)!;
      const req = { id: hit.id, before: CONTEXT_LINES, after: CONTEXT_LINES };
      const { p50, p99 } = await timeVigil(() => store.context(req));
      const grep = `grep -C ${CONTEXT_LINES} -F ${sq(RARE_TERM)} ${pod.dir}/*/*.log`;
      const g = timeGrep(root, `${grep} | wc -l`);
      commands.push(`5: ${grep} | wc -l`);
      // The same neighbourhood from the file: as many runtime lines before and after as Vigil's
      // records hold, which must be exactly the text of those records.
      const ctx = await store.context(req);
      const linesOf = (rs: readonly StoredLogRecord[]) => rs.flatMap((r) => r.message.split('\n'));
      const before = linesOf(ctx.before);
      const anchor = linesOf([ctx.anchor!]);
      const after = linesOf(ctx.after);
      const anchorLine = anchor.findIndex((l) => l.includes(RARE_TERM));
      const fromFile = shell(
        root,
        `grep -B ${before.length + anchorLine} -A ${anchor.length - 1 - anchorLine + after.length} -F ${sq(RARE_TERM)} ${pod.dir}/*/*.log | cut -d' ' -f4-`,
      );
      const same = fromFile === [...before, ...anchor, ...after].map((l) => `${l}\n`).join('');
      rows.push({
        name: `5 context ${CONTEXT_LINES}/${CONTEXT_LINES} around a hit`,
        selective: true,
        p50,
        p99,
        grepMs: g.median,
        check: `${ctx.before.length}+1+${ctx.after.length} records = ${before.length + anchor.length + after.length} lines; same text as grep -B/-A: ${same}`,
        ok: same && ctx.before.length === CONTEXT_LINES && ctx.after.length === CONTEXT_LINES,
      });
    }

    // 6. A volume histogram: errors of a namespace over 24 h in 5-minute buckets.
    {
      const query = `{namespace="${RARE_TERM_NAMESPACE}"} | level="error"`;
      const step = 5n * MINUTE_NS;
      const plan = restrictPlan(planLogQuery(parseLogQuery(query), DAY), [RARE_TERM_NAMESPACE]);
      if (plan.selection === undefined || !plan.pipeline.isEmpty) throw new Error(`${query} is not answered by the store alone`);
      const selection = plan.selection;
      const { p50, p99 } = await timeVigil(() => store.volume(selection, step));
      const errors = `'^[^ ]+ std(out|err) F ([0-9-]+ [0-9:.]+ ERROR |\\{"level":"error"|ts=[^ ]+ level=error |E[0-9]{4} )'`;
      const awk = `awk '{ m = substr($1, 15, 2); n[substr($1, 1, 14) sprintf("%02d", m - m % 5)]++ } END { for (b in n) print b, n[b] }'`;
      const grep = `grep -hE ${errors} ${RARE_TERM_NAMESPACE}_*/*/*.log | ${awk}`;
      const g = timeGrep(root, grep);
      commands.push(`6: ${grep}`);
      const fromGrep = new Map<bigint, number>();
      for (const line of g.out.trim().split('\n')) {
        const [bucket, n] = line.split(' ');
        fromGrep.set(parseTimeNs(`${bucket}:00Z`), Number(n));
      }
      const buckets = await store.volume(selection, step);
      const equal = buckets.length === fromGrep.size && buckets.every((b) => fromGrep.get(b.startNs) === b.count);
      const total = buckets.reduce((n, b) => n + b.count, 0);
      rows.push({
        name: `6 volume, 5 min buckets, 24 h (${query})`,
        selective: false,
        p50,
        p99,
        grepMs: g.median,
        check: `${buckets.length} buckets, ${total} errors; grep ${fromGrep.size} buckets, ${[...fromGrep.values()].reduce((a, b) => a + b, 0)} errors; every bucket equal: ${equal}`,
        ok: equal && total > 0,
      });
    }
    await store.close();

    console.log('');
    printTable(
      ['query', 'Vigil p50 ms', 'p99 ms', 'grep median ms', 'grep/Vigil', 'target', 'same answer'],
      rows.map((r) => {
        const ratio = r.grepMs / r.p50;
        const target = r.selective ? r.p50 <= 50 && ratio >= 10 : ratio >= 1;
        return [r.name, r.p50.toFixed(1), r.p99.toFixed(1), r.grepMs.toFixed(1), `${ratio.toFixed(1)}×`, `${target ? 'met' : 'MISSED'} (${r.selective ? '≤50 ms, ≥10×' : '≥1×'})`, r.ok ? 'yes' : 'NO'];
      }),
    );
    console.log('');
    for (const r of rows) console.log(`check ${r.name.slice(0, 1)}: ${r.check}`);
    console.log('');
    console.log(`Vigil: ${VIGIL_RUNS} runs after 1 warm-up, p99 of 20 runs is the slowest; searches return the ${LIMIT} newest lines.`);
    console.log(`grep: GNU grep, LC_ALL=C, page cache warm (favours grep), median of ${GREP_RUNS} after 1 warm-up, in the pods root; grep prints every match (unordered across files):`);
    for (const c of commands) console.log(`  ${c}`);
    if (rows.some((r) => !r.ok)) process.exitCode = 1;
  } finally {
    if (KEEP || REUSE !== undefined) console.log(`dataset kept in ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

await main();
