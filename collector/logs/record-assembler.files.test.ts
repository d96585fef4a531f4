import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logRecordId, type LogRecord, type LogSource } from '../../model/logs.js';
import { generatedRecord, PodLogGenerator } from '../../test/support/pod-log-generator.js';
import { parsePodLogPath } from './pod-log-path.js';
import { createRecordAssembler } from './record-assembler.js';

/** Reads a log file the way a tailer does: complete lines with their byte offsets. */
function assembleFile(file: string, source: LogSource): LogRecord[] {
  const bytes = readFileSync(file);
  const assembler = createRecordAssembler(source);
  const records: LogRecord[] = [];
  let start = 0;
  for (let nl = bytes.indexOf(0x0a); nl >= 0; nl = bytes.indexOf(0x0a, start)) {
    records.push(...assembler.push(bytes.toString('utf8', start, nl), start, nl + 1, 0));
    start = nl + 1;
  }
  records.push(...assembler.flushAll());
  expect(assembler.stats.decodeErrors).toBe(0);
  return records.sort((a, b) => a.offset - b.offset);
}

describe('record assembly of files a node writes', () => {
  let root: string;
  let gen: PodLogGenerator;
  const startNs = BigInt(Date.UTC(2026, 0, 1)) * 1_000_000n;

  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), 'vigil-assembly-'));
    gen = new PodLogGenerator({ root, pods: 3, namespaces: 2, startNs, rotateBytes: Number.MAX_SAFE_INTEGER });
    for (let i = 0; i < 20; i++) gen.step(400);
    gen.finish();
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('turns every generated record, stack traces and 24 KB lines included, into exactly one LogRecord', () => {
    for (const pod of gen.pods) {
      const file = path.join(pod.dir, readdirSync(pod.dir).find((f) => f === '0.log')!);
      const meta = parsePodLogPath(file)!;
      expect(meta).toMatchObject({ namespace: pod.namespace, pod: pod.name, podUid: pod.uid, container: pod.container, restart: 0 });
      const source: LogSource = { node: 'node-1', ...meta, path: file, fileKey: `key-${pod.index}` };
      const records = assembleFile(file, source);
      expect(records).toHaveLength(pod.records);
      for (const [seq, r] of records.entries()) {
        const expected = generatedRecord(pod.name, pod.index, seq);
        expect({ message: r.message, stream: r.stream, level: r.level }).toEqual({ message: expected.message, stream: expected.stream, level: expected.level });
        expect(r.timeNs).toBe(gen.timeNs(seq, 0));
        expect(r.id).toBe(logRecordId('node-1', source.fileKey, r.offset));
        if (seq % 3 === 0 && seq % 97 !== 13 && seq % 997 !== 7) expect(r.fields?.['pod']).toBe(pod.name);
      }
    }
  });
});
