/**
 * The kafkajs client as the sink and the indexer share it: connection settings (the `kafka`
 * section of the configuration, mapped by the caller), kafkajs's own log lines routed into
 * Vigil's logger, and the classification of kafkajs errors.
 */
import type { ConnectionOptions } from 'node:tls';
import { Kafka, logLevel, type KafkaConfig, type LogEntry, type RetryOptions, type SASLOptions } from 'kafkajs';
import type { Logger } from '../../../util/logging.js';

export interface KafkaClientOptions {
  /** Bootstrap brokers, `host:port`. */
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** `true` for TLS with the system CAs, or Node TLS options. */
  readonly tls?: boolean | ConnectionOptions;
  readonly sasl?: {
    readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
    readonly username: string;
    readonly password: string;
  };
  /** Default 10 s (kafkajs: 1 s, too short for a TLS handshake to a busy broker). */
  readonly connectionTimeoutMs?: number;
  /** Default 30 s, as kafkajs. */
  readonly requestTimeoutMs?: number;
  /** Client-level retry of kafkajs (connects, metadata); kafkajs defaults when absent. */
  readonly retry?: RetryOptions;
}

export function createKafka(opts: KafkaClientOptions, logger: Logger): Kafka {
  if (opts.brokers.length === 0) throw new Error('kafka: no brokers configured');
  const config: KafkaConfig = {
    brokers: [...opts.brokers],
    clientId: opts.clientId,
    connectionTimeout: opts.connectionTimeoutMs ?? 10_000,
    requestTimeout: opts.requestTimeoutMs ?? 30_000,
    logLevel: logLevel.INFO,
    logCreator: kafkaLogCreator(logger),
  };
  if (opts.tls !== undefined) config.ssl = opts.tls;
  if (opts.sasl !== undefined) config.sasl = { ...opts.sasl } as SASLOptions;
  if (opts.retry !== undefined) config.retry = opts.retry;
  return new Kafka(config);
}

/** Routes kafkajs's log entries into pino, keeping their structured fields. */
function kafkaLogCreator(logger: Logger): KafkaConfig['logCreator'] {
  const log = logger.child({ component: 'kafkajs' });
  return () =>
    ({ namespace, level, log: entry }: LogEntry) => {
      const { message, timestamp: _timestamp, ...fields } = entry;
      const obj = { ...fields, namespace };
      switch (level) {
        case logLevel.ERROR:
          log.error(obj, message);
          break;
        case logLevel.WARN:
          log.warn(obj, message);
          break;
        case logLevel.INFO:
          log.info(obj, message);
          break;
        default:
          log.debug(obj, message);
      }
    };
}

/**
 * Broker answers that refuse the request itself: sending it again cannot succeed. Anything else
 * (connection refused, leader moving, timeouts, retries exhausted on those) may pass.
 */
const REFUSALS = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD', 'INVALID_TOPIC_EXCEPTION', 'INVALID_REQUIRED_ACKS']);

/** The Kafka protocol error type (`MESSAGE_TOO_LARGE`) that refused a request permanently, if any. */
export function kafkaRefusal(err: unknown): string | undefined {
  // kafkajs wraps the broker's error: NumberOfRetriesExceeded → cause → ProtocolError.
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const type = (e as { type?: unknown }).type;
    if (e.name === 'KafkaJSProtocolError' && typeof type === 'string' && REFUSALS.has(type)) return type;
  }
  return undefined;
}

/** True for errors raised by kafkajs (as opposed to bugs in our own code). */
export function isKafkaError(err: unknown): boolean {
  return err instanceof Error && err.name.startsWith('KafkaJS');
}
