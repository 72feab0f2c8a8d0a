import { IncomingWebhook } from '@slack/webhook';
import type { Sandbox } from '../src/server';
import { createSandbox } from '../src/server';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await createSandbox();
});
afterEach(() => sandbox.reset());
afterAll(() => sandbox.close());

describe('Slack incoming-webhook stand-in, through @slack/webhook', () => {
  it('answers ok and records the message', async () => {
    const result = await new IncomingWebhook(sandbox.env.SLACK_WEBHOOK_URL).send({
      text: 'Ada Lovelace signed up',
    });
    expect(result).toEqual({ text: 'ok' });
    expect(sandbox.services.slack.messages()).toEqual([
      expect.objectContaining({ text: 'Ada Lovelace signed up' }),
    ]);
  });

  it('keeps blocks', async () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*Ada* joined *Analytical Engines*' } }];
    await new IncomingWebhook(sandbox.env.SLACK_WEBHOOK_URL).send({ text: 'Ada joined', blocks });
    expect(sandbox.services.slack.messages()[0]?.blocks).toEqual(blocks);
  });

  it('answers 400 no_text for a message without text or blocks', async () => {
    const err: unknown = await new IncomingWebhook(sandbox.env.SLACK_WEBHOOK_URL)
      .send({})
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'slack_webhook_http_error', statusCode: 400, body: 'no_text' });
    expect(sandbox.services.slack.messages()).toHaveLength(0);
  });

  it('answers 400 invalid_payload for a body that is not JSON', async () => {
    const res = await fetch(sandbox.env.SLACK_WEBHOOK_URL, {
      method: 'POST',
      body: '{nope',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('invalid_payload');
  });

  it('answers a wrong webhook token with 403 invalid_token', async () => {
    const wrong = `${sandbox.url}/slack/services/T0SANDBOX/B0SANDBOX/wrongtoken`;
    const err: unknown = await new IncomingWebhook(wrong).send({ text: 'hi' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ statusCode: 403, body: 'invalid_token' });
  });
});
