/** The `log_collection` section: which container log files the collector tails and how it ships them. */
import { Type, type Static } from 'typebox';
import { DURATION_PATTERN } from './duration-pattern.js';

const Duration = (description: string, defaultValue: string) =>
  Type.String({ pattern: DURATION_PATTERN, minLength: 1, description, default: defaultValue, 'x-vigil-kind': 'duration' });

export const PodMetadataSchema = Type.Object(
  {
    kubelet_url: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Kubelet base URL whose `/pods` lists this node’s pods (e.g. `https://${NODE_IP}:10250`); ' +
          'pod labels and annotations are added to records and `vigil.io/exclude` is honoured.',
      }),
    ),
    bearer_token_file: Type.String({
      default: '/var/run/secrets/kubernetes.io/serviceaccount/token',
      description: 'Service-account token sent to the kubelet.',
    }),
    insecure_skip_verify: Type.Boolean({ default: false, description: 'Skip TLS verification of the kubelet’s certificate.' }),
    ca_file: Type.Optional(Type.String({ minLength: 1, description: 'CA bundle for the kubelet’s certificate.' })),
    refresh_interval: Duration('How long a fetched pod list is trusted before it is fetched again.', '30s'),
  },
  { additionalProperties: false, description: 'Pod metadata enrichment (optional).', default: {} },
);

export const LogCollectionSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: true, description: 'Tail container logs (roles `all` and `collector`).' }),
    pods_root: Type.String({
      default: '/var/log/pods',
      minLength: 1,
      description: 'Root of `<namespace>_<pod>_<uid>/<container>/<restart>.log`. Env: `VIGIL_PODS_LOG_ROOT`.',
    }),
    extra_globs: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: 'Further log files to tail, e.g. files containers write to hostPath or emptyDir volumes.',
    }),
    node_name: Type.Optional(
      Type.String({ minLength: 1, description: 'Node name put on every record. Env: `VIGIL_NODE_NAME`; default: the host name.' }),
    ),
    multiline: Type.Union([Type.Literal('auto'), Type.Literal('off'), Type.Object({ first_line: Type.String({ minLength: 1 }) }, { additionalProperties: false })], {
      default: 'auto',
      description:
        'Joining of multi-line records: `auto` (Java, Go and Python stack traces), `off`, or `{first_line: RE2}` where every line not matching starts no new record.',
    }),
    multiline_flush: Duration('A pending multi-line record is emitted after this long without a continuation line.', '1s'),
    max_record_bytes: Type.Integer({ default: 1024 * 1024, minimum: 1024, description: 'Largest joined record; longer ones are split.' }),
    rate_limit: Type.Optional(
      Type.Object(
        {
          lines_per_second: Type.Number({ exclusiveMinimum: 0, description: 'Sustained lines per second per container.' }),
          burst: Type.Integer({ minimum: 1, description: 'Lines a container may write at once above the rate.' }),
        },
        { additionalProperties: false, description: 'Per-container rate limit; reading of a container over it is held back, not dropped.' },
      ),
    ),
    max_queue_bytes: Type.Integer({
      default: 16 * 1024 * 1024,
      minimum: 64 * 1024,
      description: 'Bytes read but not yet acknowledged by the sink; when full, reading pauses.',
    }),
    topic_per_namespace: Type.Boolean({
      default: false,
      description: 'With Kafka: one topic per namespace (`<topic>.<namespace>`) instead of one per cluster.',
    }),
    pod_metadata: PodMetadataSchema,
  },
  { additionalProperties: false, description: 'Container log collection.', default: {} },
);

export type LogCollectionConfig = Static<typeof LogCollectionSchema>;
