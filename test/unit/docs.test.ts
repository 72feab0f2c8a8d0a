import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CONFIG_VARIABLES } from '../../src/config';
import { findTemporalCli, temporalCliVersion } from '../../src/local/temporal-cli';
import { POSTGRES_VERSION, TEMPORAL_SERVER_VERSION } from '../../src/local/temporal-cluster';

const ROOT = join(__dirname, '..', '..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

describe('the documentation stays true', () => {
  it('.env.example documents exactly the variables the configuration reads', () => {
    const documented = [...read('.env.example').matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]);
    expect([...new Set(documented)].sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  it("the README's configuration table lists exactly the variables the configuration reads", () => {
    const readme = read('README.md');
    const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Salesforce objects'));
    const rows = table.split('\n').filter((l) => l.startsWith('| `'));
    const listed = rows.flatMap((row) =>
      [...row.split('|')[1]!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]),
    );
    expect([...new Set(listed)].sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  it('the quick start is two command lines, and CI runs its test command', () => {
    const readme = read('README.md');
    const quickStart = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('## What it does'));
    const block = /```sh\n([\s\S]*?)```/.exec(quickStart)![1]!.trim().split('\n');
    expect(block).toEqual(['npm install && npm start', 'npm test']);
    expect(read('.ci/run')).toMatch(/^npm test$/m);
  });
});

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml')) as {
    services: Record<
      string,
      {
        image?: string;
        build?: string;
        command?: string[];
        environment?: Record<string, unknown>;
        ports?: string[];
        healthcheck?: unknown;
        depends_on?: Record<string, { condition?: string }>;
        env_file?: string;
      }
    >;
  };
  const image = (name: string) => compose.services[name]!.image ?? '';

  it('runs PostgreSQL, Temporal on it, the Temporal UI, and the API and worker built from this repository', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'api',
      'postgresql',
      'temporal',
      'temporal-namespace',
      'temporal-schema',
      'temporal-ui',
      'worker',
    ]);
    expect(compose.services.temporal!.environment).toMatchObject({
      DB: 'postgres12',
      POSTGRES_SEEDS: 'postgresql',
    });
    expect(compose.services.api).toMatchObject({ build: '.', command: ['api'], env_file: '.env' });
    expect(compose.services.worker).toMatchObject({ build: '.', command: ['worker'], env_file: '.env' });
  });

  it('uses only variables the configuration reads, and the API port it listens on', () => {
    for (const name of ['api', 'worker']) {
      for (const variable of Object.keys(compose.services[name]!.environment ?? {}))
        expect(CONFIG_VARIABLES).toContain(variable);
    }
    expect(compose.services.api!.environment).toMatchObject({
      PORT: 3000,
      TEMPORAL_ADDRESS: 'temporal:7233',
    });
    expect(compose.services.api!.ports).toEqual(['3000:3000']);
  });

  // Issue 16: Temporal's maintained images (auto-setup is deprecated), a current PostgreSQL, and an order of start-up
  // that compose enforces: schema, server, namespace, then clerk-sync.
  it("uses Temporal's maintained images, the admin tools of the server's version, and PostgreSQL 17", () => {
    const images = Object.values(compose.services).map((s) => s.image ?? '');
    expect(images.filter((i) => i.startsWith('temporalio/auto-setup'))).toEqual([]);
    expect(image('postgresql')).toMatch(/^postgres:17\.\d+$/);
    expect(image('temporal')).toMatch(/^temporalio\/server:1\.\d+\.\d+$/);
    expect(image('temporal-ui')).toMatch(/^temporalio\/ui:2\.5\d\.\d+$/);
    const serverVersion = image('temporal').split(':')[1];
    expect(image('temporal-schema')).toBe(`temporalio/admin-tools:${serverVersion}`);
    expect(image('temporal-namespace')).toBe(`temporalio/admin-tools:${serverVersion}`);
  });

  // Issue 18: compose runs what `npm run test:cluster` runs.
  it('runs the PostgreSQL and Temporal server releases the production-layout tests run', () => {
    expect({ postgres: image('postgresql'), server: image('temporal') }).toEqual({
      postgres: `postgres:${POSTGRES_VERSION}`,
      server: `temporalio/server:${TEMPORAL_SERVER_VERSION.replace(/^v/, '')}`,
    });
    expect(read('docker-compose.yml')).toContain(`Temporal server ${TEMPORAL_SERVER_VERSION}`);
  });

  const cli = findTemporalCli({ install: false }); // the tests' global setup installed it
  (cli ? it : it.skip)('runs the Temporal UI version that the local dev server runs', () => {
    const [, ui] = /UI ([\d.]+)/.exec(temporalCliVersion(cli!))!;
    expect(image('temporal-ui')).toBe(`temporalio/ui:${ui}`);
  });

  /** Runs a one-shot service's script as its entrypoint would, with stand-ins for the tools; returns their calls. */
  function runScript(service: string, stubs: Record<string, string>): string[] {
    const dir = mkdtempSync(join(tmpdir(), 'compose-'));
    const log = join(dir, 'calls');
    for (const [tool, body] of Object.entries(stubs))
      writeFileSync(join(dir, tool), `#!/bin/sh\necho "${tool} $*" >> ${log}\n${body}\n`, { mode: 0o755 });
    const { entrypoint, command } = compose.services[service] as { entrypoint: string[]; command: string[] };
    const script = command[0]!.replaceAll('$$', '$'); // compose's escape of a literal $
    execFileSync(entrypoint[0]!, [...entrypoint.slice(1), script], {
      env: { PATH: `${dir}:${process.env.PATH ?? ''}` },
    });
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    rmSync(dir, { recursive: true, force: true });
    return calls;
  }

  it('sets up both schemas before the server starts: create, initial version, then every newer version', () => {
    const sql = 'temporal-sql-tool --plugin postgres12 --ep postgresql -p 5432 -u temporal';
    const schema = '/etc/temporal/schema/postgresql/v12';
    expect(runScript('temporal-schema', { 'temporal-sql-tool': 'exit 0' })).toEqual([
      `${sql} --db temporal create`,
      `${sql} --db temporal setup-schema -v 0.0`,
      `${sql} --db temporal update-schema -d ${schema}/temporal/versioned`,
      `${sql} --db temporal_visibility create`,
      `${sql} --db temporal_visibility setup-schema -v 0.0`,
      `${sql} --db temporal_visibility update-schema -d ${schema}/visibility/versioned`,
    ]);
    expect(compose.services.temporal!.depends_on).toEqual({
      'temporal-schema': { condition: 'service_completed_successfully' },
    });
  });

  it('creates the namespace once the server serves, and only when it is missing, before clerk-sync starts', () => {
    const serving = 'case "$*" in "operator cluster health") echo SERVING;; *describe*) exit 1;; esac';
    expect(runScript('temporal-namespace', { temporal: serving })).toEqual([
      'temporal operator cluster health',
      'temporal operator namespace describe -n default',
      'temporal operator namespace create -n default --retention 7d',
    ]);
    const existing = 'case "$*" in "operator cluster health") echo SERVING;; esac';
    expect(runScript('temporal-namespace', { temporal: existing })).toEqual([
      'temporal operator cluster health',
      'temporal operator namespace describe -n default',
    ]);
    for (const name of ['api', 'worker'])
      expect(compose.services[name]!.depends_on).toEqual({
        'temporal-namespace': { condition: 'service_completed_successfully' },
      });
  });

  it('waits on health, not on a container merely started', () => {
    for (const name of ['postgresql', 'temporal', 'api'])
      expect(compose.services[name]!.healthcheck).toBeDefined();
    for (const [name, service] of Object.entries(compose.services))
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {}))
        expect({ name, dependency, condition }).toEqual({
          name,
          dependency,
          condition: expect.stringMatching(/^service_(healthy|completed_successfully)$/),
        });
  });

  // Issue 12: Temporal's frontend and the UI have no authentication here; whoever reaches them can start workflows.
  it('publishes Temporal and its UI on the loopback interface only', () => {
    expect(compose.services.temporal!.ports).toEqual(['127.0.0.1:7233:7233']);
    expect(compose.services['temporal-ui']!.ports).toEqual(['127.0.0.1:8080:8080']);
    for (const [name, service] of Object.entries(compose.services)) {
      if (name === 'api') continue; // Clerk must reach the webhook endpoint
      for (const port of service.ports ?? [])
        expect({ service: name, port, loopback: String(port).startsWith('127.0.0.1:') }).toEqual({
          service: name,
          port,
          loopback: true,
        });
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  it('builds and runs on Node 24 LTS, the runtime package.json supports', () => {
    const bases = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    expect(bases).toEqual(['node:24-bookworm-slim', 'node:24-bookworm-slim']);
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    expect(Number(/^>=(\d+)/.exec(engines)![1])).toBeLessThanOrEqual(24);
  });

  it('installs the product without the sandbox workspace or dev-only packages', () => {
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev --workspaces=false /m);
  });
});
