import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SANDBOX_CREDENTIALS } from '../credentials';
import type { SandboxService } from '../types';
import { isRecord } from '../wire';
import { clerkApi } from './api';
import type {
  AddMembershipParams,
  CreateOrganizationParams,
  CreateUserParams,
  UpdateMembershipParams,
  UpdateOrganizationParams,
  UpdateUserParams,
} from './store';
import { ClerkSandboxError, ClerkStore } from './store';
import type { ClerkEvent, ClerkSeed } from './types';
import type { WebhookDeliveryRecord, WebhookTarget } from './webhooks';
import { WebhookSender } from './webhooks';

export type * from './types';
export type {
  AddMembershipParams,
  CreateOrganizationParams,
  CreateUserParams,
  UpdateMembershipParams,
  UpdateOrganizationParams,
  UpdateUserParams,
} from './store';
export type { WebhookDeliveryRecord, WebhookTarget } from './webhooks';
export { ClerkSandboxError, ClerkStore, newClerkId } from './store';

/** The seed shipped with the package (the same path from `src/` and from `dist/`). */
export const DEFAULT_CLERK_SEED = resolve(__dirname, '../../fixtures/clerk-seed.json');

/** Reads a seed file, or passes a seed object through. */
export function loadClerkSeed(seed: string | ClerkSeed = DEFAULT_CLERK_SEED): ClerkSeed {
  if (typeof seed !== 'string') return seed;
  const parsed: unknown = JSON.parse(readFileSync(seed, 'utf8'));
  if (!isRecord(parsed))
    throw new Error(`clerk seed ${seed}: expected a JSON object with users, organizations, memberships`);
  return parsed;
}

/** Options of the Clerk stand-in. */
export interface ClerkServiceOptions {
  seed?: string | ClerkSeed;
  secretKey?: string;
  /** Where Backend API mutations (and control-API mutations) deliver their webhooks, like Clerk does. */
  webhook?: WebhookTarget;
}

/** The Clerk stand-in: Backend API, data, typed mutators that return the webhook event each implies. */
export interface ClerkService extends SandboxService {
  readonly name: 'clerk';
  readonly store: ClerkStore;
  createUser(params?: CreateUserParams): ClerkEvent;
  updateUser(id: string, params: UpdateUserParams): ClerkEvent;
  deleteUser(id: string): ClerkEvent;
  createOrganization(params: CreateOrganizationParams): ClerkEvent;
  updateOrganization(id: string, params: UpdateOrganizationParams): ClerkEvent;
  deleteOrganization(id: string): ClerkEvent;
  addMembership(params: AddMembershipParams): ClerkEvent;
  updateMembership(params: UpdateMembershipParams): ClerkEvent;
  removeMembership(params: { organizationId: string; userId: string }): ClerkEvent;
  /** Sets (or, with undefined, removes) where webhooks go. */
  setWebhook(target: WebhookTarget | undefined): void;
  /** Webhooks sent so far, with their outcome. */
  webhookDeliveries(): WebhookDeliveryRecord[];
  /** Resolves when every webhook sent so far has been delivered or has failed for good. */
  webhooksIdle(): Promise<void>;
  /** Stops webhook retries. */
  close(): void;
}

/** Creates the Clerk stand-in, seeded from a file or object (default: fixtures/clerk-seed.json). */
export function createClerkService(options: ClerkServiceOptions = {}): ClerkService {
  const store = new ClerkStore(loadClerkSeed(options.seed));
  const webhooks = new WebhookSender(options.webhook);
  const emit = (events: ClerkEvent[]) => webhooks.send(events);

  // The control API mutates like Clerk's dashboard does: the change happens and its webhook goes out.
  const mutate = (run: (body: Record<string, unknown>) => ClerkEvent) => (body: unknown) => {
    const event = run(isRecord(body) ? body : {});
    emit([event]);
    return event;
  };
  const id = (body: Record<string, unknown>): string => {
    if (typeof body.id !== 'string')
      throw new ClerkSandboxError(422, 'form_param_missing', 'id must be included.', 'id must be included.');
    return body.id;
  };

  return {
    name: 'clerk',
    store,
    middleware: clerkApi({ store, secretKey: options.secretKey ?? SANDBOX_CREDENTIALS.clerkSecretKey, emit }),
    reset: () => {
      store.reset();
      webhooks.clearRecords();
    },
    snapshot: () => ({ ...store.snapshot(), webhooks: webhooks.deliveries() }),
    createUser: (p) => store.createUser(p),
    updateUser: (userId, p) => store.updateUser(userId, p),
    deleteUser: (userId) => store.deleteUser(userId),
    createOrganization: (p) => store.createOrganization(p),
    updateOrganization: (orgId, p) => store.updateOrganization(orgId, p),
    deleteOrganization: (orgId) => store.deleteOrganization(orgId),
    addMembership: (p) => store.addMembership(p),
    updateMembership: (p) => store.updateMembership(p),
    removeMembership: (p) => store.removeMembership(p),
    setWebhook: (target) => webhooks.setTarget(target),
    webhookDeliveries: () => webhooks.deliveries(),
    webhooksIdle: () => webhooks.idle(),
    close: () => webhooks.close(),
    control: {
      createUser: mutate((b) => store.createUser(b)),
      updateUser: mutate((b) => store.updateUser(id(b), b)),
      deleteUser: mutate((b) => store.deleteUser(id(b))),
      createOrganization: mutate((b) => store.createOrganization(b as unknown as CreateOrganizationParams)),
      updateOrganization: mutate((b) => store.updateOrganization(id(b), b)),
      deleteOrganization: mutate((b) => store.deleteOrganization(id(b))),
      addMembership: mutate((b) => store.addMembership(b as unknown as AddMembershipParams)),
      updateMembership: mutate((b) => store.updateMembership(b as unknown as UpdateMembershipParams)),
      removeMembership: mutate((b) =>
        store.removeMembership(b as unknown as { organizationId: string; userId: string }),
      ),
      /** `{url, secret}` sets the target, `{}` removes it. */
      setWebhook: (body) => {
        const b = isRecord(body) ? body : {};
        webhooks.setTarget(
          typeof b.url === 'string' && typeof b.secret === 'string'
            ? { url: b.url, secret: b.secret }
            : undefined,
        );
        return { webhook: webhooks.configured?.url ?? null };
      },
      webhookDeliveries: () => webhooks.deliveries(),
    },
  };
}
