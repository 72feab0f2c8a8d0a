import { activityInfo, log } from '@temporalio/activity';
import type { Resend } from 'resend';
import { withDeadline } from '../deadline';
import { RESEND_REQUEST_TIMEOUT_MS } from '../timeouts';
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

/**
 * Resend keeps an idempotency key for 24 hours. An attempt that comes later than this after the first one may follow
 * an attempt whose email went out but whose answer was lost: sending again could be the second email, so it is not.
 */
const IDEMPOTENCY_WINDOW_MS = 23 * 60 * 60 * 1000;

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
    }): Promise<{ id: string } | 'skipped' | 'uncertain'> {
      if (!resend || !settings) return 'skipped';
      const info = activityInfo();
      if (info.attempt > 1 && Date.now() - info.scheduledTimestampMs > IDEMPOTENCY_WINDOW_MS) {
        log.warn(
          'welcome email not sent: an earlier attempt may have sent it, and Resend no longer dedups it',
          {
            userId: input.userId,
          },
        );
        return 'uncertain';
      }
      // Resend's own `signal` option: the request is aborted at the limit or when the activity is cancelled (the
      // SDK then answers `{ error }` without a status, which withDeadline has already replaced by its reason).
      const { data, error, headers } = await withDeadline(
        'Resend POST /emails',
        RESEND_REQUEST_TIMEOUT_MS,
        (signal) =>
          resend.emails.send(
            {
              from: settings.from,
              to: [input.to],
              ...welcomeEmail(input.firstName, settings.subject),
              tags: [{ name: 'kind', value: 'welcome' }],
            },
            { idempotencyKey: `welcome-email/${input.userId}`, signal },
          ),
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
