import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { LogSource } from '../../../model/logs.js';
import { deadLetterTopic, isLogTopic, messageKey, topicFor, validateTopic } from './topics.js';

const source = (namespace: string, over: Partial<LogSource> = {}): LogSource => ({
  node: 'n1',
  namespace,
  pod: 'web-1',
  podUid: 'uid-1',
  container: 'app',
  restart: 0,
  path: '/var/log/pods/x/app/0.log',
  fileKey: 'k',
  ...over,
});

describe('topic and key selection', () => {
  it('uses the cluster topic unless topics are per namespace', () => {
    expect(topicFor(source('shop'), { topic: 'vigil-logs' })).toBe('vigil-logs');
    expect(topicFor(source('shop'), { topic: 'vigil-logs', perNamespace: false })).toBe('vigil-logs');
    expect(topicFor(source('shop'), { topic: 'vigil-logs', perNamespace: true })).toBe('vigil-logs.shop');
  });

  it('keeps namespaces that cannot name a topic safely on the cluster topic', () => {
    const opts = { topic: 'vigil-logs', perNamespace: true };
    for (const ns of ['', 'dlq', 'Shop', 'a_b', 'a.b', '-a', 'a-', 'x'.repeat(64), 'ns/evil']) {
      expect(topicFor(source(ns), opts)).toBe('vigil-logs');
    }
    // The longest legal namespace still fits a 249-character topic name with a short base.
    expect(topicFor(source('x'.repeat(63)), opts)).toBe(`vigil-logs.${'x'.repeat(63)}`);
    expect(topicFor(source('abc'), { topic: 't'.repeat(247), perNamespace: true })).toBe('t'.repeat(247));
  });

  it('keys by pod UID and container, so restarts of a container share a partition', () => {
    expect(messageKey(source('shop'))).toBe('uid-1/app');
    expect(messageKey(source('shop', { restart: 3, fileKey: 'other', node: 'n2' }))).toBe('uid-1/app');
    expect(messageKey(source('shop', { container: 'sidecar' }))).not.toBe(messageKey(source('shop')));
  });

  it('names the dead-letter topic after the base topic', () => {
    expect(deadLetterTopic('vigil-logs')).toBe('vigil-logs.dlq');
  });

  it('recognises the topics the indexer consumes, never the dead letters', () => {
    const per = { topic: 'vigil-logs', perNamespace: true };
    expect(isLogTopic('vigil-logs', per)).toBe(true);
    expect(isLogTopic('vigil-logs.shop', per)).toBe(true);
    expect(isLogTopic('vigil-logs.dlq', per)).toBe(false);
    expect(isLogTopic('vigil-logs.a.b', per)).toBe(false);
    expect(isLogTopic('vigil-logsx', per)).toBe(false);
    expect(isLogTopic('other', per)).toBe(false);
    expect(isLogTopic('vigil-logs.shop', { topic: 'vigil-logs' })).toBe(false);
  });

  it('consumes every topic the sink produces to, and nothing it does not', () => {
    const ns = fc.oneof(fc.stringMatching(/^[a-z0-9-]{0,70}$/), fc.string({ maxLength: 10 }));
    fc.assert(
      fc.property(ns, fc.boolean(), (namespace, perNamespace) => {
        const opts = { topic: 'vigil-logs', perNamespace };
        const topic = topicFor(source(namespace), opts);
        expect(isLogTopic(topic, opts)).toBe(true);
        expect(topic).not.toBe(deadLetterTopic(opts.topic));
        expect(() => validateTopic(topic)).not.toThrow();
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses topic names Kafka would refuse', () => {
    expect(() => validateTopic('vigil-logs')).not.toThrow();
    for (const bad of ['', 'a b', 'a/b', '.', '..', 'x'.repeat(250), 'ü']) expect(() => validateTopic(bad)).toThrow(/topic/);
  });
});
