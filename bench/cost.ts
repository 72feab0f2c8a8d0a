import type { ClerkEvent } from '@clerk-sync/sandbox';
import { deliverWebhook } from '@clerk-sync/sandbox';
import type { ServiceName } from '@clerk-sync/sandbox';
import { notifierWorkflowId } from '../src/shared/notices';
import { actionsPerEvent, notifierActions, noticeSignals, type Actions } from './actions';
import { prepareSandbox } from './e2e';
import { runAll } from './pacing';
import { startProduct, startTemporal, type Bench } from './stack';
import { round } from './stats';

/** Calls per event of one event type, per downstream service, and the Temporal actions per event. */
export interface TypeCost {
  events: number;
  failed: number;
  salesforce: number;
  clerk: number;
  resend: number;
  actions?: Actions;
}

/** What the cost section reports. */
export interface CostReport {
  perType: Record<string, TypeCost>;
  /** The least a sync can cost: one Salesforce call per event. */
  minimum: 1;
  /** Salesforce calls per event, the mean over equal shares of sign-ups, joins and leaves; Temporal actions alike. */
  mix: { types: string[]; salesforcePerEvent: number; target: 1; actionsPerEvent?: number };
  /** The Slack notifier's own actions (its messages, timers, runs) per notice it received. */
  notifier?: { notices: number; actions: Actions; actionsPerNotice: number };
}

/** The sign-up/join/leave mix of issue 7. */
const MIX = ['user.created', 'organizationMembership.created', 'organizationMembership.deleted'];

/** Calls a service received that count against its API (Salesforce's OAuth token call does not). */
function apiCalls(bench: Bench, service: ServiceName): number {
  const calls = bench.sandbox.calls(service);
  if (service !== 'salesforce') return calls.length;
  return calls.filter((c) => c.path.startsWith('/services/data/') && c.path !== '/services/data/').length;
}

/**
 * Downstream cost: each event type in a phase of its own (K events, every run awaited), with the calls each
 * service received during the phase divided by K. The mix is the mean of its types' Salesforce costs.
 */
export async function costSection(bench: Bench): Promise<CostReport> {
  const k = bench.settings.cost.perType;
  const clerk = bench.sandbox.services.clerk;
  const t = await startTemporal();
  prepareSandbox(bench, undefined);
  const api = await startProduct(bench, t, 'cost');
  const id = (e: ClerkEvent) => (e.data as { id: string }).id;
  const range = Array.from({ length: k }, (_, i) => i);
  let orgs: string[] = [];
  let users: string[] = [];
  const phases: [string, () => ClerkEvent[]][] = [
    [
      'organization.created',
      () => {
        const events = range.map((i) => clerk.createOrganization({ name: `Cost Org ${i}` }));
        orgs = events.map(id);
        return events;
      },
    ],
    [
      'user.created',
      () => {
        const events = range.map((i) =>
          clerk.createUser({
            firstName: 'Cost',
            lastName: `User${i}`,
            emailAddress: [`cost.user${i}@example.com`],
          }),
        );
        users = events.map(id);
        return events;
      },
    ],
    [
      'user.created (joined 1 org before the webhook)',
      () =>
        range.map((i) => {
          const event = clerk.createUser({
            firstName: 'Cost',
            lastName: `Invited${i}`,
            emailAddress: [`cost.invited${i}@example.com`],
          });
          clerk.addMembership({ organizationId: orgs[i]!, userId: id(event), role: 'org:member' });
          return event;
        }),
    ],
    ['user.updated', () => users.map((u, i) => clerk.updateUser(u, { lastName: `Updated${i}` }))],
    [
      'organizationMembership.created',
      () =>
        users.map((u, i) => clerk.addMembership({ organizationId: orgs[i]!, userId: u, role: 'org:member' })),
    ],
    [
      'organizationMembership.updated',
      () =>
        users.map((u, i) =>
          clerk.updateMembership({ organizationId: orgs[i]!, userId: u, role: 'org:admin' }),
        ),
    ],
    [
      'organization.updated',
      () => orgs.map((o, i) => clerk.updateOrganization(o, { name: `Cost Org ${i}b` })),
    ],
    [
      'organizationMembership.deleted',
      () => users.map((u, i) => clerk.removeMembership({ organizationId: orgs[i]!, userId: u })),
    ],
    ['user.deleted', () => users.map((u) => clerk.deleteUser(u))],
    ['organization.deleted', () => orgs.map((o) => clerk.deleteOrganization(o))],
  ];
  // Slack messages go out in batches from one notifier workflow: not counted per event here.
  const services: ServiceName[] = ['salesforce', 'clerk', 'resend'];
  const perType: Record<string, TypeCost> = {};
  const workflows: Record<string, string[]> = {};
  let notifier: CostReport['notifier'];
  try {
    for (const [name, make] of phases) {
      const before = services.map((s) => apiCalls(bench, s));
      const events = make();
      let failed = 0;
      const ids: string[] = (workflows[name] = []);
      await runAll(events, 4, async (event) => {
        const res = await deliverWebhook(api.url, bench.secret, event);
        if (res.status >= 300) {
          failed += 1;
          return;
        }
        ids.push(res.svixId);
        await t.client.workflow
          .getHandle(res.svixId)
          .result()
          .catch(() => (failed += 1));
      });
      const after = services.map((s) => apiCalls(bench, s));
      const per = (i: number) => round((after[i]! - before[i]!) / events.length);
      perType[name] = {
        events: events.length,
        failed,
        salesforce: per(0),
        clerk: per(1),
        resend: per(2),
      };
      bench.note(`cost ${name}: ${perType[name].salesforce} Salesforce calls per event`);
    }
    // Temporal actions, from the histories: each sync's own, and the signals its activities sent to the notifier.
    const notifierId = notifierWorkflowId(api.taskQueue);
    const signals = await noticeSignals(t.client, notifierId);
    for (const [name, ids] of Object.entries(workflows)) {
      perType[name]!.actions = await actionsPerEvent(t.client, ids, signals);
      bench.note(`actions ${name}: ${JSON.stringify(perType[name]!.actions)}`);
    }
    const { actions } = await notifierActions(t.client, notifierId);
    const notices = signals.size;
    notifier = { notices, actions, actionsPerNotice: round(actions.total / Math.max(1, notices)) };
  } finally {
    await api.close();
    await t.close();
  }
  const mixCost = MIX.reduce((sum, type) => sum + perType[type]!.salesforce, 0) / MIX.length;
  const mixActions = MIX.reduce((sum, type) => sum + (perType[type]!.actions?.total ?? NaN), 0) / MIX.length;
  return {
    perType,
    minimum: 1,
    mix: { types: MIX, salesforcePerEvent: round(mixCost), target: 1, actionsPerEvent: round(mixActions) },
    notifier,
  };
}
