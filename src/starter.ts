import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import type { Delivery } from './shared/events';
import { ClerkMessageId } from './shared/search-attributes';

/** What the webhook endpoint answers once Temporal has decided. */
export type StartResult =
  { status: 'started'; workflowId: string; runId: string } | { status: 'duplicate'; workflowId: string };

/** Where and how long a start may take: Svix gives up on an answer after 15 s, so stay well inside. */
export interface StarterOptions {
  readonly client: Client;
  readonly taskQueue: string;
  /** Milliseconds Temporal gets to accept a start before the caller answers 503. */
  readonly startTimeoutMs?: number;
}

/** A start Temporal did not accept in time or could not be reached for; the delivery must be retried. */
export class TemporalUnavailable extends Error {
  override readonly name = 'TemporalUnavailable';
}

/** A generic workflow start: the one place that calls `client.workflow.start`. */
export interface StartRequest {
  readonly workflowType: string;
  readonly workflowId: string;
  readonly args: unknown[];
  readonly summary: string;
  readonly searchAttributes: SearchAttributePair[];
}

/** The one caller of `client.workflow.start`: idempotent by workflow id, re-runnable only after a failure. */
export function createStarter({ client, taskQueue, startTimeoutMs = 5_000 }: StarterOptions) {
  async function start(request: StartRequest): Promise<StartResult> {
    try {
      const handle = await client.connection.withDeadline(Date.now() + startTimeoutMs, () =>
        client.workflow.start(request.workflowType, {
          workflowId: request.workflowId,
          taskQueue,
          args: request.args,
          // A completed sync is never redone by a redelivery; a failed, terminated or timed-out one is.
          workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
          workflowIdConflictPolicy: 'FAIL',
          typedSearchAttributes: request.searchAttributes,
          staticSummary: request.summary,
        }),
      );
      return { status: 'started', workflowId: request.workflowId, runId: handle.firstExecutionRunId };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        return { status: 'duplicate', workflowId: request.workflowId };
      }
      throw new TemporalUnavailable(`Temporal did not accept the start of ${request.workflowId}`, {
        cause: err,
      });
    }
  }

  return {
    /** The namespace the starts go to (`/readyz` checks its search attributes). */
    namespace: client.options.namespace,
    start,
    /** Starts the sync workflow of one verified Clerk delivery; its workflow id is the svix-id. */
    startDelivery(delivery: Delivery): Promise<StartResult> {
      return start({
        workflowType: delivery.workflowType,
        workflowId: delivery.svixId,
        args: [delivery.input],
        summary: delivery.summary,
        searchAttributes: [{ key: ClerkMessageId, value: delivery.svixId }, ...delivery.searchAttributes],
      });
    },
  };
}

/** The starter's interface, as the API and the CLI use it. */
export type Starter = ReturnType<typeof createStarter>;
