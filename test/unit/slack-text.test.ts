import { slackText } from '../../src/shared/slack-text';

// Issue 12 "Slack mrkdwn": user text in a notice is shown as typed, never read as Slack markup.

describe('slackText', () => {
  test.each([
    ['a mention of the whole channel', '<!channel>', '&lt;!channel&gt;'],
    ['a user mention', '<@U024BE7LH>', '&lt;@U024BE7LH&gt;'],
    [
      'a link with a label',
      '<https://evil.example|Re-authenticate Salesforce>',
      '&lt;https://evil.example|Re-authenticate Salesforce&gt;',
    ],
    [
      'an ampersand, escaped first so entities stay as typed',
      'Smith &amp; Sons & Co',
      'Smith &amp;amp; Sons &amp; Co',
    ],
    ['a comparison', 'a < b > c', 'a &lt; b &gt; c'],
  ])('escapes %s', (_, input, escaped) => {
    expect(slackText(input)).toBe(escaped);
  });

  it('keeps ordinary text, punctuation and unicode as they are', () => {
    for (const text of [
      "Siobhán O'Connor joined Zoë & Co as org:admin",
      'Ada *Lovelace* (user_2Nx)',
      '渡辺 🚀',
    ]) {
      expect(slackText(text).replace(/&amp;/g, '&')).toBe(text);
    }
    expect(slackText('New sign-up: Ada Lovelace (user_2Nx)')).toBe('New sign-up: Ada Lovelace (user_2Nx)');
  });

  it('turns line breaks and other control characters into one space: a name cannot add lines of its own', () => {
    expect(slackText('Ada\n\nNew sign-up: Mallory\r\u2028x\u0007y')).toBe('Ada New sign-up: Mallory x y');
  });
});
