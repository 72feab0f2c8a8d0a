import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { defaultTable, findTables, replaceTable, tableBlock } from './readme-blocks';
import { readmeTable } from './readme-table';
import type { Report } from './report';
import { REPO, RESULTS_DIR } from './paths';

// `npm run bench:report -- <file> [--write-readme [--table=<name>]]`: prints a README performance table for a
// report, or publishes the report (bench/results/published/, committed) and writes the table into its block of
// README.md: `--table=<name>`, else the one the report's settings pick (bench/readme-blocks.ts: defaultTable).

/** Where the report the README cites is committed (the rest of bench/results/ is git-ignored). */
const PUBLISHED_DIR = join(RESULTS_DIR, 'published');
const README = join(REPO, 'README.md');

/** Copies a report into published/, laid out as Prettier wants it (`npm run lint` checks committed files). */
async function publish(source: string): Promise<string> {
  const target = join(PUBLISHED_DIR, basename(source));
  mkdirSync(PUBLISHED_DIR, { recursive: true });
  if (resolve(source) !== target) copyFileSync(source, target);
  const options = { ...(await resolveConfig(target)), filepath: target };
  writeFileSync(target, await format(readFileSync(target, 'utf8'), options));
  return target;
}

const USAGE = 'usage: npm run bench:report -- <bench/results/….json> [--write-readme [--table=<name>]]';

async function main(argv: string[]): Promise<void> {
  const write = argv.includes('--write-readme');
  const table = argv.find((a) => a.startsWith('--table='))?.slice('--table='.length);
  const args = argv.filter((a) => a !== '--write-readme' && !a.startsWith('--table='));
  if (args.length !== 1 || args[0]!.startsWith('--') || table === '' || (table && !write))
    throw new Error(USAGE);
  // npm runs scripts from the repository root; a relative path means one from where the command was typed.
  const source = resolve(process.env.INIT_CWD ?? process.cwd(), args[0]!);
  const report = JSON.parse(readFileSync(source, 'utf8')) as Report;
  if (!write) {
    process.stdout.write(`${readmeTable(report, relative(REPO, source))}\n`);
    return;
  }
  const name = table ?? defaultTable(report);
  const readme = readFileSync(README, 'utf8');
  // Throws before anything is published when the README has no block of that name.
  const before = tableBlock(readme, name).file;
  const published = await publish(source);
  const cited = relative(REPO, published);
  const next = replaceTable(readme, name, cited, readmeTable(report, cited));
  writeFileSync(README, next);
  process.stdout.write(`README.md: the ${name} performance table now comes from ${cited}\n`);
  const stillCited = findTables(next).some((b) => b.file === before);
  if (before && !stillCited && dirname(resolve(REPO, before)) === PUBLISHED_DIR)
    process.stdout.write(`${before} is no longer cited: git rm it unless something else needs it\n`);
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:report: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
