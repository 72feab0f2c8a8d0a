import type { Report } from './report';

// The README's performance tables (issues 17 and 18): each a block between marker comments, named in its opening
// marker and citing the report it is rendered from, e.g. `<!-- bench:table main from bench/results/published/….json
// -->` … `<!-- /bench:table -->`. `main` holds the default run (dev server, every section); `production-layout` a
// run of the e2e section on the Temporal server on PostgreSQL. The older unnamed marker reads as `main`.

export const MAIN = 'main';
export const PRODUCTION_LAYOUT = 'production-layout';

/** One block: its name, the file its opening marker cites (none while it is still empty) and the text inside. */
export interface TableBlock {
  name: string;
  file: string | undefined;
  text: string;
  /** Where the opening marker starts and where the closing one starts, in the README. */
  start: number;
  end: number;
}

const OPEN = /<!-- bench:table(?: (?!from )([\w-]+))?(?: from (\S+))? -->\n/g;
const CLOSE = '<!-- /bench:table -->';
const NAME = /^[a-z][\w-]*$/;

/** Every table block of the README, in order; throws on a block left open or a name used twice. */
export function findTables(readme: string): TableBlock[] {
  const blocks: TableBlock[] = [];
  for (const open of readme.matchAll(OPEN)) {
    const name = open[1] ?? MAIN;
    const inside = open.index + open[0].length;
    const end = readme.indexOf(CLOSE, open.index);
    const next = readme.slice(inside).search(/<!-- bench:table[ -]/);
    if (end < 0 || (next >= 0 && inside + next < end))
      throw new Error(`README.md: ${open[0].trim()} without ${CLOSE} after it`);
    if (blocks.some((b) => b.name === name)) throw new Error(`README.md has two bench tables named ${name}`);
    const text = readme.slice(inside, end).replace(/^\n+/, '').replace(/\n+$/, '');
    blocks.push({ name, file: open[2], text, start: open.index, end });
  }
  return blocks;
}

/**
 * The block `name`; throws when it is not there. A missing block is not inserted by `replaceTable`: where a table
 * goes and what prose introduces it are for whoever writes the README to decide, so the error says which two marker
 * lines to put there first.
 */
export function tableBlock(readme: string, name: string): TableBlock {
  if (!NAME.test(name)) throw new Error(`a table name is lower-case letters, digits and dashes; not ${name}`);
  const blocks = findTables(readme);
  const block = blocks.find((b) => b.name === name);
  if (block) return block;
  const has = blocks.length > 0 ? `(it has ${blocks.map((b) => b.name).join(', ')})` : '(it has none)';
  throw new Error(
    `README.md has no bench table named ${name} ${has}. Put these two lines where it belongs ` +
      `(for ${PRODUCTION_LAYOUT}: after the ${MAIN} table's ${CLOSE}), then run this again:\n` +
      `<!-- bench:table ${name} -->\n${CLOSE}`,
  );
}

/** The README with the block `name` holding `text`, rendered from `file` (which its opening marker then cites). */
export function replaceTable(readme: string, name: string, file: string, text: string): string {
  const block = tableBlock(readme, name);
  const opening = `<!-- bench:table ${name} from ${file} -->\n\n${text}\n\n`;
  return readme.slice(0, block.start) + opening + readme.slice(block.end);
}

/**
 * The block a report's table goes into by default: a run of the e2e section alone on the production layout alone
 * fills `production-layout`, any other `main` (a report from before `--engine` counts as a dev-server run).
 */
export function defaultTable(report: Pick<Report, 'settings'>): string {
  const { sections, engines } = report.settings;
  const only = <T>(xs: readonly T[] | undefined, x: T) => xs?.length === 1 && xs[0] === x;
  return only(sections, 'e2e') && only(engines, 'cluster') ? PRODUCTION_LAYOUT : MAIN;
}
