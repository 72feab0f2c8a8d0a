import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { ActivityFailure, WorkflowFailedError, type ApplicationFailure } from '@temporalio/client';
import type { Connection } from 'jsforce';
import {
  MEMBERSHIP_OBJECT,
  PERMISSION_SET,
  SALESFORCE_COMPONENTS,
  sourceFiles,
  toMetadata,
} from '../../src/cli/salesforce-schema';
import { salesforceSetupCommand, setupSalesforce } from '../../src/cli/salesforce-setup';
import type { ClerkEvent } from '@clerk-sync/sandbox';
import { createSandbox, deliverWebhook, parseXml, type XmlElement } from '@clerk-sync/sandbox';
import { loadConfig } from '../../src/config';
import { startStack, type Stack } from '../helpers/stack';

// `clerk-sync salesforce setup` against the sandbox's Salesforce in STRICT mode, where a custom field exists only
// once the Metadata API created it: the sync fails before setup and works after it (needed and sufficient).

const ROOT = resolve(__dirname, '..', '..');
const BIN = join(ROOT, 'dist', 'bin.js');
const FORCE_APP = join(ROOT, 'force-app');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

const child = (el: XmlElement, name: string) => el.children.filter((c) => c.local === name);
const textOf = (el: XmlElement, name: string) => child(el, name)[0]?.text.trim();

describe('Salesforce DX source (force-app)', () => {
  it('holds exactly the components of src/cli/salesforce-schema.ts (UPDATE_FORCE_APP=1 rewrites it)', () => {
    const expected = sourceFiles();
    if (process.env.UPDATE_FORCE_APP === '1') {
      for (const [path, xml] of expected) {
        mkdirSync(dirname(join(ROOT, path)), { recursive: true });
        writeFileSync(join(ROOT, path), xml);
      }
    }
    const actual = new Map(
      filesUnder(FORCE_APP).map((file) => [relative(ROOT, file), readFileSync(file, 'utf8')]),
    );
    expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [path, xml] of expected) expect({ path, xml: actual.get(path) }).toEqual({ path, xml });
  });

  it('is an SFDX project whose default package directory is force-app', () => {
    const project = JSON.parse(readFileSync(join(ROOT, 'sfdx-project.json'), 'utf8')) as {
      packageDirectories: { path: string; default?: boolean }[];
      sourceApiVersion: string;
    };
    expect(project.packageDirectories).toEqual([{ path: 'force-app', default: true }]);
    expect(project.sourceApiVersion).toMatch(/^\d{2}\.0$/);
  });

  it('is well-formed Metadata API XML: one root element of the right type in the metadata namespace', () => {
    for (const file of filesUnder(FORCE_APP)) {
      const root = parseXml(readFileSync(file, 'utf8'));
      const type = file.endsWith('.field-meta.xml')
        ? 'CustomField'
        : file.endsWith('.object-meta.xml')
          ? 'CustomObject'
          : 'PermissionSet';
      expect({ file, root: root.name, xmlns: root.attrs.xmlns }).toEqual({
        file,
        root: type,
        xmlns: 'http://soap.sforce.com/2006/04/metadata',
      });
      if (type === 'CustomField')
        expect(`${textOf(root, 'fullName')}.field-meta.xml`).toBe(file.split('/').pop());
    }
  });

  /** Custom field and object names in the product's source (not the sandbox, which stands in for Salesforce). */
  function namesInProductSource(): Set<string> {
    const names = new Set<string>();
    const files = filesUnder(join(ROOT, 'src')).filter(
      (f) => f.endsWith('.ts') && !f.includes('/sandbox/') && !f.endsWith('salesforce-schema.ts'),
    );
    for (const file of files) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\b([A-Za-z][A-Za-z0-9_]*)__([cr])\b/g)) {
        names.add(`${m[1]}__c`); // a relationship Contact__r is the lookup field Contact__c
      }
    }
    return names;
  }

  it('covers every custom field and object name the product reads or writes', () => {
    const files = filesUnder(join(FORCE_APP, 'main', 'default', 'objects')).map((f) =>
      relative(FORCE_APP, f),
    );
    const fields = files
      .filter((f) => f.includes('/fields/'))
      .map((f) => f.split('/').pop()!.replace('.field-meta.xml', ''));
    const objects = files
      .filter((f) => f.endsWith('.object-meta.xml'))
      .map((f) => f.split('/').pop()!.replace('.object-meta.xml', ''));
    const used = namesInProductSource();
    // The activities' own writes, so a grep that finds nothing cannot pass.
    for (const name of ['Clerk_User_Id__c', 'Clerk_Welcome_Email_Claim__c', 'Clerk_Updated_At__c', 'Role__c'])
      expect(used).toContain(name);
    const defined = new Set([...fields, ...objects]);
    expect([...used].filter((name) => !defined.has(name))).toEqual([]);
    // Every guarded upsert writes Clerk_Updated_At__c on its object.
    for (const object of ['Account', 'Contact', MEMBERSHIP_OBJECT])
      expect(files).toContain(`main/default/objects/${object}/fields/Clerk_Updated_At__c.field-meta.xml`);
  });

  it('the permission set grants read/edit on every field and CRUD on the custom object', () => {
    const permissionSet = parseXml(
      readFileSync(
        join(FORCE_APP, 'main', 'default', 'permissionsets', `${PERMISSION_SET}.permissionset-meta.xml`),
        'utf8',
      ),
    );
    const granted = child(permissionSet, 'fieldPermissions')
      .filter((p) => textOf(p, 'readable') === 'true' && textOf(p, 'editable') === 'true')
      .map((p) => textOf(p, 'field'));
    const fields = filesUnder(join(FORCE_APP, 'main', 'default', 'objects'))
      .filter((f) => f.includes('/fields/'))
      .map((f) => {
        const parts = f.split('/');
        return `${parts.at(-3)}.${parts.at(-1)!.replace('.field-meta.xml', '')}`;
      });
    expect(granted.sort()).toEqual(fields.sort());
    const membership = child(permissionSet, 'objectPermissions').find(
      (p) => textOf(p, 'object') === MEMBERSHIP_OBJECT,
    )!;
    for (const permission of ['allowCreate', 'allowRead', 'allowEdit', 'allowDelete'])
      expect(textOf(membership, permission)).toBe('true');
  });
});

/** A fake org: what `upsert` saves, `read` returns; the fields of Contact are refused. */
function fakeOrg(): Connection {
  const saved = new Map<string, Record<string, unknown>>();
  const metadata = {
    read: (_type: string, names: string[]) => Promise.resolve(names.map((n) => saved.get(n) ?? {})),
    upsert: (type: string, list: Record<string, unknown>[]) => {
      if (list.length > 10) throw new Error('more than 10 components in one call');
      return Promise.resolve(
        list.map((md) => {
          const fullName = String(md.fullName);
          if (type === 'CustomField' && fullName.startsWith('Contact.')) {
            return {
              fullName,
              success: false,
              created: false,
              errors: [{ statusCode: 'FIELD_INTEGRITY_EXCEPTION', message: `Field ${fullName} is in use` }],
            };
          }
          saved.set(fullName, md);
          return { fullName, success: true, created: true };
        }),
      );
    },
  };
  const fail = () => Promise.reject(Object.assign(new Error('not here'), { errorCode: 'NOT_FOUND' }));
  return {
    instanceUrl: 'https://acme.my.salesforce.com',
    version: '62.0',
    userInfo: { id: '005000000000001AAA' },
    metadata,
    identity: fail,
    query: fail,
  } as unknown as Connection;
}

describe('salesforce setup: a component the Metadata API refuses', () => {
  it("is one line with Salesforce's statusCode and message; the others are still set up; exit 1", async () => {
    const lines: string[] = [];
    const result = await setupSalesforce(fakeOrg(), { check: false, out: (l) => lines.push(l) });
    // Contact's five custom fields are refused.
    expect(result).toMatchObject({ ok: false, failed: 5, created: SALESFORCE_COMPONENTS.length - 5 });
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^failed +CustomField +Contact\.Clerk_User_Id__c \(FIELD_INTEGRITY_EXCEPTION: Field Contact\.Clerk_User_Id__c is in use\)$/,
      ),
    );
    expect(lines).toContainEqual(expect.stringMatching(/^created +CustomObject +Clerk_Membership__c$/));
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^note: could not assign permission set Clerk_Sync here \(NOT_FOUND: not here\)\.$/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^note: assign permission set Clerk_Sync to the integration user/),
    );
    expect(lines.at(-1)).toBe(
      `Summary: ${SALESFORCE_COMPONENTS.length - 5} created, 0 updated, 0 unchanged, 5 failed ` +
        `(${SALESFORCE_COMPONENTS.length} components): fix the errors above and run it again.`,
    );
  });
});

/** A fake org that holds every component already and knows permission sets (the sandbox does not). */
function orgWithPermissionSets(): { conn: Connection; assignments: Record<string, unknown>[] } {
  const assignments: Record<string, unknown>[] = [];
  const held = new Map(SALESFORCE_COMPONENTS.map((c) => [c.fullName, toMetadata(c)]));
  const records = (soql: string): Record<string, unknown>[] => {
    if (soql === `SELECT Id FROM PermissionSet WHERE Name = '${PERMISSION_SET}'`)
      return [{ Id: '0PS000000000001AAA' }];
    const m = /FROM PermissionSetAssignment WHERE AssigneeId = '(\w+)' AND PermissionSetId = '(\w+)'$/.exec(
      soql,
    );
    if (!m) throw new Error(`unexpected query ${soql}`);
    return assignments.filter((a) => a.AssigneeId === m[1] && a.PermissionSetId === m[2]);
  };
  const conn = {
    instanceUrl: 'https://acme.my.salesforce.com',
    version: '62.0',
    userInfo: { id: '005000000000001AAA' },
    metadata: {
      read: (_type: string, names: string[]) => Promise.resolve(names.map((n) => held.get(n) ?? {})),
      upsert: () => Promise.reject(new Error('nothing to write')),
    },
    identity: () => Promise.resolve({ user_id: '005000000000001AAA', username: 'clerk-sync@acme.example' }),
    query: (soql: string) => {
      const found = records(soql);
      return Promise.resolve({ totalSize: found.length, done: true, records: found });
    },
    sobject: (type: string) => ({
      create: (record: Record<string, unknown>) => {
        expect(type).toBe('PermissionSetAssignment');
        assignments.push(record);
        return Promise.resolve({ id: '0Pa000000000001AAA', success: true, errors: [] });
      },
    }),
  } as unknown as Connection;
  return { conn, assignments };
}

describe('salesforce setup: the permission set assignment', () => {
  it('is missing for --check, made once by setup for the user the token belongs to, then left alone', async () => {
    const { conn, assignments } = orgWithPermissionSets();
    const run = async (check: boolean) => {
      const lines: string[] = [];
      const result = await setupSalesforce(conn, { check, out: (l) => lines.push(l) });
      return { result, lines };
    };
    const who = 'Clerk_Sync to clerk-sync@acme.example (005000000000001AAA)';

    const before = await run(true);
    expect(before.result).toMatchObject({ ok: false, assignment: 'missing' });
    expect(before.lines).toContainEqual(
      `${'missing'.padEnd(10)} ${'PermissionSetAssignment'.padEnd(24)} ${who}`,
    );
    expect(before.lines.at(-1)).toBe(
      `Summary: permission set Clerk_Sync not assigned, ${SALESFORCE_COMPONENTS.length} ok ` +
        `(${SALESFORCE_COMPONENTS.length} components): run \`clerk-sync salesforce setup\` to fix.`,
    );

    const first = await run(false);
    expect(first.result).toMatchObject({ ok: true, assignment: 'assigned' });
    expect(first.lines).toContainEqual(
      `${'assigned'.padEnd(10)} ${'PermissionSetAssignment'.padEnd(24)} ${who}`,
    );
    expect(assignments).toEqual([
      { AssigneeId: '005000000000001AAA', PermissionSetId: '0PS000000000001AAA' },
    ]);

    const second = await run(false);
    expect(second.result).toMatchObject({ ok: true, assignment: 'ok' });
    expect(second.lines).toContainEqual(
      `${'unchanged'.padEnd(10)} ${'PermissionSetAssignment'.padEnd(24)} ${who}`,
    );
    expect(assignments).toHaveLength(1);
    expect((await run(true)).result.ok).toBe(true);
  });
});

describe('salesforce setup against a strict Salesforce sandbox', () => {
  let stack: Stack;
  let cwd: string;
  beforeAll(async () => {
    stack = await startStack({ sandbox: { salesforce: { strict: true } } });
    cwd = mkdtempSync(join(tmpdir(), 'clerk-sync-sf-setup-'));
  });
  afterAll(async () => {
    await stack?.close();
  });

  /** The built command in an empty directory (no .env), with only `env`; asynchronous: the sandbox is in-process. */
  function cli(args: string[], env: Record<string, string>) {
    return new Promise<{ status: number; stdout: string; stderr: string }>((done) => {
      execFile(
        process.execPath,
        [BIN, ...args],
        { cwd, env: { PATH: process.env.PATH ?? '', ...env }, timeout: 30_000 },
        (err, stdout, stderr) => {
          const code = (err as { code?: unknown } | null)?.code;
          done({ status: err ? (typeof code === 'number' ? code : -1) : 0, stdout, stderr });
        },
      );
    });
  }
  const salesforceEnv = () => ({
    SALESFORCE_LOGIN_URL: stack.sandbox.env.SALESFORCE_LOGIN_URL,
    SALESFORCE_CLIENT_ID: stack.sandbox.env.SALESFORCE_CLIENT_ID,
    SALESFORCE_CLIENT_SECRET: stack.sandbox.env.SALESFORCE_CLIENT_SECRET,
  });

  async function setup(check = false): Promise<{ code: number; lines: string[] }> {
    const lines: string[] = [];
    const code = await salesforceSetupCommand({ check, config: stack.config, out: (l) => lines.push(l) });
    return { code, lines };
  }
  const metadataCalls = () =>
    stack.sandbox.calls('salesforce').filter((c) => c.path.startsWith('/services/Soap/m/')).length;

  const fieldNames = SALESFORCE_COMPONENTS.filter((c) => c.type === 'CustomField').map((c) => c.fullName);
  const total = SALESFORCE_COMPONENTS.length;
  let signUp: ClerkEvent;
  let failedSvixId: string;
  let userId: string;
  let organizationId: string;

  it('before setup: a real sync fails for good (INVALID_FIELD), and --check exits 1 listing what is missing', async () => {
    const clerk = stack.sandbox.services.clerk;
    signUp = clerk.createUser({
      firstName: 'Strict',
      lastName: 'Setup',
      emailAddress: ['strict@example.com'],
    });
    userId = (signUp.data as { id: string }).id;
    organizationId = (clerk.createOrganization({ name: 'Strict Org' }).data as { id: string }).id;
    clerk.addMembership({ organizationId, userId, role: 'org:admin' });

    const delivery = await deliverWebhook(`${stack.api.url}/webhooks/clerk`, stack.secret, signUp);
    expect(delivery.body).toMatchObject({ status: 'started' });
    failedSvixId = delivery.svixId;
    const err = await stack.env.client.workflow
      .getHandle(failedSvixId)
      .result()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const activity = (err as Error).cause;
    expect(activity).toBeInstanceOf(ActivityFailure);
    // Not retried: a missing field is no state that passes.
    expect((activity as ActivityFailure).retryState).toBe('NON_RETRYABLE_FAILURE');
    const cause = (activity as ActivityFailure).cause as ApplicationFailure;
    expect(cause).toMatchObject({ type: 'SalesforceRejected', nonRetryable: true });
    expect(cause.message).toMatch(/^INVALID_(FIELD|TYPE): /);
    expect(stack.sandbox.services.resend.emails().filter((e) => e.to.includes('strict@example.com'))).toEqual(
      [],
    );

    const { code, lines } = await setup(true);
    expect(code).toBe(1);
    expect(lines).toContainEqual(expect.stringMatching(/^missing +CustomObject +Clerk_Membership__c$/));
    for (const name of fieldNames)
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^missing +CustomField +${name}$`)));
    expect(lines).toContainEqual(expect.stringMatching(/^missing +PermissionSet +Clerk_Sync$/));
    expect(lines.at(-1)).toBe(
      `Summary: ${total} missing, 0 ok (${total} components): run \`clerk-sync salesforce setup\` to fix.`,
    );

    const built = await cli(['salesforce', 'setup', '--check'], salesforceEnv());
    expect(built.status).toBe(1);
    expect(built.stdout).toMatch(/^missing +CustomField +Contact\.Clerk_User_Id__c$/m);
    expect(built.stdout).toContain(`Summary: ${total} missing`);
    expect(built.stderr).not.toMatch(/\n\s+at /);
  });

  it('setup creates the object, every field and the permission set, and reads the External IDs back', async () => {
    const { code, lines } = await setup();
    expect(code).toBe(0);
    for (const c of SALESFORCE_COMPONENTS)
      expect(lines).toContainEqual(
        expect.stringMatching(new RegExp(`^created +${c.type} +${c.fullName.replace('.', '\\.')}$`)),
      );
    for (const name of [
      'Account.Clerk_Organization_Id__c',
      'Contact.Clerk_User_Id__c',
      'Clerk_Membership__c.Clerk_Membership_Id__c',
    ])
      expect(lines).toContainEqual(
        `${'verified'.padEnd(10)} ${'External ID'.padEnd(24)} ${name} (External ID, unique, case-sensitive)`,
      );
    // The sandbox has no PermissionSetAssignment: the command says what to do instead.
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^note: could not assign permission set Clerk_Sync here \(INVALID_TYPE: sObject type 'PermissionSet' is not supported\./,
      ),
    );
    expect(lines).toContainEqual(
      'note: assign permission set Clerk_Sync to integration@clerk-sync.sandbox (the user clerk-sync runs as): ' +
        'Setup > Permission Sets > Clerk Sync > Manage Assignments, or ' +
        '`sf org assign permset --name Clerk_Sync --on-behalf-of integration@clerk-sync.sandbox`',
    );
    expect(lines.at(-1)).toBe(`Summary: ${total} created, 0 updated, 0 unchanged (${total} components).`);

    const check = await setup(true);
    expect(check.code).toBe(0);
    expect(check.lines.at(-1)).toBe(`Summary: all ${total} components match force-app.`);
    const built = await cli(['salesforce', 'setup', '--check'], salesforceEnv());
    expect({ status: built.status, stderr: built.stderr }).toEqual({ status: 0, stderr: '' });
    expect(built.stdout).toContain(`Summary: all ${total} components match force-app.`);
  });

  it('setup again changes nothing, says so, and only reads', async () => {
    const before = metadataCalls();
    const { code, lines } = await setup();
    expect(code).toBe(0);
    // One read of the object, two of the 13 fields (10 per call), one of the permission set: no write.
    expect(metadataCalls() - before).toBe(4);
    const components = lines.filter((l) => /^\w+ +(CustomObject|CustomField|PermissionSet) /.test(l));
    expect(components).toHaveLength(total);
    expect(components.every((l) => l.startsWith('unchanged '))).toBe(true);
    expect(lines.at(-1)).toBe(`Summary: nothing changed: all ${total} components already match force-app.`);
  });

  it('a field changed in the org is reported by --check and put back by setup', async () => {
    await stack.salesforce.metadata.upsert('CustomField', {
      fullName: 'Contact.Clerk_Status__c',
      label: 'Status',
      type: 'Text',
      length: 255,
    });
    const check = await setup(true);
    expect(check.code).toBe(1);
    const different = check.lines.find((l) => l.startsWith('different '));
    expect(different).toMatch(/^different +CustomField +Contact\.Clerk_Status__c \(.*\)$/);
    expect(different).toContain('label: Status in the org, Clerk Status in force-app');
    expect(different).toContain('length: 255 in the org, 20 in force-app');
    expect(check.lines.at(-1)).toBe(
      `Summary: 1 different, ${total - 1} ok (${total} components): run \`clerk-sync salesforce setup\` to fix.`,
    );

    const fixed = await setup();
    expect(fixed.code).toBe(0);
    expect(fixed.lines).toContainEqual(
      expect.stringMatching(/^updated +CustomField +Contact\.Clerk_Status__c \(/),
    );
    expect(fixed.lines.at(-1)).toBe(
      `Summary: 0 created, 1 updated, ${total - 1} unchanged (${total} components).`,
    );
    expect((await setup(true)).code).toBe(0);
  });

  it('a case-insensitive External ID is a problem for --check, and setup makes it case-sensitive', async () => {
    const component = SALESFORCE_COMPONENTS.find((c) => c.fullName === 'Contact.Clerk_User_Id__c')!;
    await stack.salesforce.metadata.upsert('CustomField', { ...toMetadata(component), caseSensitive: false });
    const contacts = stack.salesforce.sobject('Contact');
    const first = await contacts.create({ LastName: 'Case', Clerk_User_Id__c: 'user_CaseTest' });
    // The org honours the flag: Clerk ids that differ only in case collide.
    const collided = await contacts.create({ LastName: 'case', Clerk_User_Id__c: 'user_casetest' }).then(
      () => undefined,
      (err: { errorCode?: string }) => err.errorCode,
    );
    expect(collided).toBe('DUPLICATE_VALUE');

    const detail = '(caseSensitive: false in the org, true in force-app)';
    const check = await setup(true);
    expect(check.code).toBe(1);
    expect(check.lines).toContainEqual(
      `${'different'.padEnd(10)} ${'CustomField'.padEnd(24)} Contact.Clerk_User_Id__c ${detail}`,
    );
    expect(check.lines).toContainEqual(
      expect.stringMatching(/^note: Contact\.Clerk_User_Id__c is case-insensitive in the org /),
    );
    expect(check.lines.filter((l) => l.startsWith('note: ') && l.includes('case-insensitive'))).toHaveLength(
      1,
    );

    const fixed = await setup();
    expect(fixed.code).toBe(0);
    expect(fixed.lines).toContainEqual(
      `${'updated'.padEnd(10)} ${'CustomField'.padEnd(24)} Contact.Clerk_User_Id__c ${detail}`,
    );
    expect(fixed.lines).toContainEqual(
      `${'verified'.padEnd(10)} ${'External ID'.padEnd(24)} Contact.Clerk_User_Id__c (External ID, unique, case-sensitive)`,
    );
    expect((await setup(true)).code).toBe(0);
    const second = await contacts.create({ LastName: 'case', Clerk_User_Id__c: 'user_casetest' });
    expect(second.success).toBe(true);
    await contacts.destroy([first.id!, second.id!]);
  });

  it('after setup, redelivering the failed sync lands the Contact, the Account and the membership', async () => {
    const redelivery = await deliverWebhook(`${stack.api.url}/webhooks/clerk`, stack.secret, signUp, {
      svixId: failedSvixId,
    });
    expect(redelivery.body).toEqual({ status: 'started', workflowId: failedSvixId });
    const result = await stack.env.client.workflow.getHandle(failedSvixId).result();
    expect(result).toEqual({ contact: 'created', memberships: 1, welcomeEmail: 'sent' });

    const { records: contacts } = await stack.salesforce.query<{ Id: string; AccountId: string }>(
      `SELECT Id, LastName, Clerk_Status__c, AccountId FROM Contact WHERE Clerk_User_Id__c = '${userId}'`,
    );
    expect(contacts).toEqual([expect.objectContaining({ LastName: 'Setup', Clerk_Status__c: 'Active' })]);
    const { records: accounts } = await stack.salesforce.query<{ Id: string }>(
      `SELECT Id, Name FROM Account WHERE Clerk_Organization_Id__c = '${organizationId}'`,
    );
    expect(accounts).toEqual([expect.objectContaining({ Name: 'Strict Org' })]);
    expect(contacts[0]!.AccountId).toBe(accounts[0]!.Id);
    const { records: memberships } = await stack.salesforce.query(
      `SELECT Role__c, Clerk_Updated_At__c, Account__r.Clerk_Organization_Id__c FROM Clerk_Membership__c ` +
        `WHERE Contact__r.Clerk_User_Id__c = '${userId}'`,
    );
    expect(memberships).toEqual([
      expect.objectContaining({
        Role__c: 'org:admin',
        Account__r: expect.objectContaining({ Clerk_Organization_Id__c: organizationId }),
      }),
    ]);
    expect(
      stack.sandbox.services.resend.emails().filter((e) => e.to.includes('strict@example.com')),
    ).toHaveLength(1);
  });

  it('a Metadata API fault is one line with its code and message, exit 1, no stack trace', async () => {
    stack.sandbox.faults.add({
      service: 'salesforce',
      path: /^\/services\/Soap\/m\//,
      status: 500,
      headers: { 'Content-Type': 'text/xml' },
      body:
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">' +
        '<soapenv:Body><soapenv:Fault><faultcode>sf:INSUFFICIENT_ACCESS</faultcode><faultstring>INSUFFICIENT_ACCESS: ' +
        'use of the Metadata API requires a user with the ModifyAllData or ModifyMetadata permissions</faultstring>' +
        '</soapenv:Fault></soapenv:Body></soapenv:Envelope>',
    });
    try {
      const built = await cli(['salesforce', 'setup'], salesforceEnv());
      expect(built.status).toBe(1);
      expect(built.stderr).toBe(
        'clerk-sync: Metadata API read of CustomObject failed: INSUFFICIENT_ACCESS: use of the Metadata API ' +
          'requires a user with the ModifyAllData or ModifyMetadata permissions\n',
      );
    } finally {
      stack.sandbox.faults.clear();
    }
  });

  it('without Salesforce settings it says which variables to set (exit 2)', async () => {
    const built = await cli(['salesforce', 'setup', '--check'], {});
    expect(built.status).toBe(2);
    expect(built.stderr).toContain(
      'SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET: required by `salesforce setup`',
    );
    expect(built.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('salesforce setup against the sandbox as `npm start` runs it', () => {
  it('--check passes on a fresh sandbox: it starts with exactly the components of force-app/', async () => {
    const sandbox = await createSandbox();
    try {
      const { SALESFORCE_LOGIN_URL, SALESFORCE_CLIENT_ID, SALESFORCE_CLIENT_SECRET } = sandbox.env;
      const config = loadConfig({
        CLERK_WEBHOOK_SIGNING_SECRET: `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
        SALESFORCE_LOGIN_URL,
        SALESFORCE_CLIENT_ID,
        SALESFORCE_CLIENT_SECRET,
      });
      const lines: string[] = [];
      const code = await salesforceSetupCommand({ check: true, config, out: (l) => lines.push(l) });
      expect({ code, problems: lines.filter((l) => /^(missing|differs|changed)/.test(l)) }).toEqual({
        code: 0,
        problems: [],
      });
      expect(lines.at(-1)).toContain(`all ${SALESFORCE_COMPONENTS.length} components match force-app`);
    } finally {
      await sandbox.close();
    }
  });
});
