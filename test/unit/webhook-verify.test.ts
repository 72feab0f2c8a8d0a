import { randomBytes } from 'node:crypto';
import { Webhook } from 'svix';
import { HttpError } from '../../src/api/errors';
import { TIMESTAMP_TOLERANCE_SECONDS, verifyDelivery } from '../../src/api/webhook';
import { signDelivery } from '@clerk-sync/sandbox';

// The endpoint's contract is in test/api/webhook-rejections.test.ts; these rows pin how the installed svix and our
// own checks share the decision, so that svix's error only ever means "signature" (issue 15).
const NOW = Date.parse('2025-06-01T12:00:00Z');
const secret = () => `whsec_${randomBytes(24).toString('base64')}`;
const SECRET = secret();
const OTHER = secret();
const EVENT = JSON.stringify({ type: 'user.created', data: { id: 'user_1' } });

beforeAll(() => jest.useFakeTimers({ now: NOW })); // svix reads the same frozen clock
afterAll(() => jest.useRealTimers());

type Delivery = { body: string; headers: Record<string, string> };
const signed = (opts: { secret?: string; body?: string; offsetS?: number } = {}): Delivery => {
  const d = signDelivery(opts.secret ?? SECRET, opts.body ?? EVENT, {
    at: new Date(NOW + (opts.offsetS ?? 0) * 1000),
  });
  const { 'content-type': _type, ...headers } = d.headers;
  return { body: d.body, headers };
};

function outcome(d: Delivery, secrets: string[] = [SECRET]): unknown {
  try {
    return verifyDelivery(
      secrets.map((s) => new Webhook(s)),
      Buffer.from(d.body),
      d.headers,
      NOW,
    );
  } catch (err) {
    if (err instanceof HttpError) return { status: err.status, code: err.code, message: err.message };
    throw err;
  }
}

const refused = (status: number, code: string, message: string) => ({ status, code, message });
const tolerance = TIMESTAMP_TOLERANCE_SECONDS;

test.each<[string, Delivery, string[] | undefined, unknown]>([
  ['signed now with the secret', signed(), undefined, JSON.parse(EVENT)],
  [
    'signed with the second of two secrets (a rotation)',
    signed({ secret: OTHER }),
    [SECRET, OTHER],
    JSON.parse(EVENT),
  ],
  [
    'exactly 5 minutes old: svix accepts what we accept',
    signed({ offsetS: -tolerance }),
    undefined,
    JSON.parse(EVENT),
  ],
  ['exactly 5 minutes ahead', signed({ offsetS: tolerance }), undefined, JSON.parse(EVENT)],
  [
    'signed with another secret',
    signed({ secret: OTHER }),
    undefined,
    refused(401, 'invalid_signature', 'No matching signature found'),
  ],
  [
    'a body changed after signing',
    { ...signed(), body: `${EVENT} ` },
    undefined,
    refused(401, 'invalid_signature', 'No matching signature found'),
  ],
  [
    'a signature of an unknown version only',
    {
      ...signed(),
      headers: {
        ...signed().headers,
        'svix-signature': `v2,${signed().headers['svix-signature']!.slice(3)}`,
      },
    },
    undefined,
    refused(401, 'invalid_signature', 'No matching signature found'),
  ],
  [
    '5 minutes and 1 second old, correctly signed',
    signed({ offsetS: -tolerance - 1 }),
    undefined,
    refused(401, 'invalid_signature', 'Message timestamp too old'),
  ],
  [
    '5 minutes and 1 second ahead, correctly signed',
    signed({ offsetS: tolerance + 1 }),
    undefined,
    refused(401, 'invalid_signature', 'Message timestamp too new'),
  ],
  [
    'an old timestamp with a wrong signature: the window decides first',
    signed({ secret: OTHER, offsetS: -3600 }),
    undefined,
    refused(401, 'invalid_signature', 'Message timestamp too old'),
  ],
  [
    'signed, but not JSON',
    signed({ body: 'not json' }),
    undefined,
    refused(400, 'invalid_json', 'Body is signed but is not JSON'),
  ],
])('%s', (_label, delivery, secrets, expected) => {
  expect(outcome(delivery, secrets)).toEqual(expected);
});
