import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAIN, findTables } from '../../bench/readme-blocks';
import { readmeTable } from '../../bench/readme-table';
import type { Report } from '../../bench/report';

// Issues 17 and 18: the README's performance figures re-render from committed reports, one per table block. When
// this fails, a block and its file disagree: `npm run bench:report -- <file> --write-readme [--table=<name>]` writes
// the table the file renders into that block.

const ROOT = join(__dirname, '..', '..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const blocks = findTables(readme);

describe("README.md's performance tables", () => {
  it('include the main one', () => {
    expect(blocks.map((b) => b.name)).toContain(MAIN);
  });

  describe.each(blocks.map((b) => [b.name, b] as const))('the %s table', (_, block) => {
    it('cites a report committed under bench/results/published/', () => {
      // An empty block (markers put there for a first --write-readme) has no file yet: it must not be committed.
      expect(block.file).toMatch(/^bench\/results\/published\/[^/]+\.json$/);
      // git check-ignore exits 1 for a path that .gitignore does not ignore: the file can be committed.
      expect(spawnSync('git', ['check-ignore', '-q', block.file!], { cwd: ROOT }).status).toBe(1);
    });

    it('is exactly what that report renders', () => {
      const report = JSON.parse(readFileSync(join(ROOT, block.file!), 'utf8')) as Report;
      expect(block.text).toBe(readmeTable(report, block.file!));
    });
  });
});
