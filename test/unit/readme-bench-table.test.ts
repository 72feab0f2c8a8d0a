import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findTable, readmeTable } from '../../bench/readme-table';
import type { Report } from '../../bench/report';

// Issue 17: the README's performance figures re-render from a committed report. When this fails, the README and
// its file disagree: `npm run bench:report -- <file> --write-readme` writes the table the file renders.

const ROOT = join(__dirname, '..', '..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const table = findTable(readme);

describe("README.md's performance table", () => {
  it('sits between the markers and cites a report committed under bench/results/published/', () => {
    expect(table?.file).toMatch(/^bench\/results\/published\/[^/]+\.json$/);
    // git check-ignore exits 1 for a path that .gitignore does not ignore: the file can be committed.
    expect(spawnSync('git', ['check-ignore', '-q', table!.file], { cwd: ROOT }).status).toBe(1);
  });

  it('is exactly what that report renders', () => {
    const report = JSON.parse(readFileSync(join(ROOT, table!.file), 'utf8')) as Report;
    expect(table!.text).toBe(readmeTable(report, table!.file));
  });
});
