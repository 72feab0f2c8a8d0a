import { DefaultFailureConverter } from '@temporalio/common';

// Loaded by path (DataConverter.failureConverterPath) in clients, in workers and inside the workflow bundle, so
// workflow code must be able to import it: @temporalio/common only.

/** Failure messages and stack traces move into an encoded payload, which the payload codec then encrypts. */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
