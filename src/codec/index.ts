import type { DataConverter } from '@temporalio/common';
import { EncryptionCodec, type EncryptionCodecOptions, type EncryptionKey } from './encryption-codec';

export {
  EncryptionCodec,
  PayloadDecryptionFailed,
  PlaintextPayloadRefused,
  type EncryptionCodecOptions,
  type EncryptionKey,
} from './encryption-codec';

/**
 * The module that exports the encrypting failure converter. A worker that bundles its workflows at start-up
 * (`workflowsPath`) builds it in; a prebuilt `workflowBundle` needs `bundleWorkflowCode({ failureConverterPath })`.
 */
export const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');

/**
 * Issue 6 "Histories without plain PII": with keys, every client and worker encrypts payloads (inputs, results,
 * activity arguments, summaries, memos) and failure messages and stack traces; without keys, the SDK's defaults.
 * Search attributes are never encoded: they carry ids only. Workers pass `plaintext: 'refuse'` (issue 12).
 */
export function dataConverter(
  keys: readonly EncryptionKey[],
  options: EncryptionCodecOptions = {},
): DataConverter | undefined {
  if (keys.length === 0) return undefined;
  return {
    payloadCodecs: [new EncryptionCodec(keys, options)],
    failureConverterPath: FAILURE_CONVERTER_PATH,
  };
}
