import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { logRecordId, type LogRecord, type LogStreamName } from '../../model/logs.js';
import { criLine, dockerLine, T0, TEST_SOURCE } from './assembler-fixtures.js';
import { createRecordAssembler, type AssemblerOptions, type RecordAssembler } from './record-assembler.js';

interface FedLine {
  readonly text: string;
  readonly offset: number;
  readonly endOffset: number;
  /** The stream the line's content belongs to (stdout for lines in neither format). */
  readonly stream: LogStreamName;
}

/** Lines laid out in a file from `start`, each followed by '\n'. */
function layout(lines: ReadonlyArray<{ text: string; stream: LogStreamName }>, start = 0): FedLine[] {
  let offset = start;
  return lines.map(({ text, stream }) => {
    const endOffset = offset + Buffer.byteLength(text) + 1;
    const line = { text, stream, offset, endOffset };
    offset = endOffset;
    return line;
  });
}

/** Cuts `s` at the given fractions of its length, never inside a surrogate pair. */
function cutAt(s: string, fractions: readonly number[]): string[] {
  const points = [...new Set(fractions.map((f) => Math.floor(f * s.length)))].sort((a, b) => a - b).filter((p) => p > 0 && p < s.length && !isLowSurrogate(s.charCodeAt(p)));
  const parts: string[] = [];
  let from = 0;
  for (const p of points) {
    parts.push(s.slice(from, p));
    from = p;
  }
  parts.push(s.slice(from));
  return parts;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/** Lines of content: anything but a newline. */
const content = fc.string({ unit: fc.oneof({ weight: 5, arbitrary: fc.constantFrom('a', 'b', ' ', '{', '"', '\t', 'é', '😀') }, { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) }), maxLength: 60 }).map((s) => s.replaceAll('\n', ' '));

describe('record assembly properties', () => {
  it('(1) reassembles lines split into any P fragments, interleaved across streams, with their first fragment’s offset and time', () => {
    const streamLines = fc.array(fc.tuple(content, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 })), { maxLength: 8 });
    fc.assert(
      fc.property(streamLines, streamLines, fc.array(fc.boolean(), { maxLength: 80 }), (outLines, errLines, interleave) => {
        // Each stream's fragments in order; the two sequences merged by `interleave`.
        const fragments = (stream: LogStreamName, lines: typeof outLines) =>
          lines.flatMap(([text, cuts], line) => cutAt(text, cuts).map((part, i, all) => ({ stream, line, tag: i === all.length - 1 ? 'F' : 'P', part })));
        const queues = [fragments('stdout', outLines), fragments('stderr', errLines)];
        const merged: Array<(typeof queues)[number][number]> = [];
        let k = 0;
        while (queues[0]!.length > 0 || queues[1]!.length > 0) {
          const pick = queues[0]!.length === 0 ? 1 : queues[1]!.length === 0 ? 0 : interleave[k++ % Math.max(1, interleave.length)] ? 1 : 0;
          merged.push(queues[pick]!.shift()!);
        }
        const texts = merged.map((m, i) => ({ text: criLine(T0 + BigInt(i), m.stream, m.tag, m.part), stream: m.stream }));
        const lines = layout(texts);
        const assembler = createRecordAssembler(TEST_SOURCE, { multiline: false });
        const records = lines.flatMap((l) => assembler.push(l.text, l.offset, l.endOffset, 0));
        expect(assembler.pendingFrom()).toBeUndefined();
        expect(assembler.flushAll()).toEqual([]);
        for (const [stream, original] of [['stdout', outLines], ['stderr', errLines]] as const) {
          // In file order: a record that holds the start of the other stream's unfinished record
          // is handed out after it, and that one may in turn wait for a later record of the first
          // stream (see `#release`), so hand-out order within a stream is not guaranteed.
          const got = records.filter((r) => r.stream === stream).sort((a, b) => a.offset - b.offset);
          expect(got.map((r) => r.message)).toEqual(original.map(([text]) => text));
          for (const [i, r] of got.entries()) {
            const mine = merged.map((m, j) => ({ ...m, j })).filter((m) => m.stream === stream && m.line === i);
            const first = lines[mine[0]!.j]!;
            const last = lines[mine[mine.length - 1]!.j]!;
            expect(r.offset).toBe(first.offset);
            expect(r.endOffset).toBe(last.endOffset);
            expect(r.timeNs).toBe(T0 + BigInt(mine[0]!.j));
            expect(r.id).toBe(logRecordId(TEST_SOURCE.node, TEST_SOURCE.fileKey, r.offset));
          }
        }
      }),
      { numRuns: 400 },
    );
  });

  it('(2) never throws on garbage, and covers every line exactly once with emitted records plus pendingFrom', () => {
    const stream = fc.constantFrom<LogStreamName>('stdout', 'stderr');
    type Kind = 'cri' | 'docker' | 'garbage';
    const criLineArb = fc.tuple(stream, fc.constantFrom('F', 'P', 'F:x'), content).map(([s, tag, c]) => ({ text: criLine(T0, s, tag, c), stream: s, kind: 'cri' as Kind }));
    const dockerLineArb = fc.tuple(stream, content, fc.boolean()).map(([s, c, nl]) => ({ text: dockerLine(T0, s, nl ? `${c}\n` : c), stream: s, kind: 'docker' as Kind }));
    const garbage = fc.oneof(content, fc.string({ unit: 'binary', maxLength: 40 }).map((s) => s.replaceAll('\n', ''))).map((text) => ({ text, stream: 'stdout' as LogStreamName, kind: 'garbage' as Kind }));
    const trace = fc.constantFrom('ERROR boom', '\tat a.B.c(B.java:1)', 'Caused by: x', 'panic: oops', '', 'goroutine 1 [running]:', 'Traceback (most recent call last):', '  File "x.py"', 'ValueError: v', '{"level":"warn"}', 'java.lang.IllegalStateException: s');
    const traceLine = fc.tuple(stream, trace).map(([s, t]) => ({ text: criLine(T0, s, 'F', t), stream: s, kind: 'cri' as Kind }));
    const options = fc.record({
      maxRecordBytes: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 9, max: 300 }), fc.constant(1024 * 1024)),
      multiline: fc.constantFrom<AssemblerOptions['multiline']>('auto', false, { firstLine: '^[A-Z]' }),
      multilineFlushMs: fc.constantFrom(0, 5, 1000),
      parseJson: fc.boolean(),
    });
    const step = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.boolean());
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.oneof(criLineArb, dockerLineArb, garbage, traceLine), step), { maxLength: 40 }),
        options,
        fc.integer({ min: 0, max: 1000 }),
        (input, opts, start) => {
          // The first parseable line decides the format; lines of the other format are garbage, on stdout.
          const format = input.find(([l]) => l.kind !== 'garbage')?.[0].kind;
          const lines = layout(input.map(([l]) => ({ text: l.text, stream: l.kind === format ? l.stream : 'stdout' })), start);
          const assembler = createRecordAssembler(TEST_SOURCE, opts);
          const emitted: LogRecord[] = [];
          let now = 0;
          for (const [i, line] of lines.entries()) {
            const [advance, flush] = input[i]![1];
            now += advance;
            emitted.push(...assembler.push(line.text, line.offset, line.endOffset, now));
            if (flush) emitted.push(...assembler.flushDue(now));
            checkCoverage(lines.slice(0, i + 1), emitted, assembler, opts.maxRecordBytes!, false);
          }
          emitted.push(...assembler.flushAll());
          checkCoverage(lines, emitted, assembler, opts.maxRecordBytes!, true);
        },
      ),
      { numRuns: 600 },
    );
  });

  it('(3) a restart from the checkpoint stores every record exactly once', () => {
    const stream = fc.constantFrom<LogStreamName>('stdout', 'stderr');
    const text = fc.constantFrom('ERROR boom', 'INFO ok', '\tat a.B.c(B.java:1)', '\t... 3 more', 'Caused by: x', 'panic: oops', '', 'goroutine 1 [running]:', 'main.main()', 'Traceback (most recent call last):', '  File "x.py", line 1', 'ValueError: v', '{"level":"warn","n":1}', 'java.lang.IllegalStateException: s', 'WARN w');
    const line = fc.tuple(stream, fc.constantFrom('F', 'F', 'F', 'P'), text);
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 40 }), fc.nat(), fc.nat(), (input, atLine, ackCount) => {
        const lines = layout(input.map(([s, tag, t], i) => ({ text: criLine(T0 + BigInt(i), s, tag, t), stream: s })));
        const make = (): RecordAssembler => createRecordAssembler(TEST_SOURCE, { multilineFlushMs: 1e9 });
        // First run: read up to `stop` lines, the sink acknowledges the first `acked` records.
        const first = make();
        const emitted: Array<{ record: LogRecord; resumeAt: number }> = [];
        const stop = atLine % (lines.length + 1);
        for (const l of lines.slice(0, stop)) {
          for (const record of first.push(l.text, l.offset, l.endOffset, 0)) {
            // As the tailer does: a piece inside a line resumes at the line's start.
            emitted.push({ record, resumeAt: record.offset > l.offset && record.offset < l.endOffset ? l.offset : record.offset });
          }
        }
        const acked = emitted.slice(0, ackCount % (emitted.length + 1));
        const unacked = emitted.slice(acked.length);
        const readPosition = stop === 0 ? 0 : lines[stop - 1]!.endOffset;
        const checkpoint = Math.min(first.pendingFrom() ?? Infinity, ...unacked.map((e) => e.resumeAt), readPosition);
        expect(lines.some((l) => l.offset === checkpoint) || checkpoint === readPosition).toBe(true);
        // The reference: everything read in one go.
        const all = make();
        const reference = [...lines.flatMap((l) => all.push(l.text, l.offset, l.endOffset, 0)), ...all.flushAll()];
        // Restart at the checkpoint; the store keeps the first record per id.
        const second = make();
        const replayed = [...lines.filter((l) => l.offset >= checkpoint).flatMap((l) => second.push(l.text, l.offset, l.endOffset, 0)), ...second.flushAll()];
        const stored = new Map<string, LogRecord>();
        for (const r of [...acked.map((e) => e.record), ...replayed]) if (!stored.has(r.id)) stored.set(r.id, r);
        expect([...stored.values()].sort((a, b) => a.offset - b.offset)).toEqual([...reference].sort((a, b) => a.offset - b.offset));
      }),
      { numRuns: 1500 },
    );
  });
});

/**
 * Every line (by the stream its content belongs to) is inside exactly one emitted record or at
 * or after pendingFrom, and pendingFrom is the first line not in an emitted record. A line cut
 * into pieces is in all of its pieces, which lie inside it.
 */
function checkCoverage(lines: readonly FedLine[], records: readonly LogRecord[], assembler: RecordAssembler, maxBytes: number, final: boolean): void {
  const ids = new Set<string>();
  const covering = new Map<number, LogRecord[]>();
  for (const r of records) {
    expect(ids.has(r.id)).toBe(false);
    ids.add(r.id);
    expect(r.id).toBe(logRecordId(TEST_SOURCE.node, TEST_SOURCE.fileKey, r.offset));
    expect(r.offset).toBeLessThan(r.endOffset);
    const size = Buffer.byteLength(r.message);
    if (size > maxBytes) expect([...r.message]).toHaveLength(1);
    const firstLine = lines.findIndex((l) => l.offset <= r.offset && r.offset < l.endOffset);
    expect(firstLine).toBeGreaterThanOrEqual(0);
    const inside = lines.filter((l, i) => i >= firstLine && l.offset < r.endOffset && l.stream === r.stream);
    expect(inside[0]).toBe(lines[firstLine]);
    if (lines[firstLine]!.offset !== r.offset) expect(inside).toHaveLength(1);
    else expect(inside[inside.length - 1]!.endOffset === r.endOffset || inside.length === 1).toBe(true);
    for (const l of inside) covering.set(l.offset, [...(covering.get(l.offset) ?? []), r]);
  }
  for (const [, rs] of covering) {
    // Several records over one line only as its pieces.
    if (rs.length > 1) expect(new Set(rs.map((r) => lines.find((l) => l.offset <= r.offset && r.offset < l.endOffset)))).toHaveProperty('size', 1);
  }
  const uncovered = lines.filter((l) => !covering.has(l.offset));
  if (final) expect(uncovered).toEqual([]);
  expect(assembler.pendingFrom()).toBe(uncovered.length === 0 ? undefined : uncovered[0]!.offset);
}
