import type { MembershipSync } from '../../src/shared/mapping';
import {
  BACKLOG_MESSAGE_CHARS,
  displayName,
  MESSAGE_CHARS,
  membershipNotice,
  nextMessage,
  signUpNotice,
  type Notice,
} from '../../src/shared/notices';

const notices = (n: number, text: (i: number) => string = (i) => `New sign-up: User ${i} (user_${i})`) =>
  Array.from({ length: n }, (_, i): Notice => ({ id: `msg_${i}`, text: text(i), at: i }));

describe('nextMessage', () => {
  it('puts every waiting notice in one message, one line each, oldest first', () => {
    expect(nextMessage(notices(3))).toEqual({
      text: 'New sign-up: User 0 (user_0)\nNew sign-up: User 1 (user_1)\nNew sign-up: User 2 (user_2)',
      taken: 3,
    });
  });

  it('makes every line inert for Slack and keeps it one line', () => {
    const { text } = nextMessage(notices(1, () => 'New sign-up: <!channel>\nfake line & co'));
    expect(text).toBe('New sign-up: &lt;!channel&gt; fake line &amp; co');
  });

  it('keeps a message within Slack’s recommended length while that holds everything waiting', () => {
    const waiting = notices(40, (i) => `${'x'.repeat(90)} ${i}`);
    const { text, taken } = nextMessage(waiting);
    expect(taken).toBe(40);
    expect(text.length).toBeLessThanOrEqual(MESSAGE_CHARS);
  });

  it('under a backlog, fills messages up to Slack’s truncation limit; the rest waits for the next', () => {
    const waiting = notices(1_000, (i) => `${'x'.repeat(95)} ${String(i).padStart(4, '0')}`);
    const first = nextMessage(waiting);
    expect(first.text.length).toBeLessThanOrEqual(BACKLOG_MESSAGE_CHARS);
    expect(first.taken).toBe(Math.floor((BACKLOG_MESSAGE_CHARS + 1) / 101));
    const rest = nextMessage(waiting.slice(first.taken));
    expect(first.taken + rest.taken).toBeLessThan(1_000);
    expect(rest.text.split('\n')[0]).toMatch(/ 0386$/);
  });

  it('cuts a single line longer than a message', () => {
    const { text, taken } = nextMessage(notices(1, () => 'y'.repeat(50_000)));
    expect(taken).toBe(1);
    expect(text.length).toBe(BACKLOG_MESSAGE_CHARS);
    expect(text.endsWith('…')).toBe(true);
  });
});

describe('notice texts', () => {
  const joined = (n: number) =>
    Array.from(
      { length: n },
      (_, i) => ({ account: { Name: `Org ${i}` }, membership: { Role__c: 'org:member' } }) as MembershipSync,
    );

  it('names a sign-up by name, never by email, and the user id', () => {
    expect(
      signUpNotice(displayName({ first_name: 'Ada', last_name: 'Lovelace' }, 'user_1'), 'user_1', []),
    ).toBe('New sign-up: Ada Lovelace (user_1)');
    expect(displayName({ first_name: null, last_name: null }, 'user_2')).toBe('user_2');
  });

  it('tells the organizations a sign-up joined: five by name, then how many more', () => {
    expect(signUpNotice('Ada', 'user_1', joined(1))).toBe(
      'New sign-up: Ada (user_1), joined Org 0 as org:member',
    );
    expect(signUpNotice('Ada', 'user_1', joined(7))).toMatch(
      /joined Org 0 as org:member, .*Org 4 as org:member, and 2 more$/,
    );
  });

  it('says what a membership event changed', () => {
    const m = { who: 'Ada', organization: 'Acme', role: 'org:admin' };
    expect(membershipNotice('created', m)).toBe('Ada joined Acme as org:admin');
    expect(membershipNotice('updated', m)).toBe('Ada is now org:admin in Acme');
    expect(membershipNotice('removed', m)).toBe('Ada left Acme');
  });
});
