import { randomBytes } from 'node:crypto';
import type { ClerkEvent } from '@clerk-sync/sandbox';
import { deliverWebhook } from '@clerk-sync/sandbox';
import { slackLines } from '../helpers/slack';
import { startStack, type Stack } from '../helpers/stack';
import { waitUntil } from '../helpers/temporal';

// Issue 12 "Text that other systems interpret": names, organization names and roles come through signed and
// valid; Slack must show them as typed (no channel-wide ping, no link in an internal channel). Salesforce's side
// of hostile names (@{…}, quotes, backslashes, unicode) is test/e2e/hostile-names.test.ts.

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.close();
});

const idOf = (e: ClerkEvent) => (e.data as { id: string }).id;

/** Delivers an event, waits for its run and for its Slack notice (every one of these events posts one). */
async function syncWithNotice(event: ClerkEvent): Promise<void> {
  const before = slackLines(stack.sandbox).length;
  const { svixId, status } = await deliverWebhook(`${stack.api.url}/webhooks/clerk`, stack.secret, event);
  expect(status).toBe(202);
  await stack.client.workflow.getHandle(svixId).result();
  await waitUntil(() => slackLines(stack.sandbox).length > before, 10_000, 'the Slack notice');
}

/** A sign-up with these names, synced with its notice; returns the user id. */
async function signUp(firstName: string, lastName: string): Promise<string> {
  const user = stack.sandbox.services.clerk.createUser({
    firstName,
    lastName,
    emailAddress: [`${randomBytes(4).toString('hex')}@example.com`],
  });
  await syncWithNotice(user);
  return idOf(user);
}

/** The Contact's names as Salesforce stores them. */
async function contactNames(userId: string) {
  const { records } = await stack.salesforce.query<{ FirstName: string; LastName: string }>(
    `SELECT FirstName, LastName FROM Contact WHERE Clerk_User_Id__c = '${userId}'`,
  );
  expect(records).toHaveLength(1);
  return { FirstName: records[0]!.FirstName, LastName: records[0]!.LastName };
}

/** The notices Slack received that contain one of `needles`. */
function noticesAbout(...needles: string[]): string[] {
  return slackLines(stack.sandbox).filter((text) => needles.some((n) => text.includes(n)));
}

describe('Slack notices with hostile names', () => {
  it('a <!channel> first name and a link-shaped organization name reach Slack escaped, as Slack documents', async () => {
    const clerk = stack.sandbox.services.clerk;
    const organization = clerk.createOrganization({
      name: '<https://evil.example|Re-authenticate Salesforce>',
    });
    const userId = await signUp('<!channel>', 'Smith & <@U024BE7LH>');
    const joined = clerk.addMembership({ organizationId: idOf(organization), userId, role: 'org:admin' });
    // Clerk's role keys allow no markup; a signed payload may still carry any string.
    await syncWithNotice({ ...joined, data: { ...joined.data, role: 'org:<!here>' } } as ClerkEvent);

    const who = '&lt;!channel&gt; Smith &amp; &lt;@U024BE7LH&gt;';
    const notices = noticesAbout(userId, 'Smith &amp;');
    expect(notices.sort()).toEqual(
      [
        `New sign-up: ${who} (${userId})`,
        `${who} joined &lt;https://evil.example|Re-authenticate Salesforce&gt; as org:&lt;!here&gt;`,
      ].sort(),
    );
    // Nothing Slack would read as a mention, a link or any other markup.
    for (const text of notices) expect(text).not.toMatch(/[<>]/);

    // Salesforce keeps the names as typed: the escaping is Slack's alone.
    expect(await contactNames(userId)).toEqual({ FirstName: '<!channel>', LastName: 'Smith & <@U024BE7LH>' });
    const { records } = await stack.salesforce.query<{ Name: string }>(
      `SELECT Name FROM Account WHERE Clerk_Organization_Id__c = '${idOf(organization)}'`,
    );
    expect(records.map((r) => r.Name)).toEqual(['<https://evil.example|Re-authenticate Salesforce>']);
  });
});
