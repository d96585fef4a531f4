/**
 * The limits of log queries, over the real app and a real SQLite store: a query that outlives
 * `query.timeout` is aborted with a 503 naming the limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testLogRecord } from '../../storage/logs/store-contract.js';
import { logApiFixture, qs, SECOND, T0, type LogApiFixture } from '../logs/testutil.js';

const DAY = 86_400n * SECOND;
const DAYS = 300;
const PER_DAY = 500;

describe('log query limits', () => {
  let f: LogApiFixture;
  beforeAll(async () => {
    // 500 records a day for 300 days, one SQLite file per day: a regex over all of them runs far
    // longer than the store's 15 ms between handing the event loop back and checking its signal.
    const records = Array.from({ length: DAYS * PER_DAY }, (_, i) => {
      const d = Math.floor(i / PER_DAY);
      const k = i % PER_DAY;
      return testLogRecord({ t: T0 - BigInt(d) * DAY + BigInt(k) * SECOND, offset: i * 100, message: `day ${d} line ${k} timeout`, ns: 'team-a', pod: 'api-1', uid: 'a1' });
    });
    f = await logApiFixture({ records, configYaml: 'query:\n  timeout: 1ms\n' });
  }, 60_000);
  afterAll(async () => {
    await f?.close();
  });

  it('aborts a search that outlives query.timeout with a 503 naming the limit', async () => {
    const res = await f.app.inject({
      url: `/api/vigil/v1/logs/search?${qs({ query: '{namespace="team-a"} |~ "day [0-9]+ line 9999 timeout"', start: T0 - BigInt(DAYS + 1) * DAY, end: T0 + SECOND, limit: 5000, direction: 'forward' })}`,
    });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ code: 'VIGIL_ERR_QUERY_TIMEOUT' });
    expect(res.json().error).toContain('query.timeout');
  });
});
