/** The three characters Slack's mrkdwn reads as markup, and the entities Slack documents for them. */
const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/**
 * Text for a Slack message that Slack shows as typed (issue 12): `&`, `<` and `>` become `&amp;`, `&lt;`, `&gt;`, so
 * a first name `<!channel>` pings nobody and `<https://…|label>` is no link; line breaks and other control
 * characters become one space, so a name cannot add lines of its own to a one-line notice.
 */
export function slackText(text: string): string {
  return text.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ').replace(/[&<>]/g, (c) => ENTITIES[c] ?? c);
}
