/** How many rows each table shows; the page must stay quick after a benchmark pushed thousands of records. */
const MAX_ROWS = 200;
const REFRESH_SECONDS = 3;

type Row = Record<string, unknown>;

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(value: unknown): string {
  const text =
    value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The sandbox's read-only page: what each stand-in holds, refreshed by a meta tag (no script), so a
 * newcomer running `npm start` sees the synced Contact appear in a browser.
 */
export function renderPage(state: Record<string, unknown>, { url }: { url: string }): string {
  const salesforce = asRow(state.salesforce);
  const clerk = asRow(state.clerk);
  const contacts = sobjects(salesforce, 'Contact');
  const accounts = sobjects(salesforce, 'Account');
  const memberships = sobjects(salesforce, 'Clerk_Membership__c');
  const names = new Map<string, string>();
  for (const c of contacts) names.set(String(c.Id), fullName(c.FirstName, c.LastName) || String(c.Id));
  for (const a of accounts) names.set(String(a.Id), String(a.Name ?? a.Id));
  const linked = (id: unknown) => (typeof id === 'string' && id !== '' ? (names.get(id) ?? id) : '');

  const users = rows(clerk.users);
  const orgs = rows(clerk.organizations);
  const orgMembers = rows(clerk.memberships);
  const emails = rows(asRow(state.resend).emails);
  const messages = rows(asRow(state.slack).messages);
  const webhooks = rows(clerk.webhooks);
  const faults = rows(state.faults);
  const calls = asRow(state.calls);

  const sections = [
    section(
      'Salesforce Contacts',
      contacts,
      ['Name', 'Email', 'Phone', 'Account', 'Clerk_User_Id__c', 'Clerk_Status__c', 'Id'],
      (c) => [
        fullName(c.FirstName, c.LastName),
        c.Email,
        c.Phone,
        linked(c.AccountId),
        c.Clerk_User_Id__c,
        c.Clerk_Status__c,
        c.Id,
      ],
    ),
    section(
      'Salesforce Accounts',
      accounts,
      ['Name', 'Clerk_Slug__c', 'Clerk_Organization_Id__c', 'Clerk_Status__c', 'Id'],
      (a) => [a.Name, a.Clerk_Slug__c, a.Clerk_Organization_Id__c, a.Clerk_Status__c, a.Id],
    ),
    section(
      'Salesforce memberships (Clerk_Membership__c)',
      memberships,
      ['Contact', 'Account', 'Role__c', 'Clerk_Membership_Id__c'],
      (m) => [linked(m.Contact__c), linked(m.Account__c), m.Role__c, m.Clerk_Membership_Id__c],
    ),
    section('Clerk users', users, ['Name', 'Primary email', 'Primary phone', 'Username', 'Id'], (u) => [
      fullName(u.first_name, u.last_name),
      primary(u.email_addresses, u.primary_email_address_id, 'email_address'),
      primary(u.phone_numbers, u.primary_phone_number_id, 'phone_number'),
      u.username,
      u.id,
    ]),
    section('Clerk organizations', orgs, ['Name', 'Slug', 'Members', 'Id'], (o) => [
      o.name,
      o.slug,
      o.members_count,
      o.id,
    ]),
    section('Clerk memberships', orgMembers, ['Member', 'Organization', 'Role', 'Id'], (m) => {
      const user = asRow(m.public_user_data);
      return [
        fullName(user.first_name, user.last_name) || user.identifier,
        asRow(m.organization).name,
        m.role,
        m.id,
      ];
    }),
    section('Resend emails', emails, ['To', 'Subject', 'Sent'], (e) => [
      Array.isArray(e.to) ? e.to.join(', ') : e.to,
      e.subject,
      time(e.at),
    ]),
    section('Slack messages', messages, ['Text', 'Sent'], (m) => [m.text ?? '(blocks)', time(m.at)]),
    section(
      'Clerk webhooks sent by the sandbox',
      webhooks,
      ['Type', 'State', 'HTTP', 'Attempts', 'svix-id'],
      (w) => [w.type, w.state, w.status, w.attempts, w.svixId],
    ),
    section('Active faults', faults, ['Service', 'Method', 'Path', 'Status', 'Hits', 'Id'], (f) => [
      f.service,
      f.method ?? 'any',
      f.path ?? 'any',
      f.hang
        ? 'hang'
        : f.dropResponse !== undefined
          ? `processed, answer dropped (${f.dropResponse === 'hang' ? 'hang' : 'reset'})`
          : f.discardWrites
            ? 'answered, writes discarded'
            : (f.status ?? `+${String(f.latencyMs)} ms`),
      f.hits,
      f.id,
    ]),
  ];

  const callSummary = Object.entries(calls)
    .map(([name, n]) => `${escapeHtml(name)}: ${escapeHtml(n)}`)
    .join(' · ');

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="${REFRESH_SECONDS}">
<title>clerk-sync sandbox</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#222}
h1{font-size:1.3rem}h2{font-size:1.05rem;margin-top:1.6rem}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}td{font-family:ui-monospace,monospace;font-size:12.5px}.muted{color:#777}
</style>
</head>
<body>
<h1>clerk-sync sandbox</h1>
<p class="muted">${escapeHtml(url)} · refreshed ${escapeHtml(new Date().toISOString())} every ${REFRESH_SECONDS} s · calls ${callSummary} · raw JSON at <a href="/_sandbox/state">/_sandbox/state</a></p>
${sections.join('\n')}
</body>
</html>
`;
}

function section(title: string, all: Row[], headers: string[], cells: (row: Row) => unknown[]): string {
  const shown = all.slice(-MAX_ROWS).reverse(); // newest first
  const note =
    all.length > shown.length ? ` <span class="muted">(newest ${shown.length} of ${all.length})</span>` : '';
  const head = `<tr>${headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`;
  const body = shown.length
    ? shown
        .map(
          (r) =>
            `<tr>${cells(r)
              .map((c) => `<td>${escapeHtml(c)}</td>`)
              .join('')}</tr>`,
        )
        .join('\n')
    : `<tr><td colspan="${headers.length}" class="muted">none yet</td></tr>`;
  return `<h2>${escapeHtml(title)} <span class="muted">${all.length}</span>${note}</h2>\n<table>\n${head}\n${body}\n</table>`;
}

function asRow(value: unknown): Row {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Row) : {};
}

function rows(value: unknown): Row[] {
  return Array.isArray(value) ? value.filter((v): v is Row => typeof v === 'object' && v !== null) : [];
}

/**
 * Records of one sObject type from the Salesforce snapshot, live ones only. Accepts `{records: {Type: [...]}}`,
 * `{Type: [...]}` or a flat list tagged with `attributes.type`, so the page does not depend on one layout.
 */
function sobjects(snapshot: Row, type: string): Row[] {
  const candidates = [snapshot[type], asRow(snapshot.records)[type], asRow(snapshot.sobjects)[type]];
  let found = candidates.find(Array.isArray) as unknown[] | undefined;
  if (!found) {
    const flat = [snapshot.records, snapshot.sobjects].find(Array.isArray) as unknown[] | undefined;
    found = flat?.filter((r) => asRow(asRow(r).attributes).type === type || asRow(r).type === type);
  }
  return rows(found)
    .map((r) => (typeof r.values === 'object' && r.values !== null ? asRow(r.values) : r))
    .filter((r) => r.IsDeleted !== true);
}

function fullName(first: unknown, last: unknown): string {
  return [first, last].filter((p) => typeof p === 'string' && p !== '').join(' ');
}

function primary(list: unknown, id: unknown, field: string): unknown {
  return rows(list).find((e) => e.id === id)?.[field] ?? '';
}

function time(at: unknown): string {
  return typeof at === 'number' ? new Date(at).toISOString().replace('T', ' ').slice(0, 19) : '';
}
