import { createClerkClient } from '@clerk/backend';
import { IncomingWebhook } from '@slack/webhook';
import { Resend } from 'resend';
import { classifyClerk } from '../../activities/errors';
import { boundedClerkClient } from '../../clients';
import type { Config } from '../../config';
import type { CheckResult } from './report';
import { ok, warn, fail, CHECK_TIMEOUT_MS, check } from './check';

// doctor: Clerk, Resend and Slack: the key works, the sender's domain is verified, the webhook URL's shape.
/** The secret key works (a count of users: one cheap read) and which instance it belongs to. */
export function clerkCheck(config: Config): Promise<CheckResult> {
  return check('clerk.key', 'Clerk secret key', async () => {
    const clerk = config.clerk;
    if (!clerk)
      return warn(
        'not set: no membership look-ups, and `backfill` and `explain` cannot read Clerk',
        'set CLERK_SECRET_KEY',
      );
    const client = boundedClerkClient(
      createClerkClient({ secretKey: clerk.secretKey, apiUrl: clerk.apiUrl }),
      CHECK_TIMEOUT_MS - 500,
    );
    const instance = clerk.secretKey.startsWith('sk_live_') ? 'production' : 'development';
    try {
      const users = await client.users.getCount();
      return ok(`works: ${instance} instance (${clerk.secretKey.slice(0, 8)}… key), ${users} users`);
    } catch (err) {
      return fail(classifyClerk(err, 1).message);
    }
  });
}

/** The key works and the sender's domain is verified (`GET /domains`). */
export function resendCheck(config: Config): Promise<CheckResult> {
  return check('resend.domain', 'Resend key and sender domain', async () => {
    const email = config.email;
    if (!email)
      return warn('RESEND_API_KEY not set: no welcome emails', 'set RESEND_API_KEY and WELCOME_EMAIL_FROM');
    const domain = /@([^\s@<>]+)>?\s*$/.exec(email.from)?.[1]?.toLowerCase() ?? '?';
    const resend = new Resend(email.apiKey, { baseUrl: email.baseUrl });
    const { data, error } = await resend.domains.list();
    if (error) {
      if (error.name === 'restricted_api_key') {
        return warn(
          `the key works but may only send: cannot tell whether ${domain} is verified`,
          'check the domain at https://resend.com/domains',
        );
      }
      return fail(`${error.name}: ${error.message}`, 'check RESEND_API_KEY (and RESEND_BASE_URL)');
    }
    const found = data?.data.find((d) => d.name.toLowerCase() === domain);
    if (!found) {
      return fail(
        `the key works, but ${domain} (WELCOME_EMAIL_FROM) is not a domain of this Resend account`,
        'add and verify it at https://resend.com/domains, or send from one that is',
      );
    }
    if (found.status !== 'verified') {
      return fail(
        `the key works, but ${domain} is ${found.status.replace(/_/g, ' ')}: Resend refuses to send from it`,
        'publish its DNS records and verify it at https://resend.com/domains',
      );
    }
    return ok(`works; ${domain} verified`);
  });
}

/** Incoming-webhook URLs are `https://hooks.slack.com/services/T…/B…/<token>`. */
const SLACK_WEBHOOK_PATH = /^\/(?:.*\/)?services\/(T[A-Z0-9]+)\/(B[A-Z0-9]+)\/[A-Za-z0-9]+$/;

/** The URL's shape; a message only with `--post-test`. */
export function slackCheck(config: Config, postTest: boolean): Promise<CheckResult> {
  return check('slack.url', 'Slack webhook URL', async () => {
    const slack = config.slack;
    if (!slack) return warn('SLACK_WEBHOOK_URL not set: no Slack notices');
    const url = new URL(slack.webhookUrl);
    const path = SLACK_WEBHOOK_PATH.exec(url.pathname);
    const slackHost = url.hostname === 'hooks.slack.com';
    const local = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
    if (!path || (!slackHost && !local) || (slackHost && url.protocol !== 'https:')) {
      return fail(
        `not an incoming-webhook URL (${url.protocol}//${url.hostname}${url.pathname.replace(/[^/]+$/, '…')})`,
        'copy it from Slack: Apps > Incoming Webhooks > Webhook URL (https://hooks.slack.com/services/T…/B…/…)',
      );
    }
    const where = `${path[1]}/${path[2]}${local ? ` on ${url.host}` : ''}`;
    if (!postTest) return ok(`incoming-webhook shape (${where}); nothing posted (--post-test posts one)`);
    await new IncomingWebhook(slack.webhookUrl, { timeout: CHECK_TIMEOUT_MS - 500 }).send({
      text: 'clerk-sync doctor: test message (the Slack notices of clerk-sync arrive here)',
    });
    return ok(`incoming-webhook shape (${where}); test message posted`);
  });
}
