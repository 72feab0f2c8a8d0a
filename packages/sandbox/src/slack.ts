import { SANDBOX_CREDENTIALS } from './credentials';
import type { SandboxService } from './types';
import { isRecord, readText, sendText } from './wire';

/** One message posted to the Slack incoming webhook. */
export interface SlackMessage {
  text?: string;
  blocks?: unknown[];
  /** Epoch ms. */
  at: number;
}

/** The Slack stand-in, with the messages it received. */
export interface SlackService extends SandboxService {
  readonly name: 'slack';
  messages(): SlackMessage[];
}

/** Creates the Slack incoming-webhook stand-in: `POST <webhook path>` answers `ok` or Slack's text error codes. */
export function createSlackService(options: { webhookPath?: string } = {}): SlackService {
  const webhookPath = options.webhookPath ?? SANDBOX_CREDENTIALS.slackWebhookPath;
  let messages: SlackMessage[] = [];

  return {
    name: 'slack',
    messages: () => messages.map((m) => ({ ...m })),
    reset: () => {
      messages = [];
    },
    snapshot: () => ({ messages }),
    middleware: async (ctx) => {
      if (ctx.path !== webhookPath) {
        // Slack answers a revoked or mistyped webhook URL with these codes.
        if (ctx.path.startsWith('/services/')) return sendText(ctx, 403, 'invalid_token');
        return sendText(ctx, 404, 'no_service');
      }
      if (ctx.method !== 'POST') return sendText(ctx, 405, 'invalid_method');
      const raw = await readText(ctx);
      let payload: unknown;
      try {
        // Slack also takes the legacy form encoding: payload=<json>.
        const json = ctx.is('application/x-www-form-urlencoded')
          ? (new URLSearchParams(raw).get('payload') ?? '')
          : raw;
        payload = JSON.parse(json);
      } catch {
        return sendText(ctx, 400, 'invalid_payload');
      }
      if (!isRecord(payload)) return sendText(ctx, 400, 'invalid_payload');
      const { text, blocks, attachments } = payload;
      if (blocks !== undefined && !Array.isArray(blocks)) return sendText(ctx, 400, 'invalid_blocks');
      const hasText = typeof text === 'string' && text.trim() !== '';
      if (
        !hasText &&
        !(Array.isArray(blocks) && blocks.length) &&
        !(Array.isArray(attachments) && attachments.length)
      ) {
        return sendText(ctx, 400, 'no_text');
      }
      messages.push({
        ...(typeof text === 'string' && { text }),
        ...(Array.isArray(blocks) && { blocks }),
        at: Date.now(),
      });
      sendText(ctx, 200, 'ok');
    },
  };
}
