/**
 * Generates the configuration reference (docs/configuration.md) from the schema, so the document
 * can never describe a key the loader does not accept. A test compares the file with this output.
 */
import { ConfigSchema, ENV_OVERRIDES } from './schema.js';

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  const?: unknown;
  default?: unknown;
  description?: string;
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  pattern?: string;
  minimum?: number;
  'x-vigil-kind'?: string;
}

function typeName(s: JsonSchema, defs: Record<string, JsonSchema>): string {
  if (s.$ref !== undefined) return s.$ref.replace(/^#\/\$defs\//, '').replace(/^/, '<').replace(/$/, '>');
  if (s.$defs !== undefined && s.$ref === undefined) return typeName(resolve(s, defs), defs);
  if (s['x-vigil-kind'] === 'duration') return 'duration';
  if (s['x-vigil-kind'] === 'size') return 'size';
  if (s.anyOf?.every((a) => a.const !== undefined)) return s.anyOf.map((a) => JSON.stringify(a.const)).join(' | ');
  if (s.type === 'array') return `list of ${typeName(s.items ?? {}, defs)}`;
  if (s.type === 'object') return 'section';
  return s.type ?? 'any';
}

function resolve(s: JsonSchema, defs: Record<string, JsonSchema>): JsonSchema {
  if (s.$defs !== undefined) {
    Object.assign(defs, s.$defs);
    const name = s.$ref?.replace(/^#\/\$defs\//, '') ?? Object.keys(s.$defs)[0]!;
    return s.$defs[name]!;
  }
  return s;
}

function defaultText(s: JsonSchema): string {
  if (s.default === undefined) return '';
  if (typeof s.default === 'object' && s.default !== null && !Array.isArray(s.default)) return '';
  return `\`${JSON.stringify(s.default)}\``;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function rows(s: JsonSchema, prefix: string, defs: Record<string, JsonSchema>, out: string[], seen: Set<string>): void {
  const node = resolve(s, defs);
  const required = new Set(node.required ?? []);
  for (const [key, raw] of Object.entries(node.properties ?? {})) {
    const child = resolve(raw, defs);
    const path = prefix === '' ? key : `${prefix}.${key}`;
    const isSection = child.type === 'object' && child.properties !== undefined;
    const req = required.has(key) && raw.default === undefined && child.default === undefined ? 'yes' : '';
    out.push(
      `| \`${path}\` | ${escapeCell(typeName(raw.$defs ? child : raw, defs))} | ${escapeCell(defaultText(child))} | ${req} | ${escapeCell(child.description ?? '')} |`,
    );
    if (isSection) {
      const name = raw.$defs ? Object.keys(raw.$defs)[0]! : '';
      if (name !== '') {
        if (seen.has(name)) continue;
        seen.add(name);
      }
      rows(child, path, defs, out, seen);
    } else if (child.type === 'array' && child.items?.type === 'object') {
      rows(child.items, `${path}[]`, defs, out, seen);
    } else if (child.type === 'array' && child.items?.$ref !== undefined) {
      out.push(`| \`${path}[]\` | ${escapeCell(typeName(child.items, defs))} |  |  | Same keys as its parent route, recursively. |`);
    }
  }
}

export function configReference(): string {
  const out: string[] = [];
  out.push('# Configuration reference');
  out.push('');
  out.push('<!-- Generated from config/schema.ts by `npm run docs:config`; a test fails when it is stale. -->');
  out.push('');
  out.push('Vigil reads one YAML file (`vigil --config FILE`). Every key is optional; unknown keys are');
  out.push('errors. Durations use Prometheus syntax (`30s`, `5m`, `1h30m`, `7d`). Validate a file with');
  out.push('`vigil check config FILE`; reload a running process with `SIGHUP` or `POST /-/reload`.');
  out.push('');
  out.push('## Environment variables');
  out.push('');
  out.push('They override the file; command-line flags (`--listen`, `--data-dir`) override both.');
  out.push('');
  out.push('| variable | sets |');
  out.push('|---|---|');
  for (const [name, key] of Object.entries(ENV_OVERRIDES)) out.push(`| \`${name}\` | \`${key}\` |`);
  out.push('');
  out.push('Secrets can come from files: `storage.sql.password_file`, `storage.logs.elasticsearch.password_file`,');
  out.push('`storage.logs.elasticsearch.api_key_file`, `kafka.sasl.password_file` (paths relative to the config file).');
  out.push('');
  out.push('## Keys');
  out.push('');
  out.push('| key | type | default | required | description |');
  out.push('|---|---|---|---|---|');
  rows(ConfigSchema as unknown as JsonSchema, '', {}, out, new Set());
  out.push('');
  return out.join('\n');
}
