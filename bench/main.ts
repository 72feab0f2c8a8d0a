import { execSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createSandbox, type Sandbox } from '@clerk-sync/sandbox';
import { bundleOptions, writeBundle } from '../src/workflow-bundle';
import { costSection } from './cost';
import { e2eSection } from './e2e';
import { ingestSection } from './ingest';
import { inlineSection } from './inline';
import { LoadGenerator } from './load-generator';
import { noticesSection } from './notices';
import { CLERK_SEED, REPO, RESULTS_DIR, RUN_DIR } from './paths';
import type { Report } from './report';
import { table } from './report';
import { scaleSection } from './scale';
import { parseArgs, type Section } from './settings';
import { sizesErrors, sizesSection } from './sizes';
import type { Bench } from './stack';
import { WorkerHost } from './worker-host';

// `npm run bench`: see the README's Performance section. Progress goes to stderr, the table to stdout, the whole
// report to bench/results/<time>.json.

/** The product's bundle exactly as `npm run build` makes it, and the ceiling's (nothing to preload). */
async function bundles(): Promise<{
  product: string;
  ceiling: string;
  productMs: number;
  ceilingMs: number;
}> {
  const product = join(RUN_DIR, 'product-bundle.js');
  const ceiling = join(RUN_DIR, 'ceiling-bundle.js');
  const p = await writeBundle(product, bundleOptions(false));
  const c = await writeBundle(ceiling, { workflowsPath: require.resolve('./ceiling-workflows') });
  return { product, ceiling, productMs: p.ms, ceilingMs: c.ms };
}

function git(): Report['git'] {
  try {
    const commit = execSync('git rev-parse HEAD', { cwd: REPO, encoding: 'utf8' }).trim();
    const status = execSync('git status --porcelain', { cwd: REPO, encoding: 'utf8' });
    return { commit, uncommittedFiles: status.split('\n').filter(Boolean).length };
  } catch {
    return { commit: 'unknown', uncommittedFiles: -1 };
  }
}

async function main(): Promise<number> {
  const settings = parseArgs(process.argv.slice(2));
  // The Temporal CLI lives in the repository's .cache/ (src/local/temporal-cli.ts looks beside dist/ otherwise).
  process.env.CLERK_SYNC_CACHE_DIR ??= join(REPO, '.cache');
  mkdirSync(RUN_DIR, { recursive: true });
  mkdirSync(RESULTS_DIR, { recursive: true });
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const note = (m: string) => process.stderr.write(`bench: ${m}\n`);
  const t0 = performance.now();
  const cpu = cpus();
  const report: Report = {
    startedAt: new Date().toISOString(),
    machine: {
      hostname: hostname(),
      cpus: cpu.length,
      cpuModel: cpu[0]?.model.trim() ?? 'unknown',
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      loadAverageAtStart: loadavg().map((l) => Number(l.toFixed(2))),
      node: process.version,
    },
    git: git(),
    argv: process.argv.slice(2),
    settings,
    bundles: { productMs: 0, ceilingMs: 0 },
    errors: [],
  };
  note(
    `${settings.mode} run: ${settings.sections.join(', ')}; ${settings.pairs} pairs each (e2e ${settings.e2e.pairs})`,
  );

  const { product, ceiling, productMs, ceilingMs } = await bundles();
  report.bundles = { productMs, ceilingMs };
  note(`bundled the workflows in ${productMs} ms (ceiling ${ceilingMs} ms)`);

  let sandbox: Sandbox | undefined;
  let generator: LoadGenerator | undefined;
  let host: WorkerHost | undefined;
  try {
    sandbox = await createSandbox({ seed: CLERK_SEED, salesforce: { dailyApiLimit: 1e9 } });
    generator = LoadGenerator.start();
    const profiles = join(RUN_DIR, 'cpu-prof');
    host = WorkerHost.start(settings.cpuProfile ? ['--cpu-prof', `--cpu-prof-dir=${profiles}`] : []);
    if (settings.cpuProfile) note(`worker CPU profiles go to ${profiles}`);
    const bench: Bench = {
      settings,
      sandbox,
      generator,
      host,
      secret: `whsec_${randomBytes(24).toString('base64')}`,
      bundles: { product, ceiling },
      note,
    };
    const sections: Record<Section, () => Promise<void>> = {
      ingest: async () => void (report.ingest = await ingestSection(bench)),
      e2e: async () => void (report.e2e = await e2eSection(bench)),
      notices: async () => void (report.notices = await noticesSection(bench)),
      inline: async () => void (report.inline = await inlineSection(bench)),
      cost: async () => void (report.cost = await costSection(bench)),
      scale: async () => void (report.scale = await scaleSection(bench)),
      sizes: async () => {
        report.sizes = await sizesSection(bench);
        // A part whose result was wrong has no figures: it is an error of the run.
        for (const error of sizesErrors(report.sizes)) report.errors.push({ section: 'sizes', error });
      },
    };
    for (const section of settings.sections) {
      const s0 = performance.now();
      try {
        await sections[section]();
      } catch (err) {
        report.errors.push({
          section,
          error: err instanceof Error ? (err.stack ?? err.message) : String(err),
        });
        note(`${section} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      note(`${section} took ${Math.round((performance.now() - s0) / 1000)} s`);
    }
  } finally {
    generator?.close();
    await host?.close();
    await sandbox?.close();
  }

  report.finishedAt = new Date().toISOString();
  report.durationS = Math.round((performance.now() - t0) / 1000);
  report.machine.loadAverageAtEnd = loadavg().map((l) => Number(l.toFixed(2)));
  const file = join(RESULTS_DIR, `${report.startedAt.replace(/[:.]/g, '-')}-${settings.mode}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\n${table(report)}\n\nreport: ${file} (${report.durationS} s)\n`);
  return report.errors.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
