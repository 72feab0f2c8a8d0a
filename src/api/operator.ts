import type Router from '@koa/router';
import type { Context } from 'koa';
import getRawBody from 'raw-body';
import { z } from 'zod';
import type { Logger } from '../logger';
import { ACCOUNT_ID } from '../shared/mapping';
import { toId18 } from '../shared/salesforce-id';
import { ClerkUserId } from '../shared/search-attributes';
import type { Starter } from '../starter';
import { requireBearer } from './bearer';
import { HttpError } from './errors';

const CreateOrganizationBody = z.strictObject({
  /** Issue 12: the 18-character form, so "once per Account" holds whichever form (or case) the caller sends. */
  accountId: z
    .string()
    .regex(ACCOUNT_ID, 'must be a Salesforce Account Id (15 or 18 characters, starting with 001)')
    .transform((id, ctx) => {
      const id18 = toId18(id);
      if (id18) return id18;
      ctx.addIssue({
        code: 'custom',
        message: 'is not a Salesforce Id: its last 3 characters do not match the first 15',
      });
      return z.NEVER;
    }),
  createdBy: z
    .string()
    .regex(/^user_[A-Za-z0-9]+$/, 'must be a Clerk user id (user_…)')
    .optional(),
});

async function readJson(ctx: Context): Promise<unknown> {
  const raw = await getRawBody(ctx.req, {
    limit: '64kb',
    length: ctx.get('content-length') || undefined,
    encoding: 'utf8',
  });
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw new HttpError(400, 'invalid_json', 'Body must be JSON');
  }
}

/** The operator API (`/api/*`); without `CLERK_SYNC_API_KEY` none of it exists (404). */
export function operatorRoutes(
  router: Router,
  deps: { apiKey?: string; starter: Starter; logger: Logger },
): void {
  const { apiKey, starter, logger } = deps;
  if (!apiKey) return;

  /** The Create Organization API: a Clerk organization for an existing Salesforce Account, idempotent per Account. */
  router.post('/api/organizations', async (ctx) => {
    requireBearer(ctx, apiKey);
    const parsed = CreateOrganizationBody.safeParse(await readJson(ctx));
    if (!parsed.success) {
      const problems = parsed.error.issues
        .map((i) => `${i.path.join('.') || 'body'}: ${i.message}`)
        .join('; ');
      throw new HttpError(400, 'invalid_request', problems);
    }
    const { accountId, createdBy } = parsed.data;
    const result = await starter.start({
      workflowType: 'createOrganizationForAccount',
      workflowId: `create-organization/${accountId}`,
      args: [{ accountId, createdBy }],
      summary: `create Clerk organization for Account ${accountId}`,
      searchAttributes: createdBy ? [{ key: ClerkUserId, value: createdBy }] : [],
    });
    logger.info(
      { accountId, workflowId: result.workflowId, status: result.status },
      'create organization requested',
    );
    ctx.status = 202;
    ctx.body = { status: result.status, workflowId: result.workflowId };
  });
}
