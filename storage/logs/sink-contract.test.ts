/**
 * The LogSink contract on the embedded path: `StoreLogSink` into the SQLite store, read back by
 * searching the store. The Kafka path runs the same suite in kafka/kafka.test.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { silentLogger } from '../../util/logging.js';
import { describeLogSinkContract, storeReadBack } from './sink-contract.js';
import { SqliteLogStore } from './sqlite/index.js';
import { StoreLogSink } from './store-sink.js';

describeLogSinkContract('StoreLogSink → SQLite', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'vigil-sink-contract-'));
  const store = new SqliteLogStore({ dir });
  const sink = new StoreLogSink({ store, registry: new Registry(), logger: silentLogger() });
  return {
    sink,
    readBack: storeReadBack(store),
    async cleanup() {
      await sink.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
