/**
 * Scraping with Prometheus's semantics. The composition root needs `ScrapeManager` (a lifecycle
 * service fed by the discovery manager and the config loader); the API reads `targets()`.
 */
export { ScrapeManager, type ActiveTargetView, type ScrapeManagerOptions, type TargetMetadata, type TargetsView } from './manager.js';
export { ScrapePool, compileJob, reusableCache, type CompiledJob, type PoolDeps } from './pool.js';
export { ScrapeLoop, ScrapeFailure, mutateSampleLabels, verifyLabelLimits, type LoopSettings, type ScrapeLoopOptions, type StalenessMode } from './loop.js';
export { ScrapeHttpClient, ScrapeHttpError, type HttpClientSettings, type Scraper, type ScrapeResponse, type TlsSettings } from './http-client.js';
export {
  Target,
  populateLabels,
  populateDiscoveredLabels,
  targetsFromGroup,
  targetURL,
  scrapeOffset,
  type DroppedTarget,
  type PopulateResult,
  type TargetHealth,
  type TargetSettings,
} from './target.js';
export { ScrapeCache } from './cache.js';
export { ScrapeMetrics } from './metrics.js';
export { STALE_NAN, isStaleNaN } from '../../model/stale.js';
