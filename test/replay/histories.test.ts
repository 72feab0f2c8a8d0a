import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import * as workflows from '../../src/workflows';
import { quietRuntime } from '../helpers/temporal';

// Every recorded history must still replay against today's workflow code: a change that would break running
// workflows (a reordered or renamed activity, a new command) fails here with a DeterminismViolationError.
const HISTORIES = join(__dirname, '..', 'histories');
quietRuntime();
const files = readdirSync(HISTORIES).filter((f) => f.endsWith('.json'));

/** `<workflow type>--<url-encoded workflow id>.json`, as record-histories.test.ts writes them. */
const parse = (file: string) => {
  const [type, id] = file.replace(/\.json$/, '').split('--');
  return { type: type!, workflowId: decodeURIComponent(id!) };
};

test.each(files)('%s still replays', async (file) => {
  const history: unknown = JSON.parse(readFileSync(join(HISTORIES, file), 'utf8'));
  const { workflowId } = parse(file);
  await Worker.runReplayHistory(
    { workflowBundle: { codePath: process.env.CLERK_SYNC_TEST_BUNDLE! } },
    history,
    workflowId,
  );
});

test('every workflow type has a recorded history', () => {
  const recorded = [...new Set(files.map((f) => parse(f).type))];
  expect(recorded.sort()).toEqual(Object.keys(workflows).sort());
});
