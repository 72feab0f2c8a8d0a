import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository root: the nearest folder above this file whose package.json is clerk-sync's. */
function findRepo(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (
      existsSync(pkg) &&
      (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'clerk-sync'
    ) {
      return dir;
    }
    if (dirname(dir) === dir) throw new Error(`no clerk-sync package.json above ${from}`);
  }
}

/** Where the benchmark runs from (compiled to .cache/bench/bench/ by bench/tsconfig.json). */
export const REPO = findRepo(__dirname);
/** Reports: git-ignored. */
export const RESULTS_DIR = join(REPO, 'bench', 'results');
/** Bundles, worker logs and the working directory of spawned workers (no `.env` there). */
export const RUN_DIR = join(REPO, '.cache', 'bench', 'run');
/** The compiled `clerk-sync` entry point, from the same compilation as the benchmark. */
export const BIN = join(REPO, '.cache', 'bench', 'src', 'bin.js');
/** The Clerk seed (the sandbox's default path is relative to dist/, which the bench does not run from). */
export const CLERK_SEED = join(REPO, 'packages', 'sandbox', 'fixtures', 'clerk-seed.json');
