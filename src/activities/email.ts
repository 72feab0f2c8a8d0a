import type { Resend } from 'resend';
import { classified, classifyResend, ResendError } from './errors';

/** Sender and subject of the welcome email (WELCOME_EMAIL_FROM, WELCOME_EMAIL_SUBJECT). */
export interface WelcomeEmailSettings {
  from: string;
  subject: string;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The welcome email: HTML and text parts, greeting the user by first name. */
export function welcomeEmail(
  firstName: string | null,
  subject: string,
): { subject: string; html: string; text: string } {
  const name = firstName?.trim() || 'there';
  return {
    subject,
    text: `Hi ${name},\n\nWelcome aboard! Your account is ready.\n\nIf you did not sign up, you can ignore this email.\n`,
    html:
      `<!doctype html><html><body style="font-family:system-ui,sans-serif;line-height:1.5">` +
      `<p>Hi ${escapeHtml(name)},</p><p>Welcome aboard! Your account is ready.</p>` +
      `<p style="color:#666;font-size:12px">If you did not sign up, you can ignore this email.</p></body></html>`,
  };
}

/** Resend activities; `'skipped'` when no RESEND_API_KEY is configured. */
export function emailActivities(resend: Resend | undefined, settings: WelcomeEmailSettings | undefined) {
  return classified(classifyResend, {
    /**
     * Sends the welcome email. Called only by the run that claimed it on the Contact (the durable "never two"
     * mark); Resend's idempotency key makes this call's own retries safe within Resend's 24 h.
     */
    async sendWelcomeEmail(input: {
      userId: string;
      to: string;
      firstName: string | null;
    }): Promise<{ id: string } | 'skipped'> {
      if (!resend || !settings) return 'skipped';
      const { data, error, headers } = await resend.emails.send(
        {
          from: settings.from,
          to: [input.to],
          ...welcomeEmail(input.firstName, settings.subject),
          tags: [{ name: 'kind', value: 'welcome' }],
        },
        { idempotencyKey: `welcome-email/${input.userId}` },
      );
      if (error) {
        const retryAfter = Number(headers?.['retry-after']);
        throw new ResendError(
          error.statusCode ?? null,
          error.name,
          error.message,
          Number.isFinite(retryAfter) ? retryAfter : undefined,
        );
      }
      return { id: data.id };
    },
  });
}

/** The email activities' interface, for `proxyActivities`. */
export type EmailActivities = ReturnType<typeof emailActivities>;
