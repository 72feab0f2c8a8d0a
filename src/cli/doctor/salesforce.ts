import type { Connection } from 'jsforce';
import { classifySalesforce, salesforceCredentialRefusal } from '../../activities/errors';
import { salesforceSession } from '../../clients';
import type { Config } from '../../config';
import type { Logger } from '../../logger';
import type { CheckResult } from './report';
import { SALESFORCE_COMPONENTS } from '../salesforce-schema';
import { setupSalesforce } from '../salesforce-setup';
import { type Outcome, ok, warn, fail, CHECK_TIMEOUT_MS, check, skipped, messageOf, list } from './check';

// doctor: Salesforce: token, API version, `salesforce setup --check`, field access, the day's API usage.
/** Standard fields the sync writes, besides force-app's custom ones. */
const STANDARD_FIELDS = [
  'Contact.FirstName',
  'Contact.LastName',
  'Contact.Email',
  'Contact.Phone',
  'Contact.AccountId',
  'Account.Name',
];

/** Every field the sync reads and writes, by object. */
export function fieldsNeeded(): Map<string, string[]> {
  const byObject = new Map<string, string[]>();
  const custom = SALESFORCE_COMPONENTS.filter((c) => c.type === 'CustomField').map((c) => c.fullName);
  for (const fullName of [...STANDARD_FIELDS, ...custom]) {
    const [object, field] = fullName.split('.') as [string, string];
    byObject.set(object, [...(byObject.get(object) ?? []), field]);
  }
  return byObject;
}

/** Above this share of the day's API requests, doctor warns. */
export const API_USAGE_WARNING = 0.8;

/** Token, API version, `salesforce setup --check`, field access and the day's API usage. */
export async function salesforceChecks(config: Config, logger: Logger): Promise<CheckResult[]> {
  const names: [string, string][] = [
    ['salesforce.api-version', 'Salesforce API version'],
    ['salesforce.setup', 'Salesforce setup --check'],
    ['salesforce.fields', 'Salesforce field access'],
    ['salesforce.api-usage', 'Salesforce API usage'],
  ];
  const sf = config.salesforce;
  if (!sf) {
    return [
      {
        id: 'salesforce.token',
        name: 'Salesforce token',
        ...fail(
          'not configured: `clerk-sync worker` needs it',
          'set SALESFORCE_CLIENT_ID and SALESFORCE_CLIENT_SECRET (or SALESFORCE_INSTANCE_URL with SALESFORCE_ACCESS_TOKEN)',
        ),
        ms: 0,
      },
      ...names.map(([id, name]) => skipped(id, name, 'needs Salesforce configured')),
    ];
  }
  const session = salesforceSession(sf, logger, {
    requestMs: CHECK_TIMEOUT_MS - 500,
    tokenMs: CHECK_TIMEOUT_MS - 500,
  });
  let conn: Connection | undefined;
  const token = await check('salesforce.token', 'Salesforce token', async () => {
    const where = sf.kind === 'session' ? sf.instanceUrl : sf.loginUrl;
    try {
      conn = await session.connection();
      if (sf.kind === 'session') await conn.identity(); // a fixed session: ask whether Salesforce still takes it
    } catch (err) {
      return tokenFailure(err, where);
    }
    const user = conn.userInfo?.id ? ` for user ${conn.userInfo.id}` : '';
    return ok(`${sf.kind === 'session' ? 'session accepted' : 'granted'} by ${where}${user}`);
  });
  const c = conn;
  if (!c) return [token, ...names.map(([id, name]) => skipped(id, name, 'needs a Salesforce token'))];
  return [
    token,
    ...(await Promise.all([
      check('salesforce.api-version', 'Salesforce API version', async () => {
        const served = await c.request<{ version: string }[]>('/services/data/');
        const versions = served.map((v) => v.version);
        if (versions.includes(sf.apiVersion))
          return ok(`${sf.apiVersion} served (latest ${versions.at(-1)})`);
        return fail(
          `${sf.apiVersion} is not served by this org (it serves ${versions[0]} to ${versions.at(-1)})`,
          `set SALESFORCE_API_VERSION to one of those, e.g. ${versions.at(-1)}`,
        );
      }),
      check('salesforce.setup', 'Salesforce setup --check', async () => {
        const lines: string[] = [];
        const result = await setupSalesforce(c, { check: true, out: (line) => lines.push(line) });
        if (result.ok) return ok(`all ${SALESFORCE_COMPONENTS.length} components match force-app`);
        const problems = lines
          .filter((l) => /^(missing|different) /.test(l))
          .map((l) => l.replace(/\s+/g, ' '));
        const shown = problems.slice(0, 3).join('; ');
        const more = problems.length > 3 ? ` and ${problems.length - 3} more` : '';
        return fail(`${shown}${more}`, 'run `npx clerk-sync salesforce setup` (or deploy force-app/)');
      }),
      check('salesforce.fields', 'Salesforce field access', () => fieldAccess(c)),
      check('salesforce.api-usage', 'Salesforce API usage', async () => {
        const limits = (await c.limits()) as { DailyApiRequests?: { Max: number; Remaining: number } };
        const daily = limits.DailyApiRequests;
        if (!daily) return warn('the org reports no DailyApiRequests limit');
        const used = daily.Max - daily.Remaining;
        const share = daily.Max > 0 ? used / daily.Max : 1;
        const text = `${used} of ${daily.Max} requests today (${Math.round(share * 100)}%)`;
        if (share >= 1)
          return fail(
            `${text}: calls fail REQUEST_LIMIT_EXCEEDED`,
            'raise the allocation or wait for the 24-hour window',
          );
        if (share > API_USAGE_WARNING)
          return warn(
            `${text}: above ${API_USAGE_WARNING * 100}%`,
            "watch the org's usage (Setup > Company Information)",
          );
        return ok(text);
      }),
    ])),
  ];
}

/**
 * Names a refused token request as Salesforce names it (`invalid_client`, `invalid_grant`, …: the worker's own words);
 * anything else from the token endpoint (an HTML page, a 404, no answer) means the login URL is not a Salesforce one.
 */
function tokenFailure(err: unknown, where: string): Outcome {
  if (salesforceCredentialRefusal(err)) return fail(classifySalesforce(err, 1).message);
  const fix =
    'check SALESFORCE_LOGIN_URL (https://login.salesforce.com, https://test.salesforce.com or the My Domain URL)';
  const e = err as { name?: unknown; cause?: unknown };
  if (err instanceof TypeError || typeof (e.cause as { code?: unknown } | undefined)?.code === 'string') {
    return fail(`wrong login URL: cannot reach ${where} (${messageOf(e.cause ?? err)})`, fix);
  }
  // jsforce names its error after the answer's `error` field, or after the whole answer when it has none.
  const answer = [typeof e.name === 'string' ? e.name : '', messageOf(err)].filter(Boolean).join(': ');
  return fail(
    `wrong login URL: no OAuth token endpoint at ${where} (it answered: ${answer.slice(0, 120)})`,
    fix,
  );
}

/**
 * Field-level security as describe shows it to the integration user: a field it cannot read is absent from
 * describe; one it cannot edit is neither createable nor updateable.
 */
async function fieldAccess(conn: Connection): Promise<Outcome> {
  const unreadable: string[] = [];
  const readOnly: string[] = [];
  let total = 0;
  for (const [object, fields] of fieldsNeeded()) {
    total += fields.length;
    let described: { fields: { name: string; createable: boolean; updateable: boolean }[] };
    try {
      described = await conn.sobject(object).describe();
    } catch (err) {
      const code = (err as { errorCode?: unknown }).errorCode;
      if (code === 'NOT_FOUND') {
        unreadable.push(`${object} (the object)`);
        continue;
      }
      throw err;
    }
    const byName = new Map(described.fields.map((f) => [f.name.toLowerCase(), f]));
    for (const field of fields) {
      const f = byName.get(field.toLowerCase());
      if (!f) unreadable.push(`${object}.${field}`);
      else if (!(f.createable && f.updateable)) readOnly.push(`${object}.${field}`);
    }
  }
  if (unreadable.length + readOnly.length === 0)
    return ok(`reads and edits all ${total} fields the sync uses`);
  const parts = [
    unreadable.length > 0 && `cannot read ${list(unreadable)}`,
    readOnly.length > 0 && `cannot edit ${list(readOnly)}`,
  ].filter(Boolean);
  return fail(
    parts.join('; '),
    'run `npx clerk-sync salesforce setup` (creates the fields and assigns permission set Clerk_Sync to the integration user)',
  );
}
