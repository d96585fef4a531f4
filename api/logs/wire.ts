/**
 * JSON shapes of the Vigil log API, as TypeBox schemas (serialisation and documentation) and the
 * functions that produce them. Nanosecond times travel as decimal strings: JSON numbers lose
 * precision past 2^53.
 */
import { Type, type Static } from 'typebox';
import { formatTimeNs } from '../../model/logs.js';
import type { LogStreamInfo, StoredLogRecord } from '../../storage/logs/interface.js';

export const LogRecordJson = Type.Object({
  id: Type.String({ description: 'Stable record id; the anchor for /context.' }),
  time: Type.String({ description: 'RFC 3339 with nanoseconds.' }),
  timeNs: Type.String({ description: 'Epoch nanoseconds, decimal.' }),
  namespace: Type.String(),
  pod: Type.String(),
  podUid: Type.String(),
  container: Type.String(),
  node: Type.String(),
  stream: Type.String({ description: 'stdout or stderr.' }),
  level: Type.String(),
  line: Type.String({ description: 'The line after the query pipeline (line_format may change it).' }),
  labels: Type.Record(Type.String(), Type.String(), { description: 'Stream labels and labels the pipeline extracted.' }),
});
export type LogRecordJson = Static<typeof LogRecordJson>;

export function streamLabelsOf(r: StoredLogRecord): Record<string, string> {
  return { namespace: r.namespace, pod: r.pod, container: r.container, node: r.node, stream: r.stream };
}

export function recordJson(r: StoredLogRecord, line: string = r.message, labels: Readonly<Record<string, string>> = streamLabelsOf(r)): LogRecordJson {
  return {
    id: r.id,
    time: formatTimeNs(r.timeNs),
    timeNs: r.timeNs.toString(),
    namespace: r.namespace,
    pod: r.pod,
    podUid: r.podUid,
    container: r.container,
    node: r.node,
    stream: r.stream,
    level: r.level,
    line,
    labels: { ...labels },
  };
}

export const SearchResponse = Type.Object({
  records: Type.Array(LogRecordJson),
  nextCursor: Type.Optional(Type.String({ description: 'Pass as `cursor` for the next page; absent at the end.' })),
});

export const ContextResponse = Type.Object({
  anchor: LogRecordJson,
  before: Type.Array(LogRecordJson, { description: 'Oldest first, ending just before the anchor.' }),
  after: Type.Array(LogRecordJson, { description: 'Oldest first, starting just after the anchor.' }),
});

export const VolumeResponse = Type.Object({
  stepNs: Type.String(),
  buckets: Type.Array(Type.Object({ start: Type.String(), startNs: Type.String(), count: Type.Integer() })),
});

const Seen = {
  firstSeen: Type.String({ description: 'RFC 3339: first record in the range.' }),
  lastSeen: Type.String({ description: 'RFC 3339: last record in the range.' }),
};

export const StreamJson = Type.Object({
  namespace: Type.String(),
  pod: Type.String(),
  podUid: Type.String(),
  container: Type.String(),
  node: Type.String(),
  ...Seen,
});

export function streamJson(s: LogStreamInfo): Static<typeof StreamJson> {
  return {
    namespace: s.namespace,
    pod: s.pod,
    podUid: s.podUid,
    container: s.container,
    node: s.node,
    firstSeen: formatTimeNs(s.firstSeenNs),
    lastSeen: formatTimeNs(s.lastSeenNs),
  };
}

export const StreamsResponse = Type.Object({ streams: Type.Array(StreamJson) });

const ContainerJson = Type.Object({ container: Type.String(), ...Seen });
const PodJson = Type.Object({
  pod: Type.String(),
  podUid: Type.String(),
  node: Type.String(),
  ...Seen,
  containers: Type.Array(ContainerJson),
});
export const LabelsResponse = Type.Object({
  namespaces: Type.Array(Type.Object({ namespace: Type.String(), ...Seen, pods: Type.Array(PodJson) })),
});
export type LabelsResponse = Static<typeof LabelsResponse>;

interface Span {
  first: bigint;
  last: bigint;
}

function widen(span: Span, s: LogStreamInfo): void {
  if (s.firstSeenNs < span.first) span.first = s.firstSeenNs;
  if (s.lastSeenNs > span.last) span.last = s.lastSeenNs;
}

/**
 * Namespaces → pod instances (by UID, so a replaced replica of the same name is its own entry) →
 * containers, each with first and last seen. `streams` arrive sorted by namespace, pod, container.
 */
export function labelTree(streams: readonly LogStreamInfo[]): LabelsResponse {
  const namespaces = new Map<string, Span & { pods: Map<string, Span & { pod: string; node: string; containers: Map<string, Span> }> }>();
  for (const s of streams) {
    let ns = namespaces.get(s.namespace);
    if (!ns) namespaces.set(s.namespace, (ns = { first: s.firstSeenNs, last: s.lastSeenNs, pods: new Map() }));
    widen(ns, s);
    let pod = ns.pods.get(s.podUid);
    if (!pod) ns.pods.set(s.podUid, (pod = { pod: s.pod, node: s.node, first: s.firstSeenNs, last: s.lastSeenNs, containers: new Map() }));
    widen(pod, s);
    const c = pod.containers.get(s.container);
    if (!c) pod.containers.set(s.container, { first: s.firstSeenNs, last: s.lastSeenNs });
    else widen(c, s);
  }
  const seen = (x: Span) => ({ firstSeen: formatTimeNs(x.first), lastSeen: formatTimeNs(x.last) });
  return {
    namespaces: [...namespaces].map(([namespace, ns]) => ({
      namespace,
      ...seen(ns),
      pods: [...ns.pods].map(([podUid, p]) => ({
        pod: p.pod,
        podUid,
        node: p.node,
        ...seen(p),
        containers: [...p.containers].map(([container, c]) => ({ container, ...seen(c) })),
      })),
    })),
  };
}
