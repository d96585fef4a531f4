/**
 * Structure of the deployment files. No Docker engine or cluster runs here, so these tests check
 * what can go wrong without one: services and wiring, environment variables that Vigil really
 * reads, configs that Vigil accepts, and files that exist.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { ROOT } from '../support/vigil-process.js';
import { ENV_OVERRIDES } from '../../config/schema.js';
import { loadConfig } from '../../config/load.js';
import { parseSqlUrl } from '../../storage/sql/url.js';
import { ROLES } from '../../cmd/args.js';

interface ComposeService {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string | number>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, unknown> | string[];
  healthcheck?: unknown;
}

const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
};
const services = compose.services;
const vigilServices = Object.entries(services).filter(([name]) => name.startsWith('vigil-'));
const KNOWN_ENV = new Set(Object.keys(ENV_OVERRIDES));

/** The port a `host:port` inside a URL or broker list points at, per compose service. */
const CONTAINER_PORTS: Record<string, number> = { mysql: 3306, kafka: 9092, elasticsearch: 9200 };

function envOf(service: ComposeService): Record<string, string> {
  return Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, String(v)]));
}

describe('docker-compose.yml', () => {
  it('has the production-shaped stack', () => {
    expect(Object.keys(services).sort()).toEqual(
      [
        'cadvisor', 'elasticsearch', 'grafana', 'kafka', 'mailpit', 'mysql', 'prometheus',
        'vigil-alerter', 'vigil-api', 'vigil-collector', 'vigil-indexer',
      ].sort(),
    );
    expect(services.mysql!.image).toMatch(/^mysql:8/);
    expect(services.elasticsearch!.image).toMatch(/elasticsearch:(8|9)\./);
    expect(services.kafka!.environment).toMatchObject({ KAFKA_PROCESS_ROLES: 'broker,controller' });
    expect(services.prometheus!.command).toContain('--web.enable-remote-write-receiver');
  });

  it.each(vigilServices)('%s runs a real role of the Vigil image', (name, svc) => {
    expect(svc.build).toBe('.');
    expect(existsSync(path.join(ROOT, 'Dockerfile'))).toBe(true);
    const role = svc.command![0]!;
    expect(ROLES).toContain(role);
    expect(name).toBe(`vigil-${role}`);
  });

  it.each(vigilServices)('%s sets only environment variables Vigil reads, pointing at real services', async (_name, svc) => {
    const env = envOf(svc);
    for (const key of Object.keys(env)) expect(KNOWN_ENV, `unknown variable ${key}`).toContain(key);
    if (env.VIGIL_SQL_URL) {
      const target = parseSqlUrl(env.VIGIL_SQL_URL);
      expect(target.kind).toBe('mysql');
      if (target.kind === 'mysql') {
        expect(services[target.host], `no service ${target.host}`).toBeDefined();
        expect(target.port).toBe(CONTAINER_PORTS[target.host]);
        expect(services.mysql!.environment).toMatchObject({ MYSQL_DATABASE: target.database, MYSQL_USER: target.user, MYSQL_PASSWORD: target.password });
      }
    }
    for (const broker of (env.VIGIL_KAFKA_BROKERS ?? '').split(',').filter(Boolean)) {
      const [host, port] = broker.split(':');
      expect(services[host!]).toBeDefined();
      expect(Number(port)).toBe(CONTAINER_PORTS[host!]);
    }
    if (env.VIGIL_ELASTICSEARCH_URL) {
      const u = new URL(env.VIGIL_ELASTICSEARCH_URL);
      expect(services[u.hostname]).toBeDefined();
      expect(Number(u.port)).toBe(CONTAINER_PORTS[u.hostname]);
    }
  });

  it.each(vigilServices)('%s gets a config Vigil accepts with that environment', async (_name, svc) => {
    const mount = svc.volumes!.find((v) => v.endsWith(':/etc/vigil/vigil.yml:ro'))!;
    const hostFile = path.join(ROOT, mount.split(':')[0]!);
    expect(svc.command).toEqual([svc.command![0], '--config', '/etc/vigil/vigil.yml']);
    const { config } = await loadConfig({ file: hostFile, env: envOf(svc) });
    expect(config.server.listen).toBe('0.0.0.0:9580');
    if (envOf(svc).VIGIL_ELASTICSEARCH_URL) expect(config.storage.logs.store).toBe('elasticsearch');
  });

  it('publishes the API on the port it listens on', () => {
    const api = services['vigil-api']!;
    const listenPort = envOf(api).VIGIL_LISTEN!.split(':').pop();
    expect(api.ports).toContain(`${listenPort}:${listenPort}`);
  });

  it('depends only on services that exist, and mounts only files that exist', () => {
    for (const [name, svc] of Object.entries(services)) {
      const deps = Array.isArray(svc.depends_on) ? svc.depends_on : Object.keys(svc.depends_on ?? {});
      for (const d of deps) expect(services[d], `${name} depends on missing ${d}`).toBeDefined();
      for (const v of svc.volumes ?? []) {
        const source = v.split(':')[0]!;
        if (source.startsWith('./')) expect(existsSync(path.join(ROOT, source)), `${name}: ${source}`).toBe(true);
        else if (!source.startsWith('/')) expect(compose.volumes, `${name}: volume ${source}`).toHaveProperty(source);
      }
    }
  });

  it('provisions Grafana with the Vigil data source and the dashboards folder', () => {
    const ds = parse(readFileSync(path.join(ROOT, 'deploy/compose/grafana/provisioning/datasources/vigil.yml'), 'utf8')) as {
      datasources: { uid: string; type: string; url: string }[];
    };
    expect(ds.datasources.find((d) => d.uid === 'vigil')).toMatchObject({ type: 'prometheus', url: 'http://vigil-api:9580' });
    const provider = parse(readFileSync(path.join(ROOT, 'deploy/compose/grafana/provisioning/dashboards/vigil.yml'), 'utf8')) as {
      providers: { options: { path: string } }[];
    };
    const mounted = services.grafana!.volumes!.find((v) => v.startsWith('./dashboards/grafana:'))!;
    expect(mounted.split(':')[1]).toBe(provider.providers[0]!.options.path);
  });

  it('has the reference Prometheus scrape every Vigil role', () => {
    const prom = parse(readFileSync(path.join(ROOT, 'deploy/compose/prometheus.yml'), 'utf8')) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const targets = prom.scrape_configs.flatMap((s) => s.static_configs.flatMap((c) => c.targets));
    for (const [name] of vigilServices) expect(targets).toContain(`${name}:9580`);
    for (const t of targets) expect(services[t.split(':')[0]!]).toBeDefined();
  });
});

describe('deploy/kubernetes/vigil.yaml', () => {
  const docs = parseAllDocuments(readFileSync(path.join(ROOT, 'deploy/kubernetes/vigil.yaml'), 'utf8')).map((d) => d.toJS()) as Array<{
    kind: string;
    metadata: { name: string };
    data?: Record<string, string>;
    spec?: { template?: { spec: { containers: { args: string[]; env?: { name: string; value?: string }[] }[] } } };
  }>;

  it('parses and runs every role', () => {
    const workloads = docs.filter((d) => d.kind === 'DaemonSet' || d.kind === 'Deployment');
    const roles = workloads.map((w) => w.spec!.template!.spec.containers[0]!.args[0]);
    expect(roles.sort()).toEqual(['alerter', 'api', 'collector', 'indexer']);
    expect(docs.find((d) => d.kind === 'DaemonSet')?.metadata.name).toBe('vigil-collector');
  });

  it('sets only environment variables Vigil reads', () => {
    for (const d of docs) {
      for (const c of d.spec?.template?.spec.containers ?? []) {
        for (const e of c.env ?? []) expect(KNOWN_ENV).toContain(e.name);
      }
    }
  });

  it('names each collector after its node (downward API) and mounts the node’s pod logs read-only', () => {
    const ds = docs.find((d) => d.kind === 'DaemonSet')!;
    const c = ds.spec!.template!.spec.containers[0]!;
    const node = (c.env ?? []).find((e) => e.name === 'VIGIL_NODE_NAME') as { valueFrom?: { fieldRef?: { fieldPath?: string } } } | undefined;
    expect(node?.valueFrom?.fieldRef?.fieldPath).toBe('spec.nodeName');
    expect(JSON.stringify(c)).toContain('"mountPath":"/var/log/pods","readOnly":true');
  });

  it('ships a config Vigil accepts', async () => {
    const cm = docs.find((d) => d.kind === 'ConfigMap')!;
    const { parseConfig } = await import('../../config/load.js');
    await expect(parseConfig(cm.data!['vigil.yml']!, { file: 'configmap/vigil.yml', env: {} })).resolves.toBeDefined();
  });
});

describe('dashboards/grafana', () => {
  const dir = path.join(ROOT, 'dashboards/grafana');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

  it('has dashboards', () => expect(files.length).toBeGreaterThan(0));

  it.each(files)('%s is a Grafana dashboard whose panels query the Vigil data source', (file) => {
    const dash = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as {
      uid: string;
      title: string;
      panels: { id: number; title: string; datasource: { uid: string }; targets: { expr: string; refId: string }[] }[];
    };
    expect(dash.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    expect(dash.title).toMatch(/^Vigil/);
    const ids = new Set<number>();
    for (const p of dash.panels) {
      expect(ids.has(p.id), `duplicate panel id ${p.id}`).toBe(false);
      ids.add(p.id);
      expect(p.datasource.uid).toBe('${datasource}');
      expect(p.targets.length).toBeGreaterThan(0);
      for (const t of p.targets) expect(t.expr.trim()).not.toBe('');
    }
  });
});
