/**
 * The `vigil` process as an operator meets it: start, ready, metrics, reload, SIGTERM at any
 * moment, fatal errors. Runs the real command over the compiled tree.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer, type Server } from 'node:net';
import { execFileSync, spawn } from 'node:child_process';
import BetterSqlite3 from 'better-sqlite3';
import { ROOT, VigilProcess, freePort, waitForHttp } from '../support/vigil-process.js';
import { MIGRATIONS } from '../../storage/sql/migrations/index.js';

let dir: string;
const running: VigilProcess[] = [];

function vigil(args: string[], env: Record<string, string> = {}): VigilProcess {
  const p = new VigilProcess(args, env);
  running.push(p);
  return p;
}

function sqliteIntact(file: string): { integrity: string; migrations: string[] } {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    const integrity = (db.pragma('integrity_check', { simple: true }) as string) ?? '';
    const hasTable = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'vigil_schema_migrations'")
      .get();
    const migrations = hasTable
      ? (db.prepare('SELECT name FROM vigil_schema_migrations ORDER BY name').all() as { name: string }[]).map((r) => r.name)
      : [];
    return { integrity, migrations };
  } finally {
    db.close();
  }
}

async function metric(base: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-e2e-'));
});

afterEach(() => {
  for (const p of running.splice(0)) p.killGroup();
  rmSync(dir, { recursive: true, force: true });
});

describe('vigil all (embedded)', () => {
  it('serves readiness, health, metrics with process metrics, the UI and the status APIs', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const p = vigil(['all', '--data-dir', path.join(dir, 'data')], { VIGIL_LISTEN: `127.0.0.1:${port}` });
    await waitForHttp(`${base}/-/ready`);
    expect(await (await fetch(`${base}/-/healthy`)).text()).toContain('Healthy');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'process_start_time_seconds',
      'nodejs_heap_size_used_bytes',
      'vigil_build_info',
      'vigil_config_last_reload_successful 1',
      'vigil_lifecycle_service_up{service="sql"} 1',
    ]) {
      expect(metrics).toContain(name);
    }
    // Every self-metric the Grafana dashboards chart is really exported.
    for (const file of readdirSync(path.join(ROOT, 'dashboards/grafana'))) {
      const exprs = JSON.stringify(JSON.parse(readFileSync(path.join(ROOT, 'dashboards/grafana', file), 'utf8')));
      for (const [name] of exprs.matchAll(/\b(?:vigil|process|nodejs)_[a-z0-9_]+/g)) {
        expect(metrics, `${file} charts ${name}`).toMatch(new RegExp(`^${name}[{ ]`, 'm'));
      }
    }
    const ui = await fetch(`${base}/`);
    expect(ui.headers.get('content-type')).toMatch(/text\/html/);
    expect(await ui.text()).toContain('<title>Vigil</title>');
    const buildinfo = (await (await fetch(`${base}/api/v1/status/buildinfo`)).json()) as { status: string; data: { version: string } };
    expect(buildinfo).toMatchObject({ status: 'success', data: { version: expect.any(String) } });
    const status = (await (await fetch(`${base}/api/vigil/v1/status`)).json()) as { ready: boolean; services: { name: string }[] };
    expect(status.ready).toBe(true);
    expect(status.services.map((s) => s.name)).toEqual([
      'data-dir',
      'tsdb',
      'scrape',
      'discovery',
      'log-store',
      'log-collector',
      'log-line-metrics',
      'sql',
      'housekeeping',
      'http',
    ]);
    expect(existsSync(path.join(dir, 'data/vigil.db'))).toBe(true);
    const exit = await p.signalAndWait('SIGTERM');
    expect(exit).toMatchObject({ code: 0, signal: null });
  });

  it('exits cleanly within 10 s on SIGTERM in steady state, leaving no process and an intact database', async () => {
    const port = await freePort();
    const p = vigil(['all', '--data-dir', path.join(dir, 'data'), '--listen', `127.0.0.1:${port}`]);
    await waitForHttp(`http://127.0.0.1:${port}/-/ready`);
    // A keep-alive client must not hold the shutdown up.
    const agentRequest = fetch(`http://127.0.0.1:${port}/-/healthy`, { keepalive: true });
    await agentRequest;
    const exit = await p.signalAndWait('SIGTERM');
    expect(exit.code).toBe(0);
    expect(exit.signal).toBeNull();
    expect(exit.elapsedMs).toBeLessThan(10_000);
    expect(p.groupAlive()).toBe(false);
    expect(p.output()).toMatch(/"phase":"running".*received termination signal/);
    expect(sqliteIntact(path.join(dir, 'data/vigil.db'))).toEqual({
      integrity: 'ok',
      migrations: MIGRATIONS.map((m) => m.name),
    });
  });

  it('exits cleanly within 10 s on SIGTERM during start-up while the database does not answer', async () => {
    // A server that accepts connections and never speaks: start-up hangs in the SQL service.
    const sockets: import('node:net').Socket[] = [];
    const blackhole: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', () => r()));
    const dbPort = (blackhole.address() as { port: number }).port;
    try {
      const port = await freePort();
      const p = vigil(['api', '--listen', `127.0.0.1:${port}`], { VIGIL_SQL_URL: `mysql://root@127.0.0.1:${dbPort}/vigil` });
      await p.waitForLine(/starting Vigil/);
      while (sockets.length === 0) await new Promise((r) => setTimeout(r, 20));
      const exit = await p.signalAndWait('SIGTERM');
      expect(exit).toMatchObject({ code: 0, signal: null });
      expect(exit.elapsedMs).toBeLessThan(10_000);
      expect(p.groupAlive()).toBe(false);
      expect(p.output()).toMatch(/"phase":"starting".*received termination signal/);
      expect(p.output()).not.toContain('Vigil is ready');
    } finally {
      for (const s of sockets) s.destroy();
      blackhole.close();
    }
  });

  it('exits cleanly with an intact database whenever SIGTERM arrives during start-up and steady state', async () => {
    for (const delayMs of [0, 40, 80, 120, 200, 400]) {
      const port = await freePort();
      const data = path.join(dir, `data-${delayMs}`);
      const p = vigil(['all', '--data-dir', data, '--listen', `127.0.0.1:${port}`]);
      await p.waitForLine(/starting Vigil/);
      await new Promise((r) => setTimeout(r, delayMs));
      const exit = await p.signalAndWait('SIGTERM');
      expect(exit, `SIGTERM after ${delayMs} ms`).toMatchObject({ code: 0, signal: null });
      expect(exit.elapsedMs).toBeLessThan(10_000);
      expect(p.groupAlive()).toBe(false);
      const db = path.join(data, 'vigil.db');
      if (existsSync(db)) {
        const state = sqliteIntact(db);
        expect(state.integrity).toBe('ok');
        // Either no migration ran yet or all did: a migration is never half-applied.
        expect([[], MIGRATIONS.map((m) => m.name)]).toContainEqual(state.migrations);
      }
    }
  });

  it('keeps the running config when a reload is broken, and reports it on /metrics', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const file = path.join(dir, 'vigil.yml');
    const good = `server:\n  listen: 127.0.0.1:${port}\n  data_dir: ${path.join(dir, 'data')}\nlogging:\n  level: info\nalerting:\n  receivers:\n    - name: team\n  route:\n    receiver: team\n`;
    writeFileSync(file, good);
    const p = vigil(['all', '--config', file]);
    await waitForHttp(`${base}/-/ready`);
    const configBefore = await (await fetch(`${base}/api/v1/status/config`)).text();
    expect(await metric(base, 'vigil_config_last_reload_successful')).toBe(1);

    writeFileSync(file, good.replace('receiver: team', 'receiver: pager'));
    const res = await fetch(`${base}/-/reload`, { method: 'POST' });
    expect(res.status).toBe(500);
    expect(await res.text()).toContain(`${file}:10:5: alerting.route.receiver: unknown receiver "pager"`);
    expect(await metric(base, 'vigil_config_last_reload_successful')).toBe(0);
    expect(await (await fetch(`${base}/api/v1/status/config`)).text()).toBe(configBefore);
    expect(await (await fetch(`${base}/-/ready`)).status).toBe(200);

    // SIGHUP takes the same path.
    writeFileSync(file, good.replace('level: info', 'level: loud'));
    p.child.kill('SIGHUP');
    await p.waitForLine(/logging\.level.*configuration reload failed/);
    expect(await metric(base, 'vigil_config_last_reload_successful')).toBe(0);

    writeFileSync(file, good.replace('level: info', 'level: debug'));
    p.child.kill('SIGHUP');
    await p.waitForLine(/configuration reloaded/);
    expect(await metric(base, 'vigil_config_last_reload_successful')).toBe(1);
    expect(await (await fetch(`${base}/api/v1/status/config`)).text()).toContain('level: debug');
    expect((await p.signalAndWait('SIGTERM')).code).toBe(0);
  });

  it('stops with exit code 1 and a clear message when its port is taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const p = vigil(['all', '--data-dir', path.join(dir, 'data'), '--listen', `127.0.0.1:${port}`]);
      const exit = await p.exited;
      expect(exit.code).toBe(1);
      expect(p.output()).toMatch(/vigil: start-up failed: http: start failed: .*EADDRINUSE/);
      expect(p.groupAlive()).toBe(false);
      // The services started before the failure were stopped: the database was closed cleanly.
      expect(sqliteIntact(path.join(dir, 'data/vigil.db')).integrity).toBe('ok');
    } finally {
      blocker.close();
    }
  });

  it('stops with exit code 1 naming the database when MySQL is unreachable', async () => {
    const port = await freePort();
    const dead = await freePort();
    const p = vigil(['api', '--listen', `127.0.0.1:${port}`], { VIGIL_SQL_URL: `mysql://vigil:secret@127.0.0.1:${dead}/vigil` });
    const exit = await p.exited;
    expect(exit.code).toBe(1);
    expect(p.output()).toMatch(/sql: start failed: cannot open database mysql:\/\/vigil:xxxxx@127\.0\.0\.1:\d+\/vigil: .*ECONNREFUSED/);
    expect(p.output()).not.toContain('secret');
  });
});

describe('npm start', () => {
  it('serves /-/ready and process metrics as the README says, and stops on SIGTERM', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const child = spawn('npm', ['start', '--silent'], {
      cwd: ROOT,
      env: { ...process.env, VIGIL_LISTEN: `127.0.0.1:${port}`, VIGIL_DATA_DIR: path.join(dir, 'data'), VIGIL_SQL_URL: '' },
      detached: true,
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitForHttp(`${base}/-/ready`, 200, 60_000);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/^process_cpu_seconds_total \d/m);
      expect(metrics).toMatch(/^process_resident_memory_bytes \d/m);
      // SIGTERM to Vigil itself (as an orchestrator would); npm then exits with Vigil's code.
      const pids = execFileSync('pgrep', ['-g', String(child.pid), '-f', '^node bin/vigil.js all']).toString().trim().split('\n');
      expect(pids).toHaveLength(1);
      process.kill(Number(pids[0]), 'SIGTERM');
      expect(await exited).toBe(0);
      await new Promise((r) => setTimeout(r, 200));
      expect(() => process.kill(-child.pid!, 0)).toThrow();
    } finally {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }, 120_000);
});

describe('vigil check config', () => {
  it('accepts a good file and rejects a broken one with file, line and key path', async () => {
    const goodFile = path.join(dir, 'good.yml');
    const badFile = path.join(dir, 'bad.yml');
    writeFileSync(goodFile, 'alerting:\n  receivers:\n    - name: team\n  route:\n    receiver: team\n');
    writeFileSync(badFile, 'server:\n  listen: nowhere\nalerting:\n  receivers:\n    - name: team\n  route:\n    receiver: pager\n');
    const ok = vigil(['check', 'config', goodFile]);
    expect((await ok.exited).code).toBe(0);
    expect(ok.output()).toContain(`${goodFile}: SUCCESS`);
    const bad = vigil(['check', 'config', badFile]);
    expect((await bad.exited).code).toBe(1);
    expect(bad.output()).toContain(`${badFile}: FAILED`);
    expect(bad.output()).toContain(`${badFile}:2:3: server.listen: "nowhere" is not host:port`);
    expect(bad.output()).toContain(`${badFile}:7:5: alerting.route.receiver: unknown receiver "pager"`);
    const missing = vigil(['check', 'config', path.join(dir, 'absent.yml')]);
    expect((await missing.exited).code).toBe(1);
    expect(missing.output()).toMatch(/absent\.yml: cannot read config file: ENOENT/);
  });

  it('runs from a checkout through npx, as the package bin', () => {
    const out = execFileSync('npx', ['--no-install', 'vigil', '--version'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    expect(out).toMatch(/^vigil \d+\.\d+\.\d+ \(revision \w+, node v20/);
  }, 90_000);

  it('runs PromQL test scripts: vigil promql test', async () => {
    const good = path.join(dir, 'good.test');
    const bad = path.join(dir, 'bad.test');
    writeFileSync(good, 'load 1m\n  up{job="a"} 1 2 3\n\neval instant at 2m up\n  up{job="a"} 3\n\neval instant at 2m sum(up)\n  {} 3\n');
    writeFileSync(bad, 'load 1m\n  up{job="a"} 1 2 3\n\neval instant at 2m up\n  up{job="a"} 4\n');
    const ok = vigil(['promql', 'test', good]);
    expect((await ok.exited).code).toBe(0);
    expect(ok.output()).toContain('2 passed, 0 failed, 0 unsupported');
    const failing = vigil(['promql', 'test', good, bad]);
    expect((await failing.exited).code).toBe(1);
    expect(failing.output()).toMatch(/FAIL .*bad\.test/);
    expect(failing.output()).toContain('2 passed, 1 failed, 0 unsupported');
  });

  it('rejects unknown roles and flags with usage and exit code 2', async () => {
    const p = vigil(['scheduler']);
    expect((await p.exited).code).toBe(2);
    expect(p.output()).toContain('unknown role or command "scheduler"');
    expect(p.output()).toContain('Usage:');
  });
});
