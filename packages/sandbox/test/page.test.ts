import { IncomingWebhook } from '@slack/webhook';
import { Resend } from 'resend';
import type { Sandbox } from '../src/server';
import { createSandbox } from '../src/server';
import { connectSandboxSalesforce } from './salesforce-harness';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await createSandbox();
});
afterAll(() => sandbox.close());

describe('the sandbox page at /', () => {
  it('shows what each service holds, escaped, and refreshes itself', async () => {
    const conn = await connectSandboxSalesforce(sandbox.env);
    const account = await conn.sobject('Account').create({ Name: 'Analytical Engines Ltd' });
    await conn
      .sobject('Contact')
      .create({ FirstName: 'Ada', LastName: 'Lovelace', AccountId: (account as { id: string }).id });

    sandbox.services.clerk.createUser({
      firstName: '<script>alert(1)</script>',
      lastName: 'Mallory',
      emailAddress: ['m@example.com'],
    });
    await new Resend(sandbox.env.RESEND_API_KEY, { baseUrl: sandbox.env.RESEND_BASE_URL }).emails.send({
      from: 'welcome@example.com',
      to: 'ada@analytical-engines.example',
      subject: 'Welcome to clerk-sync',
      text: 'Hello',
    });
    await new IncomingWebhook(sandbox.env.SLACK_WEBHOOK_URL).send({ text: 'Ada Lovelace signed up' });

    const res = await fetch(`${sandbox.url}/`);
    const html = await res.text();
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html).toMatch(/<meta http-equiv="refresh" content="\d+">/);
    expect(html).not.toContain('<script');
    expect(html).toContain('&#60;script&#62;alert(1)&#60;/script&#62; Mallory');
    expect(html).toMatch(/<td>Ada Lovelace<\/td><td><\/td><td><\/td><td>Analytical Engines Ltd<\/td>/); // Contact with its Account's name
    expect(html).toContain('Grace Hopper'); // seeded Clerk user
    expect(html).toContain('grace@cobol.example'); // primary, not first, email
    expect(html).toContain('Welcome to clerk-sync');
    expect(html).toContain('Ada Lovelace signed up');
  });
});
