/**
 * Where a record goes on Kafka: which topic, under which key.
 *
 * - Topic: one per cluster (`<topic>`), or one per namespace (`<topic>.<namespace>`) so that
 *   retention and ACLs can differ per team. A namespace that cannot name a topic safely (not an
 *   RFC 1123 label, or `dlq`, which would be the dead-letter topic) stays on `<topic>`.
 * - Key: `<podUid>/<container>`. The default partitioner hashes the key, so every record of one
 *   container stream lands on one partition and keeps its order there; restarts of the container
 *   share the key, which keeps `<n>.log` files in order too.
 * - Dead letters: `<topic>.dlq`, one topic whatever the mode; headers say where a letter came from.
 */
import type { LogSource } from '../../../model/logs.js';

/** Kubernetes namespace names (RFC 1123 labels); also legal in Kafka topic names. */
const NAMESPACE_RE = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const TOPIC_RE = /^[A-Za-z0-9._-]{1,249}$/;
const DLQ_SUFFIX = 'dlq';

export interface TopicOptions {
  /** The base topic (`kafka.topic`). */
  readonly topic: string;
  /** `log_collection.topic_per_namespace`. */
  readonly perNamespace?: boolean;
}

export function validateTopic(topic: string): void {
  if (!TOPIC_RE.test(topic)) {
    throw new Error(`kafka: topic ${JSON.stringify(topic)} must be 1–249 characters of [A-Za-z0-9._-]`);
  }
  if (topic === '.' || topic === '..') throw new Error(`kafka: topic ${JSON.stringify(topic)} is reserved`);
}

export function topicFor(source: LogSource, opts: TopicOptions): string {
  if (!opts.perNamespace || !NAMESPACE_RE.test(source.namespace) || source.namespace === DLQ_SUFFIX) return opts.topic;
  const topic = `${opts.topic}.${source.namespace}`;
  return topic.length <= 249 ? topic : opts.topic;
}

export function messageKey(source: LogSource): string {
  return `${source.podUid}/${source.container}`;
}

export function deadLetterTopic(topic: string): string {
  return `${topic}.${DLQ_SUFFIX}`;
}

/** Whether the indexer should consume `name`: the base topic and, per namespace, its children. */
export function isLogTopic(name: string, opts: TopicOptions): boolean {
  if (name === opts.topic) return true;
  if (!opts.perNamespace || !name.startsWith(`${opts.topic}.`)) return false;
  const ns = name.slice(opts.topic.length + 1);
  return ns !== DLQ_SUFFIX && NAMESPACE_RE.test(ns);
}
