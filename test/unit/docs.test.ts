import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CONFIG_VARIABLES } from '../../src/config';

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
        build?: string;
        command?: string[];
        environment?: Record<string, unknown>;
        ports?: string[];
        healthcheck?: unknown;
        depends_on?: Record<string, unknown>;
        env_file?: string;
      }
    >;
  };

  it('runs PostgreSQL, Temporal on it, the Temporal UI, and the API and worker built from this repository', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'api',
      'postgresql',
      'temporal',
      'temporal-ui',
      'worker',
    ]);
    expect(compose.services.temporal!.environment).toMatchObject({
      DB: 'postgres12',
      POSTGRES_SEEDS: 'postgresql',
    });
    expect(compose.services.api).toMatchObject({ build: '.', command: ['api'], env_file: '.env' });
    expect(compose.services.worker).toMatchObject({ build: '.', command: ['worker'], env_file: '.env' });
    for (const name of ['postgresql', 'temporal', 'api'])
      expect(compose.services[name]!.healthcheck).toBeDefined();
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
