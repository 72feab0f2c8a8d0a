import type { CostReport } from './cost';
import type { E2eReport, SyncRound } from './e2e';
import type { IngestReport, VariantSummary } from './ingest';
import type { InlineReport } from './inline';
import type { NoticesReport } from './notices';
import type { ScaleReport } from './scale';
import type { Settings } from './settings';
import type { SizesReport } from './sizes';

/** The JSON report: where and how it ran, then each section's figures (every per-pair value kept). */
export interface Report {
  startedAt: string;
  finishedAt?: string;
  durationS?: number;
  machine: {
    hostname: string;
    cpus: number;
    cpuModel: string;
    memoryGiB: number;
    loadAverageAtStart: number[];
    loadAverageAtEnd?: number[];
    node: string;
  };
  git: { commit: string; uncommittedFiles: number };
  /** The command line's options (`--quick`, `--only=…`); absent from reports older than issue 17. */
  argv?: string[];
  settings: Settings;
  bundles: { productMs: number; ceilingMs: number };
  ingest?: IngestReport;
  e2e?: E2eReport;
  notices?: NoticesReport;
  inline?: InlineReport;
  cost?: CostReport;
  scale?: ScaleReport;
  sizes?: SizesReport;
  errors: { section: string; error: string }[];
}

type Row = [measure: string, variant: string, baseline: string, ratio: string, target: string];

const rate = (s: VariantSummary) => `${s.maxRate}/s (${s.p50}/${s.p99} ms)`;
const sync = (r: SyncRound) => `${r.perSecond}/s (${r.latency.p50}/${r.latency.p99} ms)`;
const fixed = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '-');

/** The short table: medians of the alternated pairs, and the median of the per-pair ratios. */
/** The range of the per-pair ratios behind a median, e.g. ` [0.72–0.91]`: how far one pair is from another. */
function spread(ratios: readonly number[]): string {
  if (ratios.length < 2) return '';
  return ` [${fixed(Math.min(...ratios))}–${fixed(Math.max(...ratios))}]`;
}

const count = (n: number) => n.toLocaleString('en-US');

/** The sizes section's rows: a part with a wrong result shows the error instead of figures. */
function sizesRows(sizes: SizesReport): Row[] {
  const rows: Row[] = [];
  const wrong = (measure: string, error: string): Row => [
    measure,
    'ERROR (below)',
    error.slice(0, 60),
    '',
    '',
  ];
  const { orgMembers, userOrgs, backfillUsers } = {
    orgMembers: sizes.organizationDeleted.figures?.members ?? sizes.organizationDeleted.measured?.members,
    userOrgs:
      sizes.userInOrganizations.figures?.organizations ?? sizes.userInOrganizations.measured?.organizations,
    backfillUsers: sizes.backfill.figures?.users ?? sizes.backfill.measured?.users,
  };
  const o = sizes.organizationDeleted;
  const orgName = `sizes: organization.deleted, ${count(orgMembers ?? 0)} members (single runs, SF 150 ms, durable Temporal)`;
  if (o.figures) {
    const f = o.figures;
    rows.push([
      orgName,
      `${f.seconds} s, ${f.salesforceCalls} SF calls`,
      `${count(f.records)} records`,
      `${fixed(f.callsPer150Records)} calls/150 records`,
      '≤ 1',
    ]);
  } else rows.push(wrong(orgName, o.error ?? 'no figures'));
  const u = sizes.userInOrganizations;
  const userName = `sizes: user.created, user in ${count(userOrgs ?? 0)} organizations`;
  if (u.figures) {
    const f = u.figures;
    rows.push([
      userName,
      `${f.seconds} s, ${f.salesforceCalls} SF calls`,
      `${f.memberships} memberships, ${f.welcomeEmails} email`,
      '',
      '',
    ]);
  } else rows.push(wrong(userName, u.error ?? 'no figures'));
  const b = sizes.backfill;
  const backfillName = `sizes: backfill of ${count(backfillUsers ?? 0)} users: records/s`;
  if (b.figures) {
    const f = b.figures;
    rows.push([
      backfillName,
      `${f.recordsPerSecond}/s (${f.seconds} s)`,
      `${f.salesforceCalls} SF calls, worker RSS ${f.workerRss.beforeMiB} → ${f.workerRss.endMiB} MiB (max ${f.workerRss.maxMiB})`,
      `${f.callsPerRecord} calls/record`,
      '',
    ]);
  } else rows.push(wrong(backfillName, b.error ?? 'no figures'));
  return rows;
}

export function table(report: Report): string {
  const rows: Row[] = [['measure', 'variant', 'baseline', 'ratio', 'target']];
  const { ingest, e2e, notices, inline, cost, scale, sizes } = report;
  if (ingest) {
    const s = ingest.summary;
    rows.push(
      [
        'ingest: max req/s (p50/p99)',
        `endpoint ${rate(s.ingest)}`,
        `start loop ${rate(s['start-ceiling'])}`,
        fixed(ingest.median.ingestOverStart),
        '≥ 0.8',
      ],
      ['', '', `verify-only ${rate(s['verify-only'])}`, fixed(ingest.median.ingestOverVerify), ''],
    );
  }
  for (const p of e2e?.profiles ?? []) {
    const name =
      p.profile === 'zero'
        ? 'zero latency'
        : `SF ${p.profile.salesforce}/Clerk ${p.profile.clerk}/Resend ${p.profile.resend} ms`;
    rows.push([
      `e2e ${e2e!.events} sign-ups, ${p.server ?? 'memory'} server${p.workers ? `, ${p.workers} worker(s)` : ''}, ${name}: syncs/s (p50/p99 to write)`,
      `product ${sync(p.median.product)}`,
      `minimal shape ${sync(p.median.ceiling)}`,
      `${fixed(p.medianRatio.throughput)}${spread(p.ratios.throughput)} (p99 ×${fixed(p.medianRatio.p99)})`,
      p.profile === 'zero' && p.server === 'durable' ? '≥ 0.8' : '',
    ]);
  }
  if (notices) {
    rows.push([
      `notices: ${notices.signUps} sign-ups at once, Contact written → in Slack (p50/p99), most messages in 10 s`,
      `${notices.median.p50}/${notices.median.p99} ms, ${notices.maxMessagesPer10s} messages`,
      `${notices.rounds.length} burst(s), durable server`,
      '',
      `p99 ≤ ${notices.target.p99Ms} ms, ≤ ${notices.target.messagesPer10s}`,
    ]);
  }
  if (inline) {
    const s = inline.summary;
    rows.push([
      'inline handler vs endpoint: max req/s (p50/p99)',
      `inline ${rate(s.inline)}`,
      `endpoint+workers ${rate(s.product)}`,
      `${fixed(inline.median.inlineOverProduct)} (p99 ×${fixed(inline.median.p99InlineOverProduct)})`,
      '',
    ]);
    for (const [name, run] of Object.entries(inline.faults)) {
      rows.push([
        `  inline handler, ${name}: ${run.events} events`,
        `lost ${run.lost}, duplicate emails ${run.duplicateEmails}, wrong records ${run.wrongRecords}`,
        'product: npm run test:faults',
        '',
        'lost 0, dup 0',
      ]);
    }
  }
  if (cost) {
    const c = (type: string) => String(cost.perType[type]?.salesforce ?? '-');
    rows.push(
      [
        'Salesforce calls/event (sign-up/join/leave)',
        `${cost.mix.salesforcePerEvent}`,
        'minimum 1',
        fixed(cost.mix.salesforcePerEvent),
        '≤ 1.0',
      ],
      [
        '  user created (with 1 membership)/updated/deleted',
        `${c('user.created')} (${c('user.created (joined 1 org before the webhook)')}) / ${c('user.updated')} / ${c('user.deleted')}`,
        '',
        '',
        '',
      ],
      [
        '  membership created/updated/deleted',
        `${c('organizationMembership.created')} / ${c('organizationMembership.updated')} / ${c('organizationMembership.deleted')}`,
        '',
        '',
        '',
      ],
      [
        '  organization created/updated/deleted',
        `${c('organization.created')} / ${c('organization.updated')} / ${c('organization.deleted')}`,
        '',
        '',
        '',
      ],
    );
    const a = (type: string) => String(cost.perType[type]?.actions?.total ?? '-');
    if (cost.mix.actionsPerEvent !== undefined)
      rows.push(
        [
          'Temporal actions/event (sign-up/join/leave)',
          `${cost.mix.actionsPerEvent}`,
          `notifier ${cost.notifier?.actionsPerNotice ?? '-'}/notice`,
          '',
          '',
        ],
        [
          '  user created (with 1 membership)/updated/deleted',
          `${a('user.created')} (${a('user.created (joined 1 org before the webhook)')}) / ${a('user.updated')} / ${a('user.deleted')}`,
          '',
          '',
          '',
        ],
        [
          '  membership created/updated/deleted',
          `${a('organizationMembership.created')} / ${a('organizationMembership.updated')} / ${a('organizationMembership.deleted')}`,
          '',
          '',
          '',
        ],
      );
  }
  if (scale) {
    const one = scale.pairs.one;
    const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    rows.push([
      `scale ${scale.pairs.events} events: syncs/s`,
      `2 workers ${mid(scale.pairs.two.map((r) => r.perSecond))}/s`,
      `1 worker ${mid(one.map((r) => r.perSecond))}/s`,
      fixed(scale.pairs.medianTwoOverOne),
      '',
    ]);
    const sized = (n: number) => {
      const r = scale.sizes.find((x) => x.events === n)!;
      return `${r.perSecond}/s, ${r.rssEndMiB[0]} MiB${r.incomplete ? ' (deadline)' : ''}`;
    };
    for (const g of scale.growth) {
      rows.push([
        `scale ${g.events} vs ${g.baseEvents} events, 1 worker, single runs: syncs/s, RSS`,
        sized(g.events),
        sized(g.baseEvents),
        `${fixed(g.throughputRatio)}, RSS ×${fixed(g.rssRatio)}`,
        'RSS ≤ 1.1',
      ]);
    }
  }
  if (sizes) rows.push(...sizesRows(sizes));
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const lines = rows.map((r) =>
    r
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join('  ')
      .trimEnd(),
  );
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  const m = report.machine;
  const head =
    `clerk-sync bench (${report.settings.mode}) on ${m.hostname}: ${m.cpus} × ${m.cpuModel}, ` +
    `load ${m.loadAverageAtStart[0]?.toFixed(1)} → ${m.loadAverageAtEnd?.[0]?.toFixed(1)}; ` +
    `medians of ${report.settings.pairs} alternated pairs (e2e ${report.settings.e2e.pairs}), ratio = median of per-pair ratios [their range]`;
  const errors = report.errors.map((e) => `section ${e.section} failed: ${e.error.split('\n')[0]}`);
  return [head, '', ...lines, ...errors].join('\n');
}
