import { proxyActivities } from '@temporalio/workflow';
import type { CeilingActivities } from './ceiling-activities';

// The engine ceiling (issue 13): the minimal durable shape of a sign-up, two activities and no child workflow, signal
// or timer, every activity a no-op (or a sleep drawn from the same latency profile as the product's round): the
// look-up and write (onboardContact's place), then the email (sendWelcomeEmail's place). Same retry options and
// payloads as the product; no I/O, no mapping.

const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5m' } as const;
const sync = proxyActivities<CeilingActivities>({ startToCloseTimeout: '1m', retry });

/** What the starter hands over: an id to record the write under, and the delivery's payload (for its size). */
export interface CeilingInput {
  id: string;
  event: unknown;
}

/** A sign-up of the minimal durable shape: the write, then the email. */
export async function ceilingSync(input: CeilingInput): Promise<void> {
  await sync.write(input.id);
  await sync.email();
}
