export { SqliteLogStore, LogStoreClosedError, ReadOnlyLogStoreError, type SqliteLogStoreOptions, type SqliteQueryPlan } from './store.js';
