import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { loadFixture } from '../../src/local/fixtures';
import { newSvixId } from '@clerk-sync/sandbox';
import { ClerkMessageId } from '../../src/shared/search-attributes';
import { startStack, type Stack } from '../helpers/stack';
import { uniqueTaskQueue, waitUntil } from '../helpers/temporal';

// The product with its workers and the sandbox, so that runs really complete or fail.
let stack: Stack;
let env: TestWorkflowEnvironment;
let api: Stack['api'];

beforeAll(async () => {
  stack = await startStack({ workers: false });
  ({ env, api } = stack);
});
afterAll(async () => {
  await stack?.close();
});

/** Every run Temporal holds for a workflow id (visibility is eventually consistent: wait for `count`). */
async function runsOf(svixId: string, count: number): Promise<string[]> {
  return waitUntil(
    async () => {
      const runs: string[] = [];
      for await (const w of env.client.workflow.list({ query: `WorkflowId = '${svixId}'` }))
        runs.push(w.status.name);
      return runs.length === count ? runs.sort() : undefined;
    },
    10_000,
    `${count} runs of ${svixId}`,
  );
}

describe('redeliveries of the same svix-id', () => {
  it('while the workflow runs: `duplicate`, and still one run', async () => {
    const svixId = newSvixId();
    const first = await api.postEvent(loadFixture('user.created'), { svixId });
    const second = await api.postEvent(loadFixture('user.created'), { svixId });
    expect(first.body).toEqual({ status: 'started', workflowId: svixId });
    expect(second).toMatchObject({ status: 200, body: { status: 'duplicate', workflowId: svixId } });
    expect(await runsOf(svixId, 1)).toEqual(['RUNNING']);
    await env.client.workflow.getHandle(svixId).terminate('test done');
  });

  it('after it completed: `duplicate`, never a second run', async () => {
    const svixId = newSvixId();
    await stack.startWorkers();
    await api.postEvent(loadFixture('organization.created'), { svixId });
    await env.client.workflow.getHandle(svixId).result();
    await stack.stopWorkers();
    const again = await api.postEvent(loadFixture('organization.created'), { svixId });
    expect(again.body).toEqual({ status: 'duplicate', workflowId: svixId });
    expect(await runsOf(svixId, 1)).toEqual(['COMPLETED']);
  });

  it('after it failed: a new run starts (this is how a redelivery retries a failed sync)', async () => {
    const svixId = newSvixId();
    const broken = { ...loadFixture('user.updated'), data: { object: 'user' } }; // no id: fails for good
    await stack.startWorkers();
    await api.postEvent(broken, { svixId });
    await expect(env.client.workflow.getHandle(svixId).result()).rejects.toThrow();
    await stack.stopWorkers();
    const again = await api.postEvent(broken, { svixId });
    expect(again).toMatchObject({ status: 202, body: { status: 'started', workflowId: svixId } });
    expect(await runsOf(svixId, 2)).toEqual(['FAILED', 'RUNNING']);
    await env.client.workflow.getHandle(svixId).terminate('test done');
  });

  it('after it was terminated: a new run starts', async () => {
    const svixId = newSvixId();
    await api.postEvent(loadFixture('user.deleted'), { svixId });
    await env.client.workflow.getHandle(svixId).terminate('operator stopped it');
    const again = await api.postEvent(loadFixture('user.deleted'), { svixId });
    expect(again.body).toEqual({ status: 'started', workflowId: svixId });
    expect(await runsOf(svixId, 2)).toEqual(['RUNNING', 'TERMINATED']);
    await env.client.workflow.getHandle(svixId).terminate('test done');
  });

  it('after it timed out: a new run starts', async () => {
    const svixId = newSvixId();
    // A run that nobody works on and that times out after a second, as a stuck sync would.
    await env.client.workflow.start('syncUser', {
      workflowId: svixId,
      taskQueue: uniqueTaskQueue('nobody'),
      args: [{ svixId, type: 'user.updated', timestamp: Date.now(), data: { id: 'user_x' } }],
      workflowExecutionTimeout: '1s',
      typedSearchAttributes: [{ key: ClerkMessageId, value: svixId }],
    });
    await waitUntil(
      async () => (await env.client.workflow.getHandle(svixId).describe()).status.name === 'TIMED_OUT',
    );
    const again = await api.postEvent(loadFixture('user.updated'), { svixId });
    expect(again.body).toEqual({ status: 'started', workflowId: svixId });
    expect(await runsOf(svixId, 2)).toEqual(['RUNNING', 'TIMED_OUT']);
    await env.client.workflow.getHandle(svixId).terminate('test done');
  });
});
