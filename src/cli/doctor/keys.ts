import type { Config } from '../../config';
import type { CheckResult } from './report';
import { ok, fail, check } from './check';

// doctor: the signing secrets and the encryption keys.
/** The signing secrets and the encryption keys: the configuration already decoded them; say what they are. */
export function keyChecks(config: Config): Promise<CheckResult>[] {
  return [
    check('keys.signing-secret', 'Signing secret', () => {
      const n = config.signingSecrets.length;
      if (n === 0) {
        return fail(
          'CLERK_WEBHOOK_SIGNING_SECRET not set: `clerk-sync api` refuses to start without it',
          "set it to the Clerk endpoint's whsec_… secret",
        );
      }
      return ok(n === 1 ? 'decodes (whsec_…)' : `${n} secrets decode (a rotation in progress)`);
    }),
    check('keys.encryption', 'Encryption key', () => {
      const keys = config.encryptionKeys;
      if (keys.length === 0) return ok('none: payloads reach Temporal in clear (CLERK_SYNC_ENCRYPTION_KEY)');
      const older = keys.length > 1 ? `, ${keys.length - 1} older key(s) decrypt` : '';
      return ok(`decodes: AES-256 key ${keys[0]!.id} encrypts${older}`);
    }),
  ];
}
