/**
 * A real HTTP server that checks every request against Elastic's OpenAPI description of the
 * Elasticsearch REST API, records each violation with the request that caused it, and answers
 * with canned responses the test chooses. Elasticsearch cannot run where these tests run; this is
 * the closest check that what the adapter sends is what Elasticsearch accepts.
 *
 * It is a validator with programmable responses, not an imitation of Elasticsearch: it never
 * interprets a query. What it checks, per request:
 * - the operation: method + path template (`/{index}/_search`, `/_bulk`, …); literal segments
 *   win over parameters, as in Elasticsearch's router;
 * - path and query parameters: known names, values of the declared types and enums (query
 *   strings are text, so `true`, `10` and `a,b` are also read as boolean, number and list);
 * - the JSON body against the operation's request-body schema (ajv);
 * - NDJSON bodies (`_bulk`): each action line against the bulk operation container, each source
 *   line an object, the final newline, and a target index for every action.
 *
 * The description is OpenAPI 3.0 as generated from elasticsearch-specification, which needs some
 * reading to be usable by a JSON Schema validator:
 * - `oneOf` is read as `anyOf`: the generator emits `oneOf` for TypeScript unions whose members
 *   overlap (`FieldValue` lists `number` twice; a date range matches several range variants);
 * - objects are closed (`additionalProperties: false`) where the description lists properties,
 *   because Elasticsearch refuses unknown keys in nearly every request object (`[bool] unknown
 *   field [filtr]`); without that, a misspelt key would pass. `allOf` inheritance chains are
 *   merged first, so a closed base does not refuse its subclass's properties;
 * - a few objects are opened or completed by hand (`OPEN_SCHEMAS`, `PATCHES`): those whose
 *   TypeScript type has an "additional property" (a field name as key, e.g. `terms` and field
 *   sorts), which the generator drops;
 * - `discriminator` is ignored (the alternatives are tried instead); `nullable` is handled by ajv.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { PACKAGE_ROOT } from '../../util/build-info.js';

export const DEFAULT_SPEC_PATH = path.resolve(PACKAGE_ROOT, '../shared/reference/elasticsearch/elasticsearch-serverless-openapi.json');

type Schema = { [key: string]: unknown };

interface OpenApiParameter {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header' | 'cookie';
  readonly required?: boolean;
  readonly schema?: Schema;
}

interface OpenApiOperation {
  readonly operationId: string;
  readonly parameters?: ReadonlyArray<OpenApiParameter | { $ref: string }>;
  readonly requestBody?: { $ref: string } | { content?: Record<string, { schema?: Schema }>; required?: boolean };
  readonly responses?: Record<string, { $ref: string } | { content?: Record<string, { schema?: Schema }> }>;
}

interface OpenApiSpec {
  readonly paths: Record<string, Record<string, OpenApiOperation>>;
  readonly components: {
    readonly schemas: Record<string, Schema>;
    readonly parameters: Record<string, OpenApiParameter>;
    readonly requestBodies: Record<string, { content?: Record<string, { schema?: Schema }>; required?: boolean }>;
    readonly responses: Record<string, { content?: Record<string, { schema?: Schema }> }>;
  };
}

/** A request as the server received and understood it. */
export interface EsRequest {
  readonly method: string;
  /** Path and query string as sent. */
  readonly url: string;
  /** Path without the query string, still percent-encoded. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: IncomingHttpHeaders;
  /** The operation, e.g. `search-3`; undefined when none matches. */
  readonly operationId?: string;
  /** `operationId` without the numeric suffix Elastic adds per path variant: `search`, `bulk`. */
  readonly operation?: string;
  readonly pathTemplate?: string;
  readonly pathParams: Readonly<Record<string, string>>;
  readonly rawBody: string;
  /** The parsed JSON body, for JSON operations. */
  readonly body?: unknown;
  /** The parsed lines of an NDJSON body (`_bulk`). */
  readonly ndjson?: readonly unknown[];
}

export interface EsViolation {
  /** `METHOD url` of the offending request. */
  readonly request: string;
  readonly operationId?: string;
  /** Which part: `path`, `query.size`, `body/query/bool/filter/0`, `ndjson line 3`, … */
  readonly where: string;
  readonly message: string;
}

export interface CannedResponse {
  readonly status?: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export type Responder = (req: EsRequest) => CannedResponse | Promise<CannedResponse>;

/** Objects whose TypeScript type takes a field name as an extra key; the generator drops that key. */
const OPEN_SCHEMAS = new Set([
  '_types.query_dsl.GeoBoundingBoxQuery',
  '_types.query_dsl.GeoDistanceQuery',
  '_types.query_dsl.GeoPolygonQuery',
  '_types.query_dsl.GeoShapeQuery',
  '_types.query_dsl.ShapeQuery',
  '_types.GeoDistanceSort',
  '_types.query_dsl.UntypedDecayFunction',
  '_types.query_dsl.DateDecayFunction',
  '_types.query_dsl.NumericDecayFunction',
  '_types.query_dsl.GeoDecayFunction',
]);

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

/**
 * Completions of schemas the generator left without their field-name key, from the client's
 * TypeScript types (`@elastic/elasticsearch` `lib/api/types.d.ts`: `SortOptions`, `FieldSort`,
 * `QueryDslTermsQuery`).
 */
const PATCHES: Record<string, (s: Schema) => Schema> = {
  '_types.SortOptions': (s) => ({
    ...s,
    additionalProperties: {
      anyOf: [
        ref('_types.SortOrder'),
        {
          type: 'object',
          properties: {
            missing: ref('_types.aggregations.Missing'),
            mode: ref('_types.SortMode'),
            nested: ref('_types.NestedSortValue'),
            order: ref('_types.SortOrder'),
            unmapped_type: { type: 'string' },
            numeric_type: { type: 'string', enum: ['long', 'double', 'date', 'date_nanos'] },
            format: { type: 'string' },
          },
        },
      ],
    },
  }),
  '_types.query_dsl.TermsQuery': (s) => ({
    ...s,
    additionalProperties: { anyOf: [{ type: 'array', items: ref('_types.FieldValue') }, { type: 'object' }] },
  }),
};

/** Options every Elasticsearch REST endpoint accepts ("Common options" of the REST API docs). */
const COMMON_QUERY_PARAMETERS: Record<string, Schema> = {
  pretty: { type: 'boolean' },
  human: { type: 'boolean' },
  error_trace: { type: 'boolean' },
  filter_path: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
};

/** Marks merged objects that must have exactly one of the listed keys (see `#mergeAllOf`). */
const EXACTLY_ONE = '$exactlyOneOf';

const DOC_KEYS = new Set(['description', 'externalDocs', 'examples', 'example', 'summary', 'title', 'deprecated', 'discriminator', 'default']);
const OBJECT_SHAPE_KEYS = new Set(['type', 'properties', 'required', 'allOf', 'minProperties', 'maxProperties', 'additionalProperties']);

/**
 * Rewrites the description's schemas into JSON Schema ajv reads with the meaning described at the
 * top of this file. `closed` decides whether listed properties are the only ones allowed.
 */
class SchemaReader {
  readonly #spec: OpenApiSpec;
  readonly #closed: boolean;

  constructor(spec: OpenApiSpec, closed: boolean) {
    this.#spec = spec;
    this.#closed = closed;
  }

  component(name: string): Schema {
    const raw = this.#spec.components.schemas[name];
    if (raw === undefined) throw new Error(`OpenAPI description has no schema ${name}`);
    const patched = PATCHES[name]?.(raw) ?? raw;
    return this.schema(patched, OPEN_SCHEMAS.has(name));
  }

  schema(s: unknown, open = false): Schema {
    if (typeof s !== 'object' || s === null || Array.isArray(s)) return s as Schema;
    const src = s as Schema;
    if (typeof src.$ref === 'string') return { $ref: src.$ref };
    if (Array.isArray(src.allOf) && src.allOf.length > 1) {
      const merged = this.#mergeAllOf(src);
      if (merged !== undefined) return this.schema(merged.schema, open || merged.open);
    }
    const out: Schema = {};
    for (const [key, value] of Object.entries(src)) {
      if (DOC_KEYS.has(key) || key.startsWith('x-')) continue;
      switch (key) {
        case 'properties':
          out.properties = Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, this.schema(v)]));
          break;
        case 'items':
        case 'not':
          out[key] = this.schema(value);
          break;
        case 'additionalProperties':
          out.additionalProperties = typeof value === 'boolean' ? value : this.schema(value);
          break;
        case 'allOf':
        case 'anyOf':
          out[key] = (value as unknown[]).map((v) => this.schema(v));
          break;
        case 'oneOf':
          out.anyOf = (value as unknown[]).map((v) => this.schema(v));
          break;
        case EXACTLY_ONE:
          out.oneOf = (value as string[]).map((k) => ({ required: [k] }));
          break;
        default:
          out[key] = value;
      }
    }
    if (this.#closed && !open && out.properties !== undefined && out.additionalProperties === undefined) out.additionalProperties = false;
    return out;
  }

  #resolve(s: Schema): { schema: Schema; name?: string } {
    let name: string | undefined;
    let cur = s;
    while (typeof cur.$ref === 'string') {
      name = cur.$ref.replace('#/components/schemas/', '');
      const next = this.#spec.components.schemas[name];
      if (next === undefined) throw new Error(`OpenAPI description has no schema ${name}`);
      cur = PATCHES[name]?.(next) ?? next;
    }
    return { schema: cur, ...(name !== undefined && { name }) };
  }

  /**
   * `allOf` of object shapes (an inheritance chain) as one object: properties and required
   * merged. Undefined when a member is something else, which the description does not contain
   * today; the `allOf` is then kept as it is.
   */
  #mergeAllOf(src: Schema): { schema: Schema; open: boolean } | undefined {
    const properties: Record<string, unknown[]> = {};
    const required = new Set<string>();
    let open = false;
    let additional: unknown;
    let exactlyOne: string[] | undefined;
    const rest: Schema = {};
    const visit = (member: Schema, depth: number): boolean => {
      if (depth > 32) return false;
      const { schema, name } = this.#resolve(member);
      if (name !== undefined && OPEN_SCHEMAS.has(name)) open = true;
      for (const key of Object.keys(schema)) {
        if (!OBJECT_SHAPE_KEYS.has(key) && !DOC_KEYS.has(key) && !key.startsWith('x-')) return false;
      }
      if (schema.type !== undefined && schema.type !== 'object') return false;
      if (schema.additionalProperties !== undefined) {
        if (additional !== undefined) return false;
        additional = schema.additionalProperties;
      }
      for (const [k, v] of Object.entries((schema.properties as Record<string, unknown> | undefined) ?? {})) (properties[k] ??= []).push(v);
      for (const r of (schema.required as string[] | undefined) ?? []) required.add(r);
      if (schema.maxProperties === 1 && schema.properties !== undefined) {
        // A variant container (`AggregationContainer`: one aggregation kind, beside the common
        // `aggregations` and `meta`): the limit counts the member's own keys, not the merged object's.
        exactlyOne = Object.keys(schema.properties as object);
      } else {
        if (schema.minProperties !== undefined) rest.minProperties = schema.minProperties;
        if (schema.maxProperties !== undefined) rest.maxProperties = schema.maxProperties;
      }
      for (const m of (schema.allOf as Schema[] | undefined) ?? []) if (!visit(m, depth + 1)) return false;
      return true;
    };
    if (!visit(src, 0)) return undefined;
    const merged: Schema = {
      type: 'object',
      properties: Object.fromEntries(Object.entries(properties).map(([k, vs]) => [k, vs.length === 1 ? vs[0] : { allOf: vs }])),
      ...rest,
      ...(required.size > 0 && { required: [...required] }),
      ...(additional !== undefined && { additionalProperties: additional }),
      ...(exactlyOne !== undefined && { [EXACTLY_ONE]: exactlyOne }),
    };
    return { schema: merged, open };
  }
}

/** A JSON pointer segment. */
function pointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

interface CompiledOperation {
  readonly method: string;
  readonly template: string;
  readonly segments: readonly string[];
  readonly op: OpenApiOperation;
  readonly params: ReadonlyMap<string, OpenApiParameter>;
}

const SPEC_CACHE = new Map<string, OpenApiSpec>();

/** Validation of requests (and canned responses) against one OpenAPI description. */
export class EsOpenApiValidator {
  readonly #spec: OpenApiSpec;
  readonly #operations: CompiledOperation[] = [];
  readonly #ajv: Ajv;
  readonly #compiled = new Map<string, ValidateFunction>();

  constructor(specPath: string = DEFAULT_SPEC_PATH) {
    let spec = SPEC_CACHE.get(specPath);
    if (spec === undefined) {
      spec = JSON.parse(readFileSync(specPath, 'utf8')) as OpenApiSpec;
      SPEC_CACHE.set(specPath, spec);
    }
    this.#spec = spec;
    for (const [template, methods] of Object.entries(spec.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const params = new Map<string, OpenApiParameter>();
        for (const p of op.parameters ?? []) {
          const param = '$ref' in p ? spec.components.parameters[p.$ref.replace('#/components/parameters/', '')] : p;
          if (param) params.set(`${param.in}:${param.name}`, param);
        }
        this.#operations.push({ method: method.toUpperCase(), template, segments: template.split('/').slice(1), op, params });
      }
    }
    // Elasticsearch's router prefers literal segments over parameters, leftmost first.
    const literalRank = (o: CompiledOperation) => o.segments.map((s) => (s.startsWith('{') ? '1' : '0')).join('');
    this.#operations.sort((a, b) => (literalRank(a) < literalRank(b) ? -1 : literalRank(a) > literalRank(b) ? 1 : 0));

    this.#ajv = new Ajv({ strict: false, allErrors: false, validateSchema: false });
    for (const closed of [true, false]) {
      const reader = new SchemaReader(spec, closed);
      const schemas = Object.fromEntries(Object.keys(spec.components.schemas).map((name) => [name, reader.component(name)]));
      const section = <T extends { content?: Record<string, { schema?: Schema }> }>(entries: Record<string, T>) =>
        Object.fromEntries(
          Object.entries(entries).map(([name, e]) => [
            name,
            { content: Object.fromEntries(Object.entries(e.content ?? {}).map(([type, c]) => [type, { schema: reader.schema(c.schema ?? {}) }])) },
          ]),
        );
      const inlinePaths = Object.fromEntries(
        Object.entries(spec.paths).map(([template, methods]) => [
          template,
          Object.fromEntries(
            Object.entries(methods).map(([method, op]) => [
              method,
              {
                params: Object.fromEntries(
                  (op.parameters ?? []).flatMap((p) => {
                    const param = '$ref' in p ? spec.components.parameters[p.$ref.replace('#/components/parameters/', '')] : p;
                    return param ? [[`${param.in}:${param.name}`, { schema: reader.schema(param.schema ?? {}) }]] : [];
                  }),
                ),
                requestBody: 'content' in (op.requestBody ?? {}) ? section({ b: op.requestBody as { content?: Record<string, { schema?: Schema }> } }).b : {},
                responses: section(Object.fromEntries(Object.entries(op.responses ?? {}).filter(([, r]) => 'content' in r)) as Record<string, { content?: Record<string, { schema?: Schema }> }>),
              },
            ]),
          ),
        ]),
      );
      this.#ajv.addSchema(
        {
          $id: closed ? 'es-closed.json' : 'es-open.json',
          components: { schemas, requestBodies: section(spec.components.requestBodies), responses: section(spec.components.responses) },
          paths: inlinePaths,
        },
        closed ? 'es-closed.json' : 'es-open.json',
      );
    }
  }

  /** The operation for a method and (percent-encoded) path, with its decoded path parameters. */
  resolve(method: string, rawPath: string): { operation: CompiledOperation; params: Record<string, string> } | { error: string } {
    const parts: string[] = [];
    for (const raw of rawPath.split('/').slice(1)) {
      try {
        parts.push(decodeURIComponent(raw));
      } catch {
        return { error: `path segment ${JSON.stringify(raw)} is not valid percent-encoding` };
      }
    }
    // The first template that matches decides, whatever the method, as in Elasticsearch's router
    // (`DELETE /_bulk` is a wrong method for `/_bulk`, not a delete of an index named `_bulk`).
    let template: string | undefined;
    for (const o of this.#operations) {
      if (template !== undefined && o.template !== template) continue;
      if (o.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      const matches = o.segments.every((t, i) => {
        if (!t.startsWith('{')) return t === parts[i];
        params[t.slice(1, -1)] = parts[i]!;
        return parts[i] !== '';
      });
      if (!matches) continue;
      template = o.template;
      if (o.method === method) return { operation: o, params };
    }
    return { error: template !== undefined ? `method ${method} is not allowed on ${template}` : `no operation matches ${method} ${rawPath}` };
  }

  #validator(schemaRef: string): ValidateFunction {
    let v = this.#compiled.get(schemaRef);
    if (v === undefined) {
      v = this.#ajv.compile({ $ref: schemaRef });
      this.#compiled.set(schemaRef, v);
    }
    return v;
  }

  /** Problems of `value` against a schema reference (`es-closed.json#/…`), as readable lines. */
  check(schemaRef: string, value: unknown): string[] {
    const v = this.#validator(schemaRef);
    if (v(value)) return [];
    return describeErrors(v.errors ?? []);
  }

  /** The schema reference of an operation's JSON request body, if it has one. */
  requestBodyRef(o: CompiledOperation, closed = true): { ref: string; required: boolean; ndjson: boolean } | undefined {
    const doc = closed ? 'es-closed.json' : 'es-open.json';
    const rb = o.op.requestBody;
    if (rb === undefined) return undefined;
    let base: string;
    let body: { content?: Record<string, { schema?: Schema }>; required?: boolean };
    if ('$ref' in rb) {
      const name = rb.$ref.replace('#/components/requestBodies/', '');
      base = `${doc}#/components/requestBodies/${pointer(name)}`;
      body = this.#spec.components.requestBodies[name]!;
    } else {
      base = `${doc}#/paths/${pointer(o.template)}/${o.method.toLowerCase()}/requestBody`;
      body = rb;
    }
    const schema = body.content?.['application/json']?.schema;
    if (schema === undefined) return undefined;
    return { ref: `${base}/content/application~1json/schema`, required: body.required === true, ndjson: schema.type === 'array' };
  }

  /** Problems of a response body against the operation's schema for that status (open objects). */
  checkResponse(operationId: string, status: number, body: unknown): string[] {
    const o = this.#operations.find((x) => x.op.operationId === operationId);
    if (o === undefined) return [`no operation ${operationId}`];
    const r = o.op.responses?.[String(status)];
    if (r === undefined) return [`operation ${operationId} describes no ${status} response`];
    const ref =
      '$ref' in r
        ? `es-open.json#/components/responses/${pointer(r.$ref.replace('#/components/responses/', ''))}/content/application~1json/schema`
        : `es-open.json#/paths/${pointer(o.template)}/${o.method.toLowerCase()}/responses/${status}/content/application~1json/schema`;
    return this.check(ref, body);
  }

  /** Every violation in one request; also fills in what the request was understood as. */
  validate(req: { method: string; url: string; headers: IncomingHttpHeaders; rawBody: string }): { request: EsRequest; violations: EsViolation[] } {
    const violations: EsViolation[] = [];
    const at = `${req.method} ${req.url}`;
    const url = new URL(req.url, 'http://es.invalid');
    const rawPath = req.url.split('?')[0]!;
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) {
      if (k in query) violations.push({ request: at, where: `query.${k}`, message: 'given more than once' });
      query[k] = v;
    }
    const base = { method: req.method, url: req.url, path: rawPath, query, headers: req.headers, rawBody: req.rawBody };
    const resolved = this.resolve(req.method, rawPath);
    if ('error' in resolved) {
      violations.push({ request: at, where: 'path', message: resolved.error });
      return { request: { ...base, pathParams: {} }, violations };
    }
    const { operation: o, params: pathParams } = resolved;
    const operationId = o.op.operationId;
    const report = (where: string, message: string) => violations.push({ request: at, operationId, where, message });
    const request: { -readonly [K in keyof EsRequest]: EsRequest[K] } = {
      ...base,
      operationId,
      operation: operationId.replace(/-\d+$/, ''),
      pathTemplate: o.template,
      pathParams,
    };

    // Path and query parameters.
    for (const [name, value] of Object.entries(pathParams)) {
      if (!o.params.has(`path:${name}`)) report(`path.${name}`, 'parameter not described');
      else this.#checkValue(this.#paramRef(o, `path:${name}`), value, (m) => report(`path.${name}`, m));
    }
    for (const [name, value] of Object.entries(query)) {
      if (o.params.has(`query:${name}`)) this.#checkValue(this.#paramRef(o, `query:${name}`), value, (m) => report(`query.${name}`, m));
      else if (name in COMMON_QUERY_PARAMETERS) this.#checkValue(COMMON_QUERY_PARAMETERS[name]!, value, (m) => report(`query.${name}`, m));
      else report(`query.${name}`, `unknown parameter for ${operationId}`);
    }
    for (const p of o.params.values()) {
      if (p.required && p.in === 'query' && !(p.name in query)) report(`query.${p.name}`, 'required parameter missing');
    }

    // Body.
    const body = this.requestBodyRef(o);
    const contentType = String(req.headers['content-type'] ?? '');
    if (req.rawBody.length === 0) {
      if (body?.required) report('body', 'required request body missing');
      return { request, violations };
    }
    if (o.op.requestBody === undefined || body === undefined) {
      report('body', `${operationId} takes no request body`);
      return { request, violations };
    }
    if (body.ndjson) {
      if (!/^application\/(x-ndjson|json|vnd\.elasticsearch\+x-ndjson|vnd\.elasticsearch\+json)\b/.test(contentType)) report('header.content-type', `unexpected content type ${JSON.stringify(contentType)} for NDJSON`);
      request.ndjson = this.#checkNdjson(request, body.ref, report);
    } else {
      if (!/^application\/(json|vnd\.elasticsearch\+json)\b/.test(contentType)) report('header.content-type', `unexpected content type ${JSON.stringify(contentType)} for JSON`);
      let parsed: unknown;
      try {
        parsed = JSON.parse(req.rawBody);
      } catch (err) {
        report('body', `not JSON: ${(err as Error).message}`);
        return { request, violations };
      }
      request.body = parsed;
      for (const m of this.check(body.ref, parsed)) report('body', m);
    }
    return { request, violations };
  }

  #paramRef(o: CompiledOperation, key: string): string {
    return `es-closed.json#/paths/${pointer(o.template)}/${o.method.toLowerCase()}/params/${pointer(key)}/schema`;
  }

  /** Query strings are text: a value is valid when the text, or its reading as a boolean, number or comma-separated list, is. */
  #checkValue(schema: string | Schema, value: string, report: (m: string) => void): void {
    let v: ValidateFunction;
    if (typeof schema === 'string') {
      v = this.#validator(schema);
    } else {
      const key = JSON.stringify(schema);
      v = this.#compiled.get(key) ?? this.#ajv.compile(schema);
      this.#compiled.set(key, v);
    }
    const candidates: unknown[] = [value];
    if (value === '' || value === 'true') candidates.push(true);
    if (value === 'false') candidates.push(false);
    if (value.trim() !== '' && Number.isFinite(Number(value))) candidates.push(Number(value));
    if (value.includes(',')) candidates.push(value.split(','));
    let firstErrors: ErrorObject[] | undefined;
    for (const c of candidates) {
      if (v(c)) return;
      firstErrors ??= v.errors ?? [];
    }
    report(`${JSON.stringify(value)}: ${describeErrors(firstErrors ?? []).join('; ')}`);
  }

  #checkNdjson(request: EsRequest, itemsRef: string, report: (where: string, m: string) => void): unknown[] {
    const raw = request.rawBody;
    if (!raw.endsWith('\n')) report('body', 'NDJSON body does not end with a newline');
    const lines = raw.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
    if (lines[lines.length - 1] === '') lines.pop();
    const parsed: unknown[] = [];
    for (const [i, line] of lines.entries()) {
      try {
        parsed.push(JSON.parse(line));
      } catch (err) {
        report(`ndjson line ${i + 1}`, `not JSON: ${(err as Error).message}`);
        parsed.push(undefined);
      }
    }
    if (request.operation !== 'bulk') {
      for (const [i, item] of parsed.entries()) for (const m of this.check(`${itemsRef}/items`, item)) report(`ndjson line ${i + 1}`, m);
      return parsed;
    }
    const actionRef = 'es-closed.json#/components/schemas/_global.bulk.OperationContainer';
    const updateRef = 'es-closed.json#/components/schemas/_global.bulk.UpdateAction';
    const pathIndex = request.pathParams.index;
    let i = 0;
    while (i < parsed.length) {
      const action = parsed[i];
      const where = `ndjson line ${i + 1}`;
      const problems = this.check(actionRef, action);
      for (const m of problems) report(where, m);
      const kind = typeof action === 'object' && action !== null ? Object.keys(action)[0] : undefined;
      const meta = kind !== undefined ? ((action as Record<string, unknown>)[kind] as Record<string, unknown> | undefined) : undefined;
      if (problems.length === 0 && meta?._index === undefined && pathIndex === undefined) report(where, `${kind} action names no _index and the path has none`);
      i++;
      // Every action but `delete` is followed by its source, also when the action is malformed.
      if (kind === 'delete') continue;
      if (i >= parsed.length) {
        report(where, `${kind ?? 'the'} action lacks the source line that must follow it`);
        break;
      }
      const source = parsed[i];
      if (problems.length === 0) {
        if (kind === 'update') for (const m of this.check(updateRef, source)) report(`ndjson line ${i + 1}`, m);
        else if (typeof source !== 'object' || source === null || Array.isArray(source)) report(`ndjson line ${i + 1}`, `the source of the ${kind} action must be a JSON object`);
      }
      i++;
    }
    return parsed;
  }
}

function describeErrors(errors: readonly ErrorObject[]): string[] {
  if (errors.length === 0) return ['invalid'];
  // The deepest errors say most: an `anyOf` failing lists each branch's reason below its own.
  const depth = (e: ErrorObject) => e.instancePath.split('/').length;
  const deepest = Math.max(...errors.map(depth));
  const out = new Set<string>();
  // Many `required` failures at one place come from an exactly-one-of container: say so once.
  const required = errors.filter((e) => e.keyword === 'required' && depth(e) === deepest);
  if (required.length > 3) {
    const keys = required.map((e) => (e.params as { missingProperty: string }).missingProperty);
    out.add(`${required[0]!.instancePath || '/'} must have exactly one of ${keys.length} keys (${keys.slice(0, 5).join(', ')}, …)`);
  }
  for (const e of errors) {
    if (depth(e) !== deepest || (required.length > 3 && e.keyword === 'required')) continue;
    const extra =
      e.keyword === 'additionalProperties'
        ? ` (${JSON.stringify((e.params as { additionalProperty: string }).additionalProperty)})`
        : e.keyword === 'enum'
          ? ` (${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)})`
          : '';
    out.add(`${e.instancePath || '/'} ${e.message ?? e.keyword}${extra}`);
    if (out.size >= 4) break;
  }
  return [...out];
}

// ---------------------------------------------------------------------------------------------
// Canned responses, shaped as Elasticsearch 8 answers.

/** An Elasticsearch error response (`{error: {root_cause, type, reason}, status}`). */
export function esError(status: number, type: string, reason: string): CannedResponse {
  const cause = { type, reason };
  return { status, body: { error: { root_cause: [cause], ...cause }, status } };
}

export type BulkItemOutcome = number | { readonly status: number; readonly type?: string; readonly reason?: string };

const ITEM_ERRORS: Record<number, { type: string; reason: string }> = {
  400: { type: 'mapper_parsing_exception', reason: 'failed to parse field [log.offset] of type [long] in document' },
  409: { type: 'version_conflict_engine_exception', reason: 'document already exists' },
  429: { type: 'es_rejected_execution_exception', reason: 'rejected execution of coordinating operation' },
  503: { type: 'unavailable_shards_exception', reason: 'primary shard is not active' },
};

/** The actions of a `_bulk` request: kind, index and id of each. */
export function bulkActions(req: EsRequest): Array<{ kind: string; index: string; id?: string }> {
  const out: Array<{ kind: string; index: string; id?: string }> = [];
  const lines = req.ndjson ?? [];
  for (let i = 0; i < lines.length; i++) {
    const action = lines[i] as Record<string, Record<string, unknown>> | undefined;
    const kind = action ? Object.keys(action)[0] : undefined;
    if (kind === undefined) continue;
    const meta = action![kind] ?? {};
    out.push({ kind, index: String(meta._index ?? req.pathParams.index ?? ''), ...(meta._id !== undefined && { id: String(meta._id) }) });
    if (kind !== 'delete') i++;
  }
  return out;
}

/** A `_bulk` response answering each action with the given status (default 201 created). */
export function bulkResponse(req: EsRequest, outcomes: readonly BulkItemOutcome[] = []): CannedResponse {
  let seqNo = 0;
  const items = bulkActions(req).map((a, i) => {
    const o = outcomes[i] ?? 201;
    const status = typeof o === 'number' ? o : o.status;
    const base = { _index: a.index, _id: a.id ?? `auto-${i}`, status };
    if (status < 300) {
      return { [a.kind]: { ...base, _version: 1, result: 'created', _shards: { total: 2, successful: 1, failed: 0 }, _seq_no: seqNo++, _primary_term: 1 } };
    }
    const known = ITEM_ERRORS[status] ?? { type: 'exception', reason: `status ${status}` };
    const error = { type: (typeof o === 'object' && o.type) || known.type, reason: (typeof o === 'object' && o.reason) || known.reason, index: a.index };
    return { [a.kind]: { ...base, error } };
  });
  return { status: 200, body: { errors: items.some((it) => Object.values(it)[0]!.status >= 300), took: 3, items } };
}

/** A search response with the given hits (documents with `_id`, `_source`, `sort`) and aggregations. */
export function searchResponse(hits: ReadonlyArray<{ _index?: string; _id: string; _source: unknown; sort?: unknown[] }> = [], aggregations?: Record<string, unknown>): CannedResponse {
  return {
    status: 200,
    body: {
      took: 2,
      timed_out: false,
      _shards: { total: 1, successful: 1, skipped: 0, failed: 0 },
      hits: { max_score: null, hits: hits.map((h) => ({ _index: h._index ?? 'index', _score: null, ...h })) },
      ...(aggregations !== undefined && { aggregations }),
    },
  };
}

const BUCKET_AGGREGATIONS = new Set(['composite', 'date_histogram', 'histogram', 'terms', 'multi_terms', 'range', 'date_range', 'filters', 'auto_date_histogram']);

/** Empty results for the aggregations a search asked for: no buckets, no values. */
function emptyAggregations(requested: unknown): Record<string, unknown> | undefined {
  if (typeof requested !== 'object' || requested === null) return undefined;
  return Object.fromEntries(
    Object.entries(requested).map(([name, container]) => {
      const kinds = Object.keys(container as object);
      return [name, kinds.some((k) => BUCKET_AGGREGATIONS.has(k)) ? { buckets: [] } : { value: null }];
    }),
  );
}

const SHARDS = { total: 1, successful: 1, failed: 0 };

/** What each operation answers when the test has not said otherwise: success, nothing found. */
const DEFAULT_RESPONDERS: Record<string, Responder> = {
  bulk: (req) => bulkResponse(req),
  search: (req) => {
    const b = req.body as { aggregations?: unknown } | undefined;
    return searchResponse([], emptyAggregations(b?.aggregations));
  },
  count: () => ({ body: { count: 0, _shards: { ...SHARDS, skipped: 0 } } }),
  'indices-put-index-template': () => ({ body: { acknowledged: true } }),
  'indices-delete': () => ({ body: { acknowledged: true } }),
  'indices-create': (req) => ({ body: { acknowledged: true, shards_acknowledged: true, index: req.pathParams.index } }),
  'indices-resolve-index': () => ({ body: { indices: [], aliases: [], data_streams: [] } }),
  'indices-refresh': () => ({ body: { _shards: SHARDS } }),
  'delete-by-query': () => ({
    body: {
      took: 1,
      timed_out: false,
      total: 0,
      deleted: 0,
      batches: 0,
      version_conflicts: 0,
      noops: 0,
      retries: { bulk: 0, search: 0 },
      throttled_millis: 0,
      requests_per_second: -1,
      throttled_until_millis: 0,
      failures: [],
    },
  }),
};

export interface EsOpenApiServerOptions {
  readonly specPath?: string;
}

/** The validating server. `respond` programs answers per operation (`search`, `bulk`, …). */
export class EsOpenApiServer {
  readonly url: string;
  readonly port: number;
  readonly validator: EsOpenApiValidator;
  /** Every request received, in order. */
  readonly requests: EsRequest[] = [];
  /** Every violation found, in order. */
  readonly violations: EsViolation[] = [];
  readonly #server: Server;
  readonly #always = new Map<string, Responder>();
  readonly #once = new Map<string, Responder[]>();

  constructor(server: Server, validator: EsOpenApiValidator) {
    this.#server = server;
    this.validator = validator;
    this.port = (server.address() as { port: number }).port;
    this.url = `http://127.0.0.1:${this.port}`;
  }

  /** Answers requests of `operation` (an operation id without its `-N` suffix) with `responder` from now on. */
  respond(operation: string, responder: Responder): void {
    this.#always.set(operation, responder);
  }

  /** Answers one request of `operation` with `responder`; queued before any `respond` one, in order. */
  respondOnce(operation: string, responder: Responder): void {
    const queue = this.#once.get(operation) ?? [];
    queue.push(responder);
    this.#once.set(operation, queue);
  }

  /** Forgets requests, violations and programmed responses. */
  reset(): void {
    this.requests.length = 0;
    this.violations.length = 0;
    this.#always.clear();
    this.#once.clear();
  }

  /** Requests of one operation (`search`, `bulk`, …). */
  requestsOf(operation: string): EsRequest[] {
    return this.requests.filter((r) => r.operation === operation);
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  async handle(method: string, url: string, headers: IncomingHttpHeaders, rawBody: string): Promise<CannedResponse> {
    const { request, violations } = this.validator.validate({ method, url, headers, rawBody });
    this.requests.push(request);
    this.violations.push(...violations);
    if (request.operationId === undefined) return { status: 400, body: { error: `no handler found for uri [${url}] and method [${method}]`, status: 400 } };
    if (violations.length > 0) return esError(400, 'x_content_parse_exception', violations.map((v) => `${v.where}: ${v.message}`).join('; '));
    const op = request.operation!;
    const responder = this.#once.get(op)?.shift() ?? this.#always.get(op) ?? DEFAULT_RESPONDERS[op];
    if (responder === undefined) return esError(500, 'vigil_test_server_exception', `no canned response for ${request.operationId}`);
    return responder(request);
  }
}

export async function startEsOpenApiServer(opts: EsOpenApiServerOptions = {}): Promise<EsOpenApiServer> {
  const validator = new EsOpenApiValidator(opts.specPath);
  let es: EsOpenApiServer | undefined;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        let answer: CannedResponse;
        try {
          let buf = Buffer.concat(chunks);
          if (/gzip/i.test(String(req.headers['content-encoding'] ?? ''))) buf = gunzipSync(buf);
          answer = await es!.handle(req.method ?? 'GET', req.url ?? '/', req.headers, buf.toString('utf8'));
        } catch (err) {
          answer = esError(500, 'vigil_test_server_exception', (err as Error).stack ?? String(err));
        }
        const compat = String(req.headers.accept ?? '').includes('vnd.elasticsearch');
        const payload = answer.body === undefined ? '' : JSON.stringify(answer.body);
        res.writeHead(answer.status ?? 200, {
          'content-type': compat ? 'application/vnd.elasticsearch+json;compatible-with=8' : 'application/json; charset=UTF-8',
          'x-elastic-product': 'Elasticsearch',
          ...answer.headers,
        });
        res.end(req.method === 'HEAD' ? undefined : payload);
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  es = new EsOpenApiServer(server, validator);
  return es;
}
