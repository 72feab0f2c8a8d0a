import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localEncryptionKey, withLocalKeys } from '../../src/local/state';

describe('operator commands beside npm start', () => {
  it('read local mode’s generated encryption key when the environment sets none', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'clerk-sync-state-'));
    expect(withLocalKeys({}, cwd)).toEqual({}); // no local mode here: nothing to add
    const { entry } = localEncryptionKey(cwd);
    expect(withLocalKeys({ PORT: '3000' }, cwd)).toEqual({ PORT: '3000', CLERK_SYNC_ENCRYPTION_KEY: entry });
    expect(withLocalKeys({ CLERK_SYNC_ENCRYPTION_KEY: 'prod:key' }, cwd)).toEqual({
      CLERK_SYNC_ENCRYPTION_KEY: 'prod:key',
    });
  });
});
