import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LOG_LEVELS, type LogLevel } from '../../model/logs.js';
import { detectLevel, levelFromValue } from './level.js';

describe('detectLevel', () => {
  it.each<[string, LogLevel]>([
    // Common layouts: the level word after a timestamp, thread or bracket.
    ['2024-01-31 10:00:00.123 ERROR [main] c.e.App - request failed', 'error'],
    ['10:00:00.123 [http-nio-8080-exec-1] WARN  c.e.App - slow', 'warn'],
    ['[2024-01-31T10:00:00Z] INFO: started', 'info'],
    ['time="2024-01-31T10:00:00Z" level=warning msg="disk almost full"', 'warn'],
    ['ts=2024-01-31T10:00:00Z caller=main.go:42 level=debug msg=tick', 'debug'],
    ['2024/01/31 10:00:00 [error] 7#7: *1 connect() failed', 'error'],
    ['WARNING:root:deprecated option', 'warn'],
    ['CRITICAL:app:database unreachable', 'fatal'],
    ['E, [2024-01-31T10:00:00.123 #1] ERROR -- : boom', 'error'],
    ['I, [2024-01-31T10:00:00.123 #1]  INFO -- : hello', 'info'],
    ['TRACE entering handler', 'trace'],
    ['FATAL could not bind :8080', 'fatal'],
    ['panic: runtime error: index out of range [5] with length 3', 'fatal'],
    ['Error: connect ECONNREFUSED 127.0.0.1:5432', 'error'],
    ['Warning: fs.rmdir is deprecated', 'warn'],
    ['SEVERE: Servlet.service() threw exception', 'error'],
    ['NOTICE: autovacuum launcher started', 'info'],
    // klog / glog headers.
    ['E0412 10:00:00.123456       1 controller.go:114] sync failed', 'error'],
    ['W0412 10:00:00.123456       1 reflector.go:424] watch ended', 'warn'],
    ['I0412 10:00:00.123456       1 leaderelection.go:248] attempting to acquire lease', 'info'],
    ['F0412 10:00:00.123456       1 main.go:20] cannot start', 'fatal'],
    // zerolog console abbreviations, in upper case only.
    ['10:00AM ERR connection lost', 'error'],
    ['10:00AM WRN retrying', 'warn'],
    ['10:00AM DBG state=3', 'debug'],
    // The first level word wins.
    ['INFO retrying after error', 'info'],
    ['level=info msg="retry" err="connection refused"', 'info'],
  ])('%s → %s', (line, level) => {
    expect(detectLevel(line)).toBe(level);
  });

  it.each<[string, string]>([
    ['a word that merely contains a level', 'information about the request'],
    ['a level joined to other word characters', 'trace_id=abc error42 info_level'],
    ['lower-case abbreviations (logfmt err= fields)', 'msg="failed" err="EOF"'],
    ['mixed case', 'eRRoR something'],
    ['a level word far from the start', `${'x '.repeat(80)}ERROR`],
    ['no level at all', 'GET /api/orders 200 12ms'],
    ['the empty line', ''],
    ['a klog-like prefix without the time', 'E0412 is a code'],
  ])('%s is unknown', (_what, line) => {
    expect(detectLevel(line)).toBe('unknown');
  });

  it('never throws and always answers a known level', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (line) => {
        expect(LOG_LEVELS).toContain(detectLevel(line));
      }),
    );
  });
});

describe('levelFromValue', () => {
  it.each<[string, LogLevel | undefined]>([
    ['info', 'info'],
    ['INFO', 'info'],
    ['Warning', 'warn'],
    ['warn', 'warn'],
    ['err', 'error'],
    ['ERROR', 'error'],
    ['dpanic', 'fatal'],
    ['CRITICAL', 'fatal'],
    ['EMERGENCY', 'fatal'],
    ['debug ', 'debug'],
    ['30', 'info'],
    ['50', 'error'],
    ['60', 'fatal'],
    ['DEFAULT', undefined],
    ['42', undefined],
    ['', undefined],
    ['constructor', undefined],
  ])('%j → %s', (value, level) => {
    expect(levelFromValue(value)).toBe(level);
  });
});
