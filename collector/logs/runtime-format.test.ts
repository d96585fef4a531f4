import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatTimeNs, parseTimeNs } from '../../model/logs.js';
import { parseCriLine } from './cri-format.js';
import { parseDockerLine } from './docker-format.js';
import { RuntimeLine } from './runtime-line.js';
import { RuntimeTimeParser } from './runtime-time.js';

type Parsed = Pick<RuntimeLine, 'timeNs' | 'stream' | 'partial' | 'content'>;

function cri(line: string, times = new RuntimeTimeParser()): Parsed | undefined {
  const out = new RuntimeLine();
  if (!parseCriLine(line, times, out)) return undefined;
  return { timeNs: out.timeNs, stream: out.stream, partial: out.partial, content: out.content };
}

function docker(line: string, times = new RuntimeTimeParser()): Parsed | undefined {
  const out = new RuntimeLine();
  if (!parseDockerLine(line, times, out)) return undefined;
  return { timeNs: out.timeNs, stream: out.stream, partial: out.partial, content: out.content };
}

// kubelet's TestParseLog (pkg/kubelet/kuberuntime/logs/logs_test.go): its timestamp and lines.
const KUBELET_TS = parseTimeNs('2016-10-20T18:39:20.57606443Z');

describe('parseCriLine', () => {
  it('parses kubelet’s own examples', () => {
    expect(cri('2016-10-20T18:39:20.57606443Z stdout F cri stdout test log')).toEqual({ timeNs: KUBELET_TS, stream: 'stdout', partial: false, content: 'cri stdout test log' });
    expect(cri('2016-10-20T18:39:20.57606443Z stderr F cri stderr test log')).toEqual({ timeNs: KUBELET_TS, stream: 'stderr', partial: false, content: 'cri stderr test log' });
    expect(cri('2016-10-20T18:39:20.57606443Z stdout P cri stdout partial test log')).toEqual({ timeNs: KUBELET_TS, stream: 'stdout', partial: true, content: 'cri stdout partial test log' });
    // "Keep this forward compatible": only the first ':'-separated tag counts.
    expect(cri('2016-10-20T18:39:20.57606443Z stdout P:TAG1:TAG2 cri stdout partial test log')).toMatchObject({ partial: true, content: 'cri stdout partial test log' });
    expect(cri('unsupported log format test log')).toBeUndefined();
    // The logs.go doc examples.
    expect(cri('2016-10-06T00:17:09.669794202Z stdout P log content 1')).toMatchObject({ partial: true, content: 'log content 1' });
    expect(cri('2016-10-06T00:17:09.669794203Z stderr F log content 2')).toMatchObject({ stream: 'stderr', partial: false, content: 'log content 2' });
  });

  it('treats any first tag other than P as full, and keeps content spaces', () => {
    expect(cri('2016-10-20T18:39:20Z stdout F:x   indented ')).toMatchObject({ partial: false, content: '  indented ' });
    expect(cri('2016-10-20T18:39:20Z stdout PX not partial')).toMatchObject({ partial: false });
    expect(cri('2016-10-20T18:39:20Z stdout  empty tag')).toMatchObject({ partial: false, content: 'empty tag' });
    expect(cri('2016-10-20T18:39:20Z stdout F ')).toMatchObject({ content: '' });
  });

  it('reads offsets and fractions of any length, as Go’s RFC3339Nano parse does', () => {
    expect(cri('2022-10-29T16:10:22.592603036-05:00 stdout F x')!.timeNs).toBe(parseTimeNs('2022-10-29T21:10:22.592603036Z'));
    expect(cri('2016-10-20T18:39:20Z stdout F x')!.timeNs).toBe(parseTimeNs('2016-10-20T18:39:20.000000000Z'));
    expect(cri('2016-10-20T18:39:20.5Z stdout F x')!.timeNs).toBe(parseTimeNs('2016-10-20T18:39:20.500000000Z'));
  });

  it.each([
    ['no tag (kubelet: "log tag is not found")', '2016-10-20T18:39:20Z stdout F'],
    ['an unknown stream', '2016-10-20T18:39:20Z stdin F x'],
    ['a stream prefix', '2016-10-20T18:39:20Z stdoutx F x'],
    ['a bad timestamp', '2016-13-20T18:39:20Z stdout F x'],
    ['a timestamp without zone', '2016-10-20T18:39:20 stdout F x'],
    ['a leading space', ' 2016-10-20T18:39:20Z stdout F x'],
    ['nothing', ''],
  ])('rejects %s', (_what, line) => {
    expect(cri(line)).toBeUndefined();
  });
});

describe('parseDockerLine', () => {
  it('parses kubelet’s own examples', () => {
    // Without a trailing \n in `log` these are fragments of a longer line.
    expect(docker('{"log":"docker stdout test log","stream":"stdout","time":"2016-10-20T18:39:20.57606443Z"}')).toEqual({ timeNs: KUBELET_TS, stream: 'stdout', partial: true, content: 'docker stdout test log' });
    expect(docker('{"log":"docker stderr test log\\n","stream":"stderr","time":"2016-10-20T18:39:20.57606443Z"}')).toEqual({ timeNs: KUBELET_TS, stream: 'stderr', partial: false, content: 'docker stderr test log' });
  });

  it('decodes escapes, including Go’s HTML-safe ones', () => {
    expect(docker('{"log":"\\u003cb\\u003e \\"q\\" tab\\there\\n","stream":"stdout","time":"2016-10-20T18:39:20Z"}')!.content).toBe('<b> "q" tab\there');
    expect(docker('{"log":"ends with backslash\\\\","stream":"stdout","time":"2016-10-20T18:39:20Z"}')).toMatchObject({ content: 'ends with backslash\\', partial: true });
  });

  it('accepts other layouts through a full JSON parse', () => {
    expect(docker('{"log":"x\\n","stream":"stdout","attrs":{"tag":"a"},"time":"2016-10-20T18:39:20Z"}')).toMatchObject({ content: 'x', stream: 'stdout' });
    expect(docker('{ "time": "2016-10-20T18:39:20Z", "stream": "stderr", "log": "y\\n" }')).toMatchObject({ content: 'y', stream: 'stderr' });
  });

  it.each([
    ['a missing stream', '{"log":"x\\n","time":"2016-10-20T18:39:20Z"}'],
    ['an unknown stream', '{"log":"x\\n","stream":"stdin","time":"2016-10-20T18:39:20Z"}'],
    ['a bad time', '{"log":"x\\n","stream":"stdout","time":"yesterday"}'],
    ['a non-string log', '{"log":1,"stream":"stdout","time":"2016-10-20T18:39:20Z"}'],
    ['truncated JSON', '{"log":"x\\n","stream":"stdout","time":"2016-10-20T18:3'],
    ['a raw control character', '{"log":"a\tb\\n","stream":"stdout","time":"2016-10-20T18:39:20Z"}'],
    ['a bad escape', '{"log":"a\\qb\\n","stream":"stdout","time":"2016-10-20T18:39:20Z"}'],
    ['an array', '[1,2]'],
    ['a CRI line', '2016-10-20T18:39:20Z stdout F x'],
  ])('rejects %s', (_what, line) => {
    expect(docker(line)).toBeUndefined();
  });

  it('agrees with JSON.parse on every line Docker could write', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.constantFrom('stdout', 'stderr'), fc.integer({ min: 0, max: 4_000_000_000 }), (log, stream, sec) => {
        const time = formatTimeNs(BigInt(sec) * 1_000_000_000n + 123n);
        const line = JSON.stringify({ log, stream, time });
        const complete = log.endsWith('\n');
        expect(docker(line)).toEqual({ timeNs: parseTimeNs(time), stream, partial: !complete, content: complete ? log.slice(0, -1) : log });
      }),
    );
  });
});

describe('RuntimeTimeParser', () => {
  it('gives the same nanoseconds as parseTimeNs, from cache or not, for any sequence of stamps', () => {
    const stamp = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 999_999_999 }), fc.integer({ min: 0, max: 9 }), fc.constantFrom('Z', 'z', '+02:00', '-05:30')).map(([sec, frac, digits, zone]) => {
      const base = new Date(Date.UTC(2024, 0, 31, 23, 59, 58 + sec)).toISOString().slice(0, 19);
      const fraction = digits === 0 ? '' : `.${String(frac).padStart(9, '0').slice(0, digits)}`;
      return `${base}${fraction}${zone}`;
    });
    fc.assert(
      fc.property(fc.array(stamp, { maxLength: 30 }), (stamps) => {
        const times = new RuntimeTimeParser();
        for (const s of stamps) expect(times.parse(`x ${s} y`, 2, 2 + s.length)).toBe(parseTimeNs(s));
      }),
    );
  });

  it('refuses a cached second followed by something other than digits', () => {
    const times = new RuntimeTimeParser();
    expect(times.parse('2024-01-31T10:00:00.1Z', 0, 22)).toBe(parseTimeNs('2024-01-31T10:00:00.1Z'));
    expect(times.parse('2024-01-31T10:00:00.1xZ', 0, 23)).toBeUndefined();
    expect(times.parse('2024-01-31T10:00:00.-1Z', 0, 23)).toBeUndefined();
    expect(times.parse('2024-01-31T10:00:00.1234567890Z', 0, 31)).toBeUndefined();
  });

  it('handles seconds before 1970', () => {
    const times = new RuntimeTimeParser();
    expect(times.parse('1969-12-31T23:59:59.5Z', 0, 22)).toBe(-500_000_000n);
    expect(times.parse('1969-12-31T23:59:59.25Z', 0, 23)).toBe(-750_000_000n);
  });
});

describe('runtime line parsers on garbage', () => {
  it('never throw', () => {
    const times = new RuntimeTimeParser();
    const out = new RuntimeLine();
    const parts = fc.constantFrom('2016-10-20T18:39:20.5Z', ' ', 'stdout', 'stderr', 'P', 'F', ':', '{"log":"', '","stream":"stdout"', ',"time":"', '"}', '\\', '"', 'x', '\\u00');
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.array(parts, { maxLength: 12 }).map((a) => a.join(''))), (line) => {
        expect(typeof parseCriLine(line, times, out)).toBe('boolean');
        expect(typeof parseDockerLine(line, times, out)).toBe('boolean');
      }),
      { numRuns: 3000 },
    );
  });
});
