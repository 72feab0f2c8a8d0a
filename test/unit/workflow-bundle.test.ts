import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prebuiltBundle, prebuiltBundlePath } from '../../src/workflow-bundle';

// Issue 7 "Tune the worker … bundle reuse": the worker runs one bundle built ahead of time, in which the Clerk
// payload schemas are evaluated once per worker thread instead of once per workflow run.

describe("the worker's workflow bundle", () => {
  const code = readFileSync(process.env.CLERK_SYNC_TEST_BUNDLE!, 'utf8');

  it('carries no zod (whose module set-up cost 40% of every workflow run)', () => {
    expect(code).not.toMatch(/node_modules\/zod\//);
  });

  it('preloads the Clerk payload schemas, shared by every run of a worker thread', () => {
    const preload = /exports\.preloadModules = function preloadModules\(\) \{([^}]*)\}/.exec(code)?.[1];
    expect(preload).toMatch(/shared\/clerk/);
  });
});

describe('the prebuilt bundle', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'clerk-sync-bundle-'));
    for (const sub of ['workflows', 'shared/nested', 'codec']) mkdirSync(join(dir, sub), { recursive: true });
    for (const f of ['workflows/index.js', 'shared/nested/clerk.js', 'codec/failure-converter.js'])
      writeFileSync(join(dir, f), '');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const age = (file: string, secondsAgo: number) => {
    const t = new Date(Date.now() - secondsAgo * 1000);
    utimesSync(join(dir, file), t, t);
  };

  it('is used when it is newer than every compiled file it is made of', () => {
    for (const f of ['workflows/index.js', 'shared/nested/clerk.js', 'codec/failure-converter.js'])
      age(f, 60);
    writeFileSync(prebuiltBundlePath(true, dir), '');
    expect(prebuiltBundle(true, dir)).toEqual({ codePath: join(dir, 'workflows.encrypted.bundle.js') });
    expect(prebuiltBundle(false, dir)).toEqual({ missing: `no ${join(dir, 'workflows.bundle.js')}` });
  });

  it('is set aside, saying why, when a compiled workflow is newer (tsc ran without the bundler)', () => {
    writeFileSync(prebuiltBundlePath(false, dir), '');
    age('workflows.bundle.js', 60);
    age('workflows/index.js', 120);
    age('codec/failure-converter.js', 120);
    expect(prebuiltBundle(false, dir)).toEqual({
      missing: `${join(dir, 'workflows.bundle.js')} is older than ${join(dir, 'shared/nested/clerk.js')}`,
    });
  });
});
