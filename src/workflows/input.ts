import { ApplicationFailure } from '@temporalio/workflow';
import type { ClerkEvent } from '../shared/events';

/** A payload without an id can never sync: fail the run at once, visibly, instead of retrying. */
export function requireRecordId(event: ClerkEvent): string {
  const id = event.data.id;
  if (typeof id !== 'string' || id === '') {
    throw ApplicationFailure.create({
      type: 'InvalidClerkPayload',
      message: `${event.type} ${event.svixId}: data.id is missing`,
      nonRetryable: true,
    });
  }
  return id;
}
