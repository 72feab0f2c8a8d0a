import { createServer } from 'node:http';
import { createClients } from '../src/clients';
import { loadConfig } from '../src/config';
import { productLogger } from './stack';
import { createInlineApp } from './inline-handler';

// The inline handler as a process of its own (as one would deploy it), so that the fault runs can kill it with
// SIGKILL mid-request. Configured like the product (sandbox URLs and keys in the environment) plus PORT; says
// "inline listening" once it accepts requests.

const env = process.env as Record<string, string>;
const { salesforce, clerk, resend, slack } = createClients(loadConfig(env), productLogger());
if (!salesforce || !clerk || !resend || !slack) throw new Error('the inline handler needs all four clients');
const app = createInlineApp({
  secret: env.CLERK_WEBHOOK_SIGNING_SECRET!,
  from: env.WELCOME_EMAIL_FROM!,
  clients: { salesforce, clerk, resend, slack },
});
const handle = app.callback();
createServer((req, res) => void handle(req, res)).listen(Number(env.PORT), '127.0.0.1', () => {
  process.stdout.write('inline listening\n');
});
