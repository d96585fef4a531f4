import { describe, expect, it } from 'vitest';
import { logRecordId, parseTimeNs } from '../../model/logs.js';
import { Re2SyntaxError } from '../../model/re2.js';
import { criLine, dockerLine, FakeLogFile, T0, TEST_SOURCE } from './assembler-fixtures.js';
import { assemblerOptionsFromConfig, createRecordAssembler, type AssemblerOptions } from './record-assembler.js';

const MS = 1_000_000n;

function file(opts: AssemblerOptions = {}, startOffset = 0): FakeLogFile {
  return new FakeLogFile(createRecordAssembler(TEST_SOURCE, opts), startOffset);
}

describe('CRI partial lines', () => {
  it('joins kubelet’s P/F example across an interleaved stderr line', () => {
    const f = file();
    f.push('2016-10-06T00:17:09.669794202Z stdout P log content 1');
    f.push('2016-10-06T00:17:09.669794203Z stderr F log content 2');
    expect(f.assembler.pendingFrom()).toBe(0);
    f.push('2016-10-06T00:17:09.669794204Z stdout F  and more');
    f.flushAll();
    const [out, err] = f.records.sort((a, b) => a.offset - b.offset);
    expect(out).toMatchObject({
      stream: 'stdout',
      message: 'log content 1 and more',
      timeNs: parseTimeNs('2016-10-06T00:17:09.669794202Z'),
      offset: 0,
      endOffset: f.offset,
      id: logRecordId(TEST_SOURCE.node, TEST_SOURCE.fileKey, 0),
    });
    expect(err).toMatchObject({ stream: 'stderr', message: 'log content 2', offset: f.lines[1]!.offset, endOffset: f.lines[1]!.endOffset });
  });

  it('joins 10000 fragments into one line, as kubelet’s TestReadLogsLimitsWithTimestamps writes them', () => {
    const f = file({ multiline: false });
    const expected = Array.from({ length: 10_000 }, (_, i) => String(i)).join('');
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 10_000; i++) f.push(`2022-10-29T16:10:22.592603036-05:00 stdout P ${i}`);
      f.push('2022-10-29T16:10:22.592603036-05:00 stdout F ');
    }
    expect(f.records).toHaveLength(2);
    expect(f.records.map((r) => r.message)).toEqual([expected, expected]);
    expect(f.records[0]!.timeNs).toBe(parseTimeNs('2022-10-29T21:10:22.592603036Z'));
    expect(f.records[1]!.offset).toBe(f.records[0]!.endOffset);
  });

  it('keeps fragments of stdout and stderr apart when they interleave', () => {
    const f = file({ multiline: false });
    f.push(criLine(T0, 'stdout', 'P', 'out-1 '));
    f.push(criLine(T0 + 1n * MS, 'stderr', 'P', 'err-1 '));
    f.push(criLine(T0 + 2n * MS, 'stdout', 'P', 'out-2 '));
    f.push(criLine(T0 + 3n * MS, 'stderr', 'F', 'err-2'));
    f.push(criLine(T0 + 4n * MS, 'stdout', 'F', 'out-3'));
    expect(f.records.map((r) => [r.stream, r.message, r.timeNs - T0, r.offset, r.endOffset])).toEqual([
      ['stderr', 'err-1 err-2', 1n * MS, f.lines[1]!.offset, f.lines[3]!.endOffset],
      ['stdout', 'out-1 out-2 out-3', 0n, 0, f.lines[4]!.endOffset],
    ]);
    expect(f.assembler.pendingFrom()).toBeUndefined();
  });

  it('cuts a join longer than maxRecordBytes at a fragment boundary; the rest becomes a record', () => {
    // containerd writes 16 KiB fragments; 70 of them make a 1.1 MiB line.
    const fragment = (i: number): string => String.fromCharCode(97 + (i % 26)).repeat(16_384);
    const f = file();
    for (let i = 0; i < 70; i++) f.push(criLine(T0, 'stdout', 'P', fragment(i)));
    f.push(criLine(T0, 'stdout', 'F', 'tail'));
    f.flushAll();
    expect(f.records).toHaveLength(2);
    const [first, rest] = f.records;
    expect(Buffer.byteLength(first!.message)).toBe(1024 * 1024);
    expect(first!.offset).toBe(0);
    expect(first!.endOffset).toBe(f.lines[63]!.endOffset);
    expect(rest!.offset).toBe(f.lines[64]!.offset);
    expect(rest!.endOffset).toBe(f.offset);
    expect(first!.message + rest!.message).toBe(Array.from({ length: 70 }, (_, i) => fragment(i)).join('') + 'tail');
    expect(f.assembler.stats.splitRecords).toBe(1);
  });

  it('cuts a single line longer than maxRecordBytes into pieces at the bytes where they start', () => {
    const content = 'x'.repeat(1000) + 'é'.repeat(600) + '😀'.repeat(100);
    const f = file({ maxRecordBytes: 1024 });
    f.push(criLine(T0, 'stdout', 'F', 'before'));
    f.push(criLine(T0, 'stdout', 'F', content));
    f.push(criLine(T0, 'stdout', 'F', 'after'));
    f.flushAll();
    const line = f.lines[1]!;
    const pieces = f.records.filter((r) => r.offset >= line.offset && r.offset < line.endOffset);
    expect(pieces.map((p) => p.message).join('')).toBe(content);
    const bytes = f.bytes();
    for (const [k, p] of pieces.entries()) {
      expect(Buffer.byteLength(p.message)).toBeLessThanOrEqual(1024);
      // Each piece ends where the next begins; the last at the end of the line.
      expect(p.endOffset).toBe(k + 1 < pieces.length ? pieces[k + 1]!.offset : line.endOffset);
      expect(p.id).toBe(logRecordId(TEST_SOURCE.node, TEST_SOURCE.fileKey, p.offset));
      // Later pieces start where their text is in the file.
      if (k > 0) expect(bytes.subarray(p.offset, p.offset + Buffer.byteLength(p.message)).toString()).toBe(p.message);
    }
    expect(pieces[0]!.offset).toBe(line.offset);
    expect(new Set(f.records.map((r) => r.id)).size).toBe(f.records.length);
    expect(f.records.map((r) => r.message).filter((m) => m === 'before' || m === 'after')).toEqual(['before', 'after']);
  });
});

describe('docker json-file', () => {
  it('joins records whose log lacks the trailing newline, per stream', () => {
    const f = file({ multiline: false });
    f.push(dockerLine(T0, 'stdout', 'first part, '));
    f.push(dockerLine(T0 + MS, 'stderr', 'an error\n'));
    f.push(dockerLine(T0 + 2n * MS, 'stdout', 'second part, '));
    f.push(dockerLine(T0 + 3n * MS, 'stdout', 'last part\n'));
    expect(f.records.map((r) => [r.stream, r.message, r.timeNs - T0, r.offset])).toEqual([
      ['stderr', 'an error', MS, f.lines[1]!.offset],
      ['stdout', 'first part, second part, last part', 0n, 0],
    ]);
  });

  it('reads a file in docker format throughout and treats a CRI line in it as garbage', () => {
    const f = file({ multiline: false });
    f.push(dockerLine(T0, 'stdout', 'a\n'));
    f.push(criLine(T0 + MS, 'stdout', 'F', 'b'));
    expect(f.records.map((r) => r.message)).toEqual(['a', criLine(T0 + MS, 'stdout', 'F', 'b')]);
    expect(f.assembler.stats.decodeErrors).toBe(1);
  });
});

describe('lines in neither format', () => {
  it('keeps them as stdout records with the previous line’s timestamp and a detected level', () => {
    const f = file({ multiline: false });
    f.push(criLine(T0, 'stderr', 'F', 'ok'));
    f.push('ERROR: half-written garbage');
    expect(f.records[1]).toMatchObject({ stream: 'stdout', timeNs: T0, level: 'error', message: 'ERROR: half-written garbage', offset: f.lines[1]!.offset });
    expect(f.assembler.stats.decodeErrors).toBe(1);
  });

  it('holds lines before the first parseable one and gives them its timestamp', () => {
    const f = file({ multiline: false }, 500);
    f.push('ome line that was cut at its start');
    f.push('another');
    expect(f.records).toEqual([]);
    expect(f.assembler.pendingFrom()).toBe(500);
    f.push(criLine(T0, 'stdout', 'F', 'valid'));
    expect(f.records.map((r) => [r.message, r.timeNs, r.offset])).toEqual([
      ['ome line that was cut at its start', T0, 500],
      ['another', T0, f.lines[1]!.offset],
      ['valid', T0, f.lines[2]!.offset],
    ]);
    expect(f.assembler.stats.decodeErrors).toBe(2);
    expect(f.assembler.pendingFrom()).toBeUndefined();
  });

  it('stamps held lines 0 when the file ends without a parseable line', () => {
    const f = file({ multiline: false });
    f.push('just text');
    expect(f.flushAll()).toMatchObject([{ message: 'just text', timeNs: 0n }]);
  });

  it('ends a pending fragment join instead of completing it', () => {
    const f = file({ multiline: false });
    f.push(criLine(T0, 'stdout', 'P', 'partial '));
    f.push('garbage');
    f.push(criLine(T0 + MS, 'stdout', 'F', 'final'));
    expect(f.messages()).toEqual(['partial ', 'garbage', 'final']);
  });
});

describe('multiline records', () => {
  it('keeps a record pending until a line that starts a new one arrives', () => {
    const f = file();
    f.push(criLine(T0, 'stdout', 'F', 'ERROR failed'));
    expect(f.records).toEqual([]);
    expect(f.assembler.pendingFrom()).toBe(0);
    f.push(criLine(T0 + MS, 'stdout', 'F', '\tat a.B.c(B.java:1)'));
    f.push(criLine(T0 + 2n * MS, 'stdout', 'F', 'INFO next'));
    expect(f.records).toMatchObject([{ message: 'ERROR failed\n\tat a.B.c(B.java:1)', level: 'error', timeNs: T0, offset: 0, endOffset: f.lines[1]!.endOffset }]);
    expect(f.assembler.pendingFrom()).toBe(f.lines[2]!.offset);
  });

  it('flushes a pending record after multilineFlushMs without a continuation', () => {
    const f = file({ multilineFlushMs: 1000 });
    f.push(criLine(T0, 'stdout', 'F', 'ERROR failed'), 10_000);
    expect(f.flushDue(10_999)).toEqual([]);
    expect(f.flushDue(11_000)).toMatchObject([{ message: 'ERROR failed' }]);
    expect(f.assembler.pendingFrom()).toBeUndefined();
    // A continuation after the flush is a record of its own with the level of the one it continues.
    f.push(criLine(T0 + MS, 'stdout', 'F', '\tat a.B.c(B.java:1)'), 11_500);
    expect(f.flushAll()).toMatchObject([{ message: '\tat a.B.c(B.java:1)', level: 'error' }]);
  });

  it('joins a continuation however late it is pushed: only flushDue ends a record on time', () => {
    // A late push means a late read (backpressure, catching up), not a late write.
    const f = file({ multilineFlushMs: 1000 });
    f.push(criLine(T0, 'stdout', 'F', 'WARN slow'), 0);
    f.push(criLine(T0, 'stdout', 'F', '\tat a.B.c(B.java:1)'), 5000);
    f.flushAll();
    expect(f.records.map((r) => [r.message, r.level])).toEqual([['WARN slow\n\tat a.B.c(B.java:1)', 'warn']]);
  });

  it('never flushes a pending runtime fragment on a timer', () => {
    const f = file();
    f.push(criLine(T0, 'stdout', 'P', 'half'), 0);
    expect(f.flushDue(60_000)).toEqual([]);
    expect(f.assembler.pendingFrom()).toBe(0);
  });

  it('splits a trace longer than maxRecordBytes; the rest keeps the level', () => {
    const f = file({ maxRecordBytes: 2048 });
    f.push(criLine(T0, 'stdout', 'F', 'ERROR deep recursion'));
    for (let i = 0; i < 100; i++) f.push(criLine(T0, 'stdout', 'F', `\tat com.example.Recursive.call(Recursive.java:${i})`));
    f.flushAll();
    expect(f.records.length).toBeGreaterThan(1);
    for (const r of f.records) {
      expect(Buffer.byteLength(r.message)).toBeLessThanOrEqual(2048);
      expect(r.level).toBe('error');
    }
    expect(f.records.map((r) => r.message).join('\n').split('\n')).toHaveLength(101);
    for (let i = 1; i < f.records.length; i++) expect(f.records[i]!.offset).toBe(f.records[i - 1]!.endOffset);
  });

  it('with a firstLine pattern, joins every line that does not match it', () => {
    const f = file({ multiline: { firstLine: '^\\d{4}-\\d{2}-\\d{2} ' } });
    f.pushAll([
      criLine(T0, 'stdout', 'F', '2024-01-31 10:00:00 INFO config:'),
      criLine(T0, 'stdout', 'F', 'key: value'),
      criLine(T0, 'stdout', 'F', '  nested: true'),
      criLine(T0, 'stdout', 'F', '2024-01-31 10:00:01 ERROR next'),
    ]);
    f.flushAll();
    expect(f.records.map((r) => [r.message, r.level])).toEqual([
      ['2024-01-31 10:00:00 INFO config:\nkey: value\n  nested: true', 'info'],
      ['2024-01-31 10:00:01 ERROR next', 'error'],
    ]);
  });

  it('refuses an invalid firstLine pattern', () => {
    expect(() => createRecordAssembler(TEST_SOURCE, { multiline: { firstLine: '(?<=x)y' } })).toThrow(Re2SyntaxError);
  });
});

describe('hand-out order', () => {
  it('holds a record whose range contains the start of an unfinished stderr record, and hands it out after that one', () => {
    const f = file();
    f.push(criLine(T0, 'stdout', 'F', 'ERROR failed'));
    f.push(criLine(T0, 'stderr', 'F', 'WARN unrelated'));
    f.push(criLine(T0, 'stdout', 'F', '\tat a.B.c(B.java:1)'));
    // The stdout trace is complete, but a checkpoint after it would fall inside the stderr record.
    expect(f.push(criLine(T0, 'stdout', 'F', 'INFO next'))).toEqual([]);
    expect(f.assembler.pendingFrom()).toBe(0);
    const out = f.push(criLine(T0, 'stderr', 'F', 'INFO other'));
    expect(out.map((r) => r.message)).toEqual(['WARN unrelated', 'ERROR failed\n\tat a.B.c(B.java:1)']);
    expect(f.assembler.pendingFrom()).toBe(f.lines[3]!.offset);
  });

  it('bounds the records waiting on each other when both streams keep interleaving traces', () => {
    const f = file();
    // Each stream's trace contains the start of the other's next one: a chain that never closes.
    f.push(criLine(T0, 'stdout', 'F', 'ERROR out'));
    for (let i = 0; i < 1100; i++) {
      f.push(criLine(T0, 'stderr', 'F', 'ERROR err'));
      f.push(criLine(T0, 'stdout', 'F', '\tat a.B.c(B.java:1)'));
      f.push(criLine(T0, 'stdout', 'F', 'ERROR out'));
      f.push(criLine(T0, 'stderr', 'F', '\tat a.B.c(B.java:1)'));
    }
    expect(f.records.length).toBeGreaterThan(1000);
    expect(f.assembler.stats.splitRecords).toBeGreaterThan(0);
    f.flushAll();
    expect(new Set(f.records.map((r) => r.id)).size).toBe(f.records.length);
    expect(f.records.flatMap((r) => r.message.split('\n'))).toHaveLength(f.lines.length);
  });
});

describe('enrichment', () => {
  it('parses JSON lines into fields and level, keeping the line as the message', () => {
    const f = file({ multiline: false });
    const json = '{"level":"warn","msg":"slow query","db":{"ms":1250,"table":"orders"},"tags":["a"]}';
    f.push(criLine(T0, 'stdout', 'F', json));
    expect(f.records[0]).toMatchObject({ message: json, level: 'warn', fields: { level: 'warn', msg: 'slow query', db_ms: '1250', db_table: 'orders' } });
  });

  it('reads invalid JSON and, with parseJson off, all JSON as plain text: level words, no fields', () => {
    const f = file({ multiline: false });
    f.push(criLine(T0, 'stdout', 'F', '{"level":"warn", broken ERROR'));
    expect(f.records[0]).toMatchObject({ level: 'warn', fields: undefined });
    const g = file({ multiline: false, parseJson: false });
    g.push(criLine(T0, 'stdout', 'F', '{"level":"warn"}'));
    expect(g.records[0]).toMatchObject({ level: 'warn', fields: undefined });
  });

  it('gives a JSON line without a level field the level unknown and no fields for {}', () => {
    const f = file({ multiline: false });
    f.push(criLine(T0, 'stdout', 'F', '{"msg":"error while reading"}'));
    f.push(criLine(T0, 'stdout', 'F', '{}'));
    expect(f.records.map((r) => [r.level, r.fields])).toEqual([
      ['unknown', { msg: 'error while reading' }],
      ['unknown', undefined],
    ]);
  });

  it('parses a JSON line that the runtime split into fragments, once joined', () => {
    const f = file();
    const json = JSON.stringify({ level: 'error', msg: 'x'.repeat(40_000) });
    for (let i = 0; i < json.length; i += 16_384) f.push(criLine(T0, 'stdout', i + 16_384 >= json.length ? 'F' : 'P', json.slice(i, i + 16_384)));
    f.flushAll();
    expect(f.records).toHaveLength(1);
    expect(f.records[0]).toMatchObject({ level: 'error', message: json });
    expect(f.records[0]!.fields!['msg']).toHaveLength(40_000);
  });
});

describe('plain files', () => {
  it('takes every line as stdout content stamped with its read time', () => {
    const f = file({ format: 'plain', multiline: false });
    f.push('2016-10-20T18:39:20Z stdout F looks like CRI', 1_700_000_000_123);
    expect(f.records[0]).toMatchObject({ message: '2016-10-20T18:39:20Z stdout F looks like CRI', stream: 'stdout', timeNs: 1_700_000_000_123_000_000n });
    expect(f.assembler.stats.decodeErrors).toBe(0);
  });
});

describe('options', () => {
  it('refuses a non-positive maxRecordBytes and a negative flush delay', () => {
    expect(() => createRecordAssembler(TEST_SOURCE, { maxRecordBytes: 0 })).toThrow(/maxRecordBytes/);
    expect(() => createRecordAssembler(TEST_SOURCE, { maxRecordBytes: 1.5 })).toThrow(/maxRecordBytes/);
    expect(() => createRecordAssembler(TEST_SOURCE, { multilineFlushMs: -1 })).toThrow(/multilineFlushMs/);
  });

  it('come from the log_collection config section', () => {
    expect(assemblerOptionsFromConfig({ multiline: 'auto', multiline_flush: '1s', max_record_bytes: 1048576 })).toEqual({ multiline: 'auto', multilineFlushMs: 1000, maxRecordBytes: 1048576 });
    expect(assemblerOptionsFromConfig({ multiline: 'off', multiline_flush: '250ms', max_record_bytes: 4096 })).toMatchObject({ multiline: false, multilineFlushMs: 250 });
    expect(assemblerOptionsFromConfig({ multiline: { first_line: '^\\[' }, multiline_flush: '2s', max_record_bytes: 4096 })).toMatchObject({ multiline: { firstLine: '^\\[' } });
  });
});
