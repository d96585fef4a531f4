/**
 * Loading a configuration: YAML → environment overrides → defaults → schema → semantic checks →
 * secrets from files. Every failure is a `ConfigError` listing all problems found, each with file,
 * line and key path; nothing is half-applied because the result is a fresh object.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseDocument, isMap, isScalar, type Document } from 'yaml';
import { Value } from 'typebox/value';
import { ConfigSchema, ENV_OVERRIDES, type Config, type EnvOverride } from './schema.js';
import { ConfigError, formatPath, type ConfigProblem } from './errors.js';
import { validateSemantics } from './validate.js';
import { DURATION_PATTERN } from './duration-pattern.js';
import { BYTE_SIZE_PATTERN } from '../model/bytesize.js';

export interface LoadOptions {
  /** Config file; when absent the built-in defaults (plus environment) are used. */
  readonly file?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Command-line flags, which win over the environment and the file. */
  readonly flags?: { readonly listen?: string; readonly dataDir?: string };
}

export interface LoadedConfig {
  readonly config: Config;
  /** The file it came from, or '' for built-in defaults. */
  readonly file: string;
  /** The YAML text as read, for `/api/v1/status/config` (secrets are redacted there). */
  readonly source: string;
}

/** The name used in messages when no file was given. */
export const DEFAULTS_NAME = '<defaults>';

export async function loadConfig(opts: LoadOptions = {}): Promise<LoadedConfig> {
  let text = '';
  if (opts.file !== undefined) {
    try {
      text = await readFile(opts.file, 'utf8');
    } catch (err) {
      throw new ConfigError(opts.file, [{ path: '', message: `cannot read config file: ${(err as Error).message}` }]);
    }
  }
  const config = await parseConfig(text, { ...opts, file: opts.file ?? DEFAULTS_NAME });
  return { config, file: opts.file ?? '', source: text };
}

interface ParseOptions extends LoadOptions {
  readonly file: string;
}

/** Parses and validates config text; `opts.file` is used in messages and to resolve `*_file` paths. */
export async function parseConfig(text: string, opts: ParseOptions): Promise<Config> {
  const file = opts.file;
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const pos = lines.linePos(e.pos[0]);
        return { path: '', message: `YAML: ${e.message.split('\n')[0]}`, line: pos.line, column: pos.col };
      }),
    );
  }
  let raw: unknown;
  try {
    // toJS resolves aliases; it throws on a dangling alias or an alias bomb (maxAliasCount).
    raw = doc.toJS({ maxAliasCount: 1000 }) ?? {};
  } catch (err) {
    throw new ConfigError(file, [{ path: '', message: `YAML: ${(err as Error).message}` }]);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(file, [{ path: '', message: 'the top level must be a mapping of sections' }]);
  }
  const locate = (segments: readonly (string | number)[]): Pick<ConfigProblem, 'line' | 'column'> =>
    locateKey(doc, lines, segments);

  const data = raw as Record<string, unknown>;
  applyEnvOverrides(data, opts.env ?? {});
  applyFlags(data, opts.flags ?? {});

  const withDefaults = Value.Default(ConfigSchema, data);
  const schemaProblems = schemaErrors(withDefaults, locate);
  if (schemaProblems.length > 0) throw new ConfigError(file, schemaProblems);
  const config = withDefaults as Config;

  deriveDefaults(config);
  const semantic = validateSemantics(config).map((p) => ({ ...p, ...locate(pathSegments(p.path)) }));
  if (semantic.length > 0) throw new ConfigError(file, semantic);

  const baseDir = file === DEFAULTS_NAME ? process.cwd() : path.dirname(path.resolve(file));
  const secretProblems = await resolveSecrets(config, baseDir);
  if (secretProblems.length > 0) {
    throw new ConfigError(
      file,
      secretProblems.map((p) => ({ ...p, ...locate(pathSegments(p.path)) })),
    );
  }
  return config;
}

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let node = target;
  for (const k of keys.slice(0, -1)) {
    const next = node[k];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[k] = {};
    node = node[k] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}

function applyEnvOverrides(data: Record<string, unknown>, env: Readonly<Record<string, string | undefined>>): void {
  for (const name of Object.keys(ENV_OVERRIDES) as EnvOverride[]) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    if (name === 'VIGIL_KAFKA_BROKERS') {
      setPath(data, ENV_OVERRIDES[name], value.split(',').map((s) => s.trim()).filter(Boolean));
    } else {
      setPath(data, ENV_OVERRIDES[name], value);
    }
    // Pointing Vigil at Elasticsearch from the environment is how compose and Kubernetes select it.
    if (name === 'VIGIL_ELASTICSEARCH_URL') setPath(data, 'storage.logs.store', 'elasticsearch');
  }
}

function applyFlags(data: Record<string, unknown>, flags: NonNullable<LoadOptions['flags']>): void {
  if (flags.listen !== undefined) setPath(data, 'server.listen', flags.listen);
  if (flags.dataDir !== undefined) setPath(data, 'server.data_dir', flags.dataDir);
}

function deriveDefaults(cfg: Config): void {
  if (cfg.storage.sql.url === undefined) {
    cfg.storage.sql.url = `sqlite:${path.join(cfg.server.data_dir, 'vigil.db')}`;
  }
}

interface SchemaError {
  readonly keyword: string;
  readonly instancePath: string;
  readonly schemaPath: string;
  readonly params: Record<string, unknown>;
  readonly message: string;
}

function schemaErrors(
  value: unknown,
  locate: (segments: readonly (string | number)[]) => Pick<ConfigProblem, 'line' | 'column'>,
): ConfigProblem[] {
  const errors = [...Value.Errors(ConfigSchema, value)] as unknown as SchemaError[];
  const byPath = new Map<string, ConfigProblem>();
  const literalChoices = new Map<string, unknown[]>();
  for (const e of errors) {
    const segments = pointerSegments(e.instancePath);
    const key = formatPath(segments);
    if (e.keyword === 'const') {
      // A union of literals reports one error per alternative; fold them into one message.
      const list = literalChoices.get(key) ?? [];
      list.push(e.params.allowedValue);
      literalChoices.set(key, list);
      continue;
    }
    if (e.keyword === 'additionalProperties') continue; // the per-key "schema is false" errors name the key
    let message = e.message;
    if (e.keyword === 'boolean') message = 'unknown key';
    else if (e.keyword === 'pattern') message = patternMessage(e.params.pattern, valueAt(value, segments)) ?? message;
    else if (e.keyword === 'required') {
      const missing = e.params.requiredProperties ?? e.params.missingProperty;
      message = `missing required key ${Array.isArray(missing) ? missing.join(', ') : String(missing)}`;
    } else if (e.keyword === 'anyOf' && literalChoices.has(key)) {
      message = `must be one of ${literalChoices.get(key)!.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(valueAt(value, segments))}`;
    }
    if (!byPath.has(key)) byPath.set(key, { path: key, message, ...locate(segments) });
  }
  return [...byPath.values()];
}

/** What a value that fails a pattern should have looked like, by the kind of value the pattern is for. */
function patternMessage(pattern: unknown, actual: unknown): string | undefined {
  if (pattern === DURATION_PATTERN) return `not a valid duration ${JSON.stringify(actual)} (use e.g. 30s, 5m, 1h30m, 7d)`;
  if (pattern === BYTE_SIZE_PATTERN) return `not a valid size ${JSON.stringify(actual)} (use e.g. 512MB, 2GB; 0 for no limit)`;
  return undefined;
}

function valueAt(value: unknown, segments: readonly (string | number)[]): unknown {
  let node = value;
  for (const s of segments) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string | number, unknown>)[s];
  }
  return node;
}

function pointerSegments(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** `a.b[0].c` → `['a', 'b', 0, 'c']` */
function pathSegments(dotted: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const part of dotted.split('.')) {
    const m = /^([^[]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) {
      out.push(part);
      continue;
    }
    if (m[1] !== '') out.push(m[1]!);
    for (const idx of m[2]!.matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out;
}

/** Line and column of the deepest existing node along the key path, for messages. */
function locateKey(
  doc: Document,
  lines: LineCounter,
  segments: readonly (string | number)[],
): Pick<ConfigProblem, 'line' | 'column'> {
  for (let n = segments.length; n > 0; n--) {
    const prefix = segments.slice(0, n);
    const parent = n > 1 ? doc.getIn(prefix.slice(0, -1), true) : doc.contents;
    const last = prefix[prefix.length - 1];
    if (isMap(parent)) {
      const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === last);
      const range = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
      if (range) {
        const pos = lines.linePos(range[0]);
        return { line: pos.line, column: pos.col };
      }
    }
    const node = doc.getIn(prefix, true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) {
      const pos = lines.linePos(node.range[0]);
      return { line: pos.line, column: pos.col };
    }
  }
  return {};
}

async function readSecret(file: string, baseDir: string): Promise<string> {
  return (await readFile(path.resolve(baseDir, file), 'utf8')).trim();
}

async function resolveSecrets(cfg: Config, baseDir: string): Promise<ConfigProblem[]> {
  const problems: ConfigProblem[] = [];
  const load = async (p: string, file: string | undefined, apply: (secret: string) => void): Promise<void> => {
    if (file === undefined) return;
    try {
      apply(await readSecret(file, baseDir));
    } catch (err) {
      problems.push({ path: p, message: `cannot read secret: ${(err as Error).message}` });
    }
  };
  const es = cfg.storage.logs.elasticsearch;
  await load('storage.logs.elasticsearch.password_file', es.password_file, (s) => (es.password = s));
  await load('storage.logs.elasticsearch.api_key_file', es.api_key_file, (s) => (es.api_key = s));
  const sasl = cfg.kafka.sasl;
  if (sasl) await load('kafka.sasl.password_file', sasl.password_file, (s) => (sasl.password = s));
  const sql = cfg.storage.sql;
  await load('storage.sql.password_file', sql.password_file, (secret) => {
    if (!sql.url!.startsWith('mysql://') && !sql.url!.startsWith('mariadb://')) {
      throw new Error('password_file applies to MySQL URLs only');
    }
    const u = new URL(sql.url!);
    u.password = encodeURIComponent(secret);
    sql.url = u.toString();
  });
  return problems;
}
