export { ElasticsearchLogStore, ElasticsearchRequestError, type ElasticsearchLogStoreOptions } from './store.js';
export { RegexpTranslationError } from './lucene-regexp.js';
export { customComponentTemplate, indexPattern } from './indices.js';
