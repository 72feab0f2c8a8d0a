import { randomUUID } from 'node:crypto';
import { Webhook } from 'svix';

/** What Svix sends: the three signed headers and the raw body. */
export interface SignedDelivery {
  svixId: string;
  headers: Record<'svix-id' | 'svix-timestamp' | 'svix-signature' | 'content-type', string>;
  body: string;
}

/** A fresh Svix message id, shaped like Svix's own (`msg_…`). */
export function newSvixId(): string {
  return `msg_${randomUUID().replace(/-/g, '')}`;
}

/** Signs `body` as Svix does for one delivery attempt (svix's own `Webhook.sign`). */
export function signDelivery(
  secret: string,
  body: string,
  { svixId = newSvixId(), at = new Date() }: { svixId?: string; at?: Date } = {},
): SignedDelivery {
  const signature = new Webhook(secret).sign(svixId, at, body);
  return {
    svixId,
    body,
    headers: {
      'svix-id': svixId,
      'svix-timestamp': String(Math.floor(at.getTime() / 1000)),
      'svix-signature': signature,
      'content-type': 'application/json',
    },
  };
}

/** The product's answer to one delivery. */
export interface DeliveryResult {
  svixId: string;
  status: number;
  body: unknown;
}

/** Signs and POSTs one event to a webhook endpoint, as one Svix delivery attempt. */
export async function deliverWebhook(
  url: string,
  secret: string,
  event: unknown,
  options: { svixId?: string; at?: Date; signal?: AbortSignal } = {},
): Promise<DeliveryResult> {
  const delivery = signDelivery(secret, JSON.stringify(event), options);
  const res = await fetch(url, {
    method: 'POST',
    headers: delivery.headers,
    body: delivery.body,
    signal: options.signal ?? AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text as it came
  }
  return { svixId: delivery.svixId, status: res.status, body };
}
