import type { Sandbox } from '@clerk-sync/sandbox';

/** Every line the sandbox's Slack received, oldest first: a message carries one notice per line (issue 13). */
export function slackLines(sandbox: Sandbox): string[] {
  return sandbox.services.slack.messages().flatMap((m) => (m.text ?? '').split('\n'));
}
