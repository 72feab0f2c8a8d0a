import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { bundleWorkflowCode, type BundleOptions } from '@temporalio/worker';
import { FAILURE_CONVERTER_PATH } from './codec';

// How the workflows become the code a worker runs, in one place for the worker, `npm run build`, the tests and the
// benchmark, so that all of them run the same bundle.

/** Where the workflows are: compiled JS in production, TypeScript sources under Jest. */
export const WORKFLOWS_PATH = require.resolve('./workflows');

/**
 * Modules loaded once per worker thread and shared by every workflow run instead of being evaluated for each run:
 * stateless ones only (see src/shared/clerk.ts). The SDK deep-freezes them.
 */
export const PRELOADED_MODULES = ['valibot', require.resolve('./shared/clerk')];

/** The bundler's options; `encrypted` builds in the failure converter that moves messages into encoded payloads. */
export function bundleOptions(
  encrypted: boolean,
): Pick<BundleOptions, 'workflowsPath' | 'preloadModules' | 'failureConverterPath'> {
  return {
    workflowsPath: WORKFLOWS_PATH,
    preloadModules: PRELOADED_MODULES,
    ...(encrypted && { failureConverterPath: FAILURE_CONVERTER_PATH }),
  };
}

/** The bundles `npm run build` writes beside the compiled code (dist/). */
export function prebuiltBundlePath(encrypted: boolean, dir = __dirname): string {
  return join(dir, encrypted ? 'workflows.encrypted.bundle.js' : 'workflows.bundle.js');
}

/** Compiled files a bundle is made of; a bundle older than any of them is stale (`tsc` ran without the bundler). */
function sources(dir: string): string[] {
  const all = (d: string) =>
    readdirSync(d, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.js'))
      .map((f) => join(d, f));
  return [
    ...all(join(dir, 'workflows')),
    ...all(join(dir, 'shared')),
    join(dir, 'codec', 'failure-converter.js'),
  ];
}

/**
 * The prebuilt bundle a worker can load in place of bundling at start-up, or why it cannot: none was built (a
 * checkout run through Jest or ts-node), or it is older than the compiled workflows it was made of.
 */
export function prebuiltBundle(
  encrypted: boolean,
  dir = __dirname,
): { codePath: string } | { missing: string } {
  const codePath = prebuiltBundlePath(encrypted, dir);
  let built: number;
  try {
    built = statSync(codePath).mtimeMs;
  } catch {
    return { missing: `no ${codePath}` };
  }
  const newer = sources(dir).find((f) => statSync(f).mtimeMs > built);
  return newer ? { missing: `${codePath} is older than ${newer}` } : { codePath };
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => process.stderr.write(`bundle: ${message}\n`),
  error: (message: string) => process.stderr.write(`bundle: ${message}\n`),
};

/**
 * Bundles workflows into a file: the product's with `bundleOptions()`; the bundler's own info lines are dropped,
 * its warnings go to stderr.
 */
export async function writeBundle(
  codePath: string,
  options: Omit<BundleOptions, 'logger'>,
): Promise<{ ms: number; bytes: number }> {
  const t0 = performance.now();
  const { code } = await bundleWorkflowCode({ ...options, logger: quietLogger });
  mkdirSync(dirname(codePath), { recursive: true });
  writeFileSync(codePath, code);
  return { ms: Math.round(performance.now() - t0), bytes: code.length };
}

/** `npm run build`'s last step (`node dist/workflow-bundle.js`): both prebuilt bundles into dist/. */
async function main(): Promise<void> {
  for (const encrypted of [false, true]) {
    const path = prebuiltBundlePath(encrypted);
    const { ms, bytes } = await writeBundle(path, bundleOptions(encrypted));
    process.stdout.write(`workflow bundle: ${path} (${(bytes / 2 ** 20).toFixed(1)} MiB, ${ms} ms)\n`);
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
