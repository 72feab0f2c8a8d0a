import { versionedWrite, type Stored, type Write } from '../../src/activities/backfill/records';
import { emptyCounts } from '../../src/shared/backfill-counts';
import type { ClerkUser } from '../../src/shared/clerk';
import {
  accountFromOrganization,
  contactFromUser,
  lastNameOf,
  linkedAccountId,
} from '../../src/shared/mapping';

// The pure core, one row per case, without Temporal or the sandbox: Clerk → Salesforce fields (SPEC.md's mapping
// and Salesforce's field limits), and the backfill's decision per record.

const user = (fields: Partial<ClerkUser>): ClerkUser => ({
  id: 'user_1',
  first_name: null,
  last_name: null,
  username: null,
  primary_email_address_id: null,
  primary_phone_number_id: null,
  email_addresses: [],
  phone_numbers: [],
  updated_at: 1,
  ...fields,
});

describe('LastName (Salesforce requires one)', () => {
  it.each([
    ['the last name', { last_name: 'Lovelace', username: 'ada' }, 'ada@example.com', 'Lovelace'],
    ['else the username', { last_name: '  ', username: 'ada' }, 'ada@example.com', 'ada'],
    ['else the email local part', { username: null }, 'ada.l@example.com', 'ada.l'],
    ['else Unknown', {}, null, 'Unknown'],
    ['cut to 80 characters', { last_name: 'x'.repeat(100) }, null, 'x'.repeat(80)],
    ['cut by characters, not UTF-16 units', { last_name: '😀'.repeat(90) }, null, '😀'.repeat(80)],
  ])('%s', (_label, u, address, expected) => {
    expect(lastNameOf(u, address)).toBe(expected);
  });
});

describe('Contact from a Clerk user', () => {
  it.each<[string, Partial<ClerkUser>, Record<string, unknown>]>([
    [
      'the primary address by its id, not the first one',
      {
        email_addresses: [
          { id: 'e1', email_address: 'old@example.com' },
          { id: 'e2', email_address: 'new@example.com' },
        ],
        primary_email_address_id: 'e2',
      },
      { Email: 'new@example.com', LastName: 'new' },
    ],
    [
      'an address longer than Salesforce stores (80) is left out, not cut into a wrong one',
      {
        email_addresses: [{ id: 'e1', email_address: `${'a'.repeat(80)}@example.com` }],
        primary_email_address_id: 'e1',
      },
      { Email: null, LastName: 'Unknown' },
    ],
    [
      'the primary phone by its id',
      {
        phone_numbers: [
          { id: 'p1', phone_number: '+15555550100' },
          { id: 'p2', phone_number: '+15555550199' },
        ],
        primary_phone_number_id: 'p2',
      },
      { Phone: '+15555550199' },
    ],
    ['FirstName cut to 40', { first_name: 'F'.repeat(50) }, { FirstName: 'F'.repeat(40) }],
    ['no first name: null, not empty', { first_name: '' }, { FirstName: null }],
    [
      'any text kept as typed',
      { first_name: '@{x}', last_name: "O'Connor \\ {!Name}" },
      { FirstName: '@{x}', LastName: "O'Connor \\ {!Name}" },
    ],
  ])('%s', (_label, fields, expected) => {
    expect(contactFromUser(user(fields))).toMatchObject({ Clerk_User_Id__c: 'user_1', ...expected });
  });
});

describe('Account from a Clerk organization', () => {
  it.each([
    ['name and slug', { name: 'Acme', slug: 'acme' }, { Name: 'Acme', Clerk_Slug__c: 'acme' }],
    [
      'Name cut to 255',
      { name: 'n'.repeat(300), slug: null },
      { Name: 'n'.repeat(255), Clerk_Slug__c: null },
    ],
    ['a blank name falls back to the id', { name: '   ', slug: null }, { Name: 'org_1' }],
  ])('%s', (_label, fields, expected) => {
    expect(accountFromOrganization({ id: 'org_1', updated_at: 1, ...fields })).toMatchObject(expected);
  });

  it.each([
    ['an 18-character Account id', { salesforceAccountId: '0015g00000ABCDEAAA' }, '0015g00000ABCDEAAA'],
    ['a 15-character one', { salesforceAccountId: '0015g00000ABCDE' }, '0015g00000ABCDE'],
    ['a Contact id is not an Account', { salesforceAccountId: '0035g00000ABCDEAAA' }, undefined],
    ['not a string', { salesforceAccountId: 42 }, undefined],
    ['no metadata', null, undefined],
  ])('linked Account: %s', (_label, metadata, expected) => {
    expect(linkedAccountId(metadata)).toBe(expected);
  });
});

describe("the backfill's decision per record", () => {
  const target = { kind: 'users', clerkId: 'user_1', type: 'Contact' } as const;
  const create = (): Write => ({ ...target, op: 'create', record: { Clerk_User_Id__c: 'user_1' } });

  it.each<[string, Stored | undefined, string | undefined, string]>([
    ['absent: created', undefined, 'create', 'none'],
    [
      'deleted: left alone (a deletion is final)',
      { Id: '003A', Clerk_Status__c: 'Deleted' },
      undefined,
      'skippedDeleted',
    ],
    ['same version: unchanged', { Id: '003A', Clerk_Updated_At__c: 100 }, undefined, 'unchanged'],
    ['newer in Salesforce: unchanged', { Id: '003A', Clerk_Updated_At__c: 200 }, undefined, 'unchanged'],
    ['older: updated', { Id: '003A', Clerk_Updated_At__c: 50 }, 'update', 'none'],
    [
      'no version (made by a membership event): updated',
      { Id: '003A', Clerk_Updated_At__c: null },
      'update',
      'none',
    ],
    [
      'version stored as text: compared as a number',
      { Id: '003A', Clerk_Updated_At__c: '99' },
      'update',
      'none',
    ],
  ])('%s', (_label, stored, op, counted) => {
    const counts = emptyCounts();
    const write = versionedWrite(target, stored, 100, { LastName: 'New' }, counts, create);
    expect(write?.op).toBe(op);
    if (counted !== 'none') expect(counts[counted as keyof typeof counts]).toBe(1);
    if (write?.op === 'update') {
      expect(write.record).toEqual({ Id: '003A', LastName: 'New', Clerk_Updated_At__c: 100 });
      // The same guard as the webhook path, checked in the write's own request; never the status.
      expect(write.guard).toBe(
        "Clerk_Status__c != 'Deleted' AND (Clerk_Updated_At__c = null OR Clerk_Updated_At__c < 100)",
      );
    }
  });
});
