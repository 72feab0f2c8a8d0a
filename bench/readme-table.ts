import type { E2eReport, ProfileReport, SyncRound } from './e2e';
import type { NoticesReport } from './notices';
import type { Report } from './report';
import { SECTIONS } from './settings';
import type { SizesPart } from './sizes';
import { median } from './stats';

// A performance table of the README (issue 17; issue 18 adds the production layout's), a pure function of one
// committed report file: `npm run bench:report` prints it or writes it into its block of README.md
// (bench/readme-blocks.ts), and test/unit/readme-bench-table.test.ts checks that every block still holds exactly
// what its cited file renders. A report from an older or newer bench may lack fields or hold more:
// what is missing renders as "-", sections and fault runs this file does not know still show up.

type Row = [measure: string, product: string, baseline: string, result: string];

const num = (n: number | null | undefined) => (typeof n === 'number' && Number.isFinite(n) ? String(n) : '-');
const fixed = (n: number | null | undefined) =>
  typeof n === 'number' && Number.isFinite(n) ? n.toFixed(2) : '-';
const count = (n: number | null | undefined) =>
  typeof n === 'number' && Number.isFinite(n) ? n.toLocaleString('en-US') : '-';
const ms = (l: { p50?: number; p99?: number } | undefined) => `${num(l?.p50)}/${num(l?.p99)} ms`;

/** ` [0.72–0.91]`: the range of the per-pair ratios behind a median. */
function range(ratios: readonly number[] | undefined): string {
  const xs = (ratios ?? []).filter(Number.isFinite);
  return xs.length < 2 ? '' : ` [${fixed(Math.min(...xs))}–${fixed(Math.max(...xs))}]`;
}

/** "target ≥ 0.8, met" or "target ≥ 0.8, **missed**": a miss is written as one. */
function verdict(value: number | null | undefined, op: '≥' | '≤', limit: number, unit = ''): string {
  const target = `target ${op} ${limit}${unit}`;
  if (typeof value !== 'number' || !Number.isFinite(value)) return `${target}, not measured`;
  const met = op === '≥' ? value >= limit : value <= limit;
  return `${target}, ${met ? 'met' : '**missed**'}`;
}

/** What went short in a round: deadlines hit and deliveries never accepted. */
function shortfalls(rounds: readonly SyncRound[] | undefined): string {
  const rs = rounds ?? [];
  const late = rs.filter((r) => r.incomplete).length;
  const failed = rs.reduce((n, r) => n + (r.failedDeliveries ?? 0), 0);
  return [
    late > 0 ? `${late} round(s) hit the deadline` : '',
    failed > 0 ? `${failed} deliveries failed` : '',
  ]
    .filter(Boolean)
    .join(', ');
}

/** The median cores each process used over the product's rounds (the Temporal server's share matters most). */
function cores(rounds: readonly SyncRound[] | undefined): string {
  const names = [...new Set((rounds ?? []).flatMap((r) => Object.keys(r.cpuCores ?? {})))];
  const each = names.map((n) => `${n} ${fixed(median((rounds ?? []).map((r) => r.cpuCores?.[n] ?? NaN)))}`);
  return each.length > 0 ? `; cores: ${each.join(', ')}` : '';
}

/** What a newer e2e section may add (the production layout's rows); read defensively, as older files lack it. */
interface E2eExtras {
  cluster?: {
    versions?: { temporal?: string; postgres?: string };
    twoOverOne?: { product?: number[]; ceiling?: number[] };
    medianTwoOverOne?: { product?: number; ceiling?: number };
  };
}

/** `Temporal 1.32.2 on PostgreSQL 17.12`, from what the servers print (`v1.32.2`, `postgres (PostgreSQL) 17.12`). */
function layout(e2e: E2eReport): string {
  const v = (e2e as E2eExtras).cluster?.versions;
  const version = (s: string | undefined) => /\d+(?:\.\d+)*/.exec(s ?? '')?.[0] ?? '-';
  return `production layout (Temporal ${version(v?.temporal)} on PostgreSQL ${version(v?.postgres)})`;
}

function e2eRow(e2e: E2eReport, p: ProfileReport): Row {
  const latency =
    p.profile === 'zero' || p.profile === undefined
      ? 'zero latency'
      : `SF ${p.profile.salesforce}/Clerk ${p.profile.clerk}/Resend ${p.profile.resend} ms`;
  const sync = (r: SyncRound | undefined) => `${num(r?.perSecond)}/s (${ms(r?.latency)})`;
  const short = [shortfalls(p.product), shortfalls(p.ceiling)].filter(Boolean).join('; ');
  const ratio = `${fixed(p.medianRatio?.throughput)}${range(p.ratios?.throughput)}, p99 ×${fixed(p.medianRatio?.p99)}`;
  // The target is the dev server's, as `npm start` runs it; the production layout's rows are figures to compare.
  const target =
    p.server === 'durable' && p.profile === 'zero'
      ? ` — ${verdict(p.medianRatio?.throughput, '≥', 0.8)}`
      : '';
  const server = p.server === 'cluster' ? layout(e2e) : `${p.server ?? 'memory'} server`;
  const workers = typeof p.workers === 'number' ? `, ${p.workers} worker${p.workers === 1 ? '' : 's'}` : '';
  return [
    `e2e: ${count(e2e.events)} sign-ups, ${server}${workers}, ${latency}: syncs/s (p50/p99 to the write)`,
    `${sync(p.median?.product)}${cores(p.product)}${short ? ` (${short})` : ''}`,
    `minimal shape ${sync(p.median?.ceiling)}`,
    `${ratio}${target}`,
  ];
}

/** The production layout's second worker process: both variants' syncs/s with 2 and 1, and the per-pair ratios. */
function workersRow(e2e: E2eReport, cluster: NonNullable<E2eExtras['cluster']>): Row {
  const perSecond = (workers: number, v: 'product' | 'ceiling') =>
    num(e2e.profiles?.find((p) => p.server === 'cluster' && p.workers === workers)?.median?.[v]?.perSecond);
  const both = (v: 'product' | 'ceiling') => `2 workers ${perSecond(2, v)}/s, 1 worker ${perSecond(1, v)}/s`;
  const { medianTwoOverOne: m, twoOverOne: r } = cluster;
  return [
    'e2e, production layout: 2 worker processes over 1, syncs/s',
    both('product'),
    `minimal shape: ${both('ceiling')}`,
    `product ${fixed(m?.product)}${range(r?.product)}; minimal shape ${fixed(m?.ceiling)}${range(r?.ceiling)}`,
  ];
}

function noticesRow(n: NoticesReport): Row {
  const rounds = n.rounds ?? [];
  const sum = (f: (r: (typeof rounds)[number]) => number | undefined) =>
    rounds.reduce((s, r) => s + (f(r) ?? 0), 0);
  const sent = sum((r) => r.signUps);
  const noticed = sum((r) => r.noticed);
  const twice = sum((r) => r.duplicates);
  const p99 = n.target?.p99Ms ?? 5_000;
  const pace = n.target?.messagesPer10s ?? 12;
  return [
    `notices: ${count(n.signUps)} sign-ups at once, ${rounds.length} burst(s), Contact written → its line in Slack`,
    `p50/p99 ${ms(n.median)}; at most ${num(n.maxMessagesPer10s)} messages in 10 s`,
    `${count(noticed)} of ${count(sent)} noticed, ${count(twice)} twice; ${count(sum((r) => r.redelivered))} redelivered after a 503; ` +
      `notifier: ${count(sum((r) => r.notifier?.signals))} signals, ${count(sum((r) => r.notifier?.actions))} actions`,
    `p99: ${verdict(n.median?.p99, '≤', p99, ' ms')}; pace: ${verdict(n.maxMessagesPer10s, '≤', pace)}; ` +
      `each notice once: ${noticed === sent && twice === 0 ? 'met' : '**missed**'}`,
  ];
}

/** `duplicateEmails` → `duplicate emails`. */
const words = (key: string) => key.replace(/[A-Z]|(?<=[a-z])\d+/g, (c) => ` ${c.toLowerCase()}`);

/** A redeliverer's own counts (test/helpers/redeliverer.ts): how the deliveries went, not what they left wrong. */
const DELIVERY_COUNTS = new Set([
  'events',
  'users',
  'attempts',
  'retries',
  'answered503',
  'otherErrors',
  'noAnswer',
]);

/** A count as a cell shows it: `3`, `3/5/2` for a list, `salesforce 10, clerk 4` for counts by name; else none. */
function counted(value: unknown): string | undefined {
  if (typeof value === 'number') return count(value);
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'number'))
    return value.map(count).join('/');
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value).filter(([, v]) => typeof v === 'number');
    if (entries.length > 0)
      return `(${entries.map(([k, v]) => `${words(k)} ${count(v as number)}`).join(', ')})`;
  }
  return undefined; // text (the first differences found) is in the file, too long for a cell
}

/** A fault run's outcome counts, the ones a reader looks for first, then any other a newer bench adds. */
function faultCounts(run: Record<string, unknown>): string {
  const first = ['lost', 'duplicateEmails', 'missingEmails', 'wrongRecords'];
  const keys = [...first.filter((k) => k in run), ...Object.keys(run).filter((k) => !first.includes(k))];
  return keys
    .filter((k) => !DELIVERY_COUNTS.has(k))
    .flatMap((k) => {
      const shown = counted(run[k]);
      return shown === undefined ? [] : [`${words(k)} ${shown}`];
    })
    .join(', ');
}

function sizesRow<T>(name: string, part: SizesPart<T> | undefined, figures: (f: T) => Row): Row {
  if (part?.figures) return figures(part.figures);
  return [name, '-', '-', `**error**: ${(part?.error ?? 'no figures').split('\n')[0]!.slice(0, 80)}`];
}

/** The table's rows, section by section in the order the bench runs them. */
export function rows(report: Report): Row[] {
  const out: Row[] = [];
  const { ingest, e2e, notices, inline, cost, scale, sizes } = report;
  const rate = (s: { maxRate?: number; p50?: number; p99?: number } | undefined) =>
    `${num(s?.maxRate)}/s (${ms(s)})`;
  if (ingest) {
    out.push(
      [
        'ingest: highest sustained req/s (p50/p99)',
        `endpoint ${rate(ingest.summary?.ingest)}`,
        `start loop ${rate(ingest.summary?.['start-ceiling'])}`,
        `${fixed(ingest.median?.ingestOverStart)}${range(ingest.ratios?.ingestOverStart)} — ${verdict(ingest.median?.ingestOverStart, '≥', 0.8)}`,
      ],
      [
        '',
        '',
        `verify-only ${rate(ingest.summary?.['verify-only'])}`,
        `${fixed(ingest.median?.ingestOverVerify)}${range(ingest.ratios?.ingestOverVerify)}`,
      ],
    );
  }
  for (const p of e2e?.profiles ?? []) out.push(e2eRow(e2e!, p));
  const cluster = (e2e as E2eExtras | undefined)?.cluster;
  if (cluster) out.push(workersRow(e2e!, cluster));
  if (notices) out.push(noticesRow(notices));
  if (inline) {
    out.push([
      'inline handler vs endpoint + workers: highest sustained req/s (p50/p99)',
      `endpoint + workers ${rate(inline.summary?.product)}`,
      `inline ${rate(inline.summary?.inline)}`,
      `${fixed(inline.median?.inlineOverProduct)}${range(inline.ratios?.inlineOverProduct)} inline/endpoint, p99 ×${fixed(inline.median?.p99InlineOverProduct)}`,
    ]);
    for (const [name, run] of Object.entries(inline.faults ?? {})) {
      const counts = run as unknown as Record<string, unknown>;
      out.push([
        `inline handler under ${name}: ${count(counts.events as number)} events`,
        'product: `npm run test:faults`',
        faultCounts(counts),
        '',
      ]);
    }
  }
  if (cost) {
    out.push([
      'Salesforce calls per event, sign-up/join/leave mix',
      num(cost.mix?.salesforcePerEvent),
      `minimum ${num(cost.minimum)}`,
      `${fixed(cost.mix?.salesforcePerEvent)} — ${verdict(cost.mix?.salesforcePerEvent, '≤', cost.mix?.target ?? 1)}`,
    ]);
    if (cost.mix?.actionsPerEvent !== undefined)
      out.push([
        'Temporal actions per event, same mix',
        num(cost.mix.actionsPerEvent),
        `notifier ${num(cost.notifier?.actionsPerNotice)} per notice`,
        '',
      ]);
  }
  if (scale) {
    const mid = (rounds: { perSecond: number }[] | undefined) =>
      num(median((rounds ?? []).map((r) => r.perSecond)));
    out.push([
      `scale: ${count(scale.pairs?.events)} events: syncs/s`,
      `2 workers ${mid(scale.pairs?.two)}/s`,
      `1 worker ${mid(scale.pairs?.one)}/s`,
      `${fixed(scale.pairs?.medianTwoOverOne)}${range(scale.pairs?.twoOverOne)}`,
    ]);
    const sized = (n: number) => {
      const r = (scale.sizes ?? []).find((x) => x.events === n);
      return r
        ? `${num(r.perSecond)}/s, RSS ${num(r.rssEndMiB?.[0])} MiB${r.incomplete ? ' (deadline)' : ''}`
        : '-';
    };
    for (const g of scale.growth ?? []) {
      out.push([
        `scale: ${count(g.events)} vs ${count(g.baseEvents)} events, 1 worker: syncs/s, RSS at the end`,
        sized(g.events),
        sized(g.baseEvents),
        `${fixed(g.throughputRatio)}, RSS ×${fixed(g.rssRatio)} — ${verdict(g.rssRatio, '≤', g.rssTarget ?? 1.1)}`,
      ]);
    }
  }
  if (sizes) {
    const orgName = 'sizes: organization.deleted';
    out.push(
      sizesRow(orgName, sizes.organizationDeleted, (f) => [
        `${orgName}, ${count(f.members)} members`,
        `${num(f.seconds)} s, ${count(f.salesforceCalls)} SF calls`,
        `${count(f.records)} records`,
        `${fixed(f.callsPer150Records)} calls per 150 records — ${verdict(f.callsPer150Records, '≤', 1)}`,
      ]),
      sizesRow('sizes: user.created', sizes.userInOrganizations, (f) => [
        `sizes: user.created, user in ${count(f.organizations)} organizations`,
        `${num(f.seconds)} s, ${count(f.salesforceCalls)} SF calls`,
        `${count(f.memberships)} memberships, ${count(f.welcomeEmails)} email(s)`,
        '',
      ]),
      sizesRow('sizes: backfill', sizes.backfill, (f) => [
        `sizes: backfill of ${count(f.users)} users: records/s`,
        `${num(f.recordsPerSecond)}/s (${num(f.seconds)} s), ${count(f.salesforceCalls)} SF calls`,
        `worker RSS ${num(f.workerRss?.beforeMiB)} → ${num(f.workerRss?.endMiB)} MiB (max ${num(f.workerRss?.maxMiB)})`,
        `${num(f.callsPerRecord)} calls per record`,
      ]),
    );
  }
  return out;
}

/** A markdown table laid out as Prettier lays it out (so `prettier --check` and the README test agree). */
export function markdownTable(header: readonly string[], body: readonly (readonly string[])[]): string {
  const all = [header, ...body].map((r) => r.map((c) => c.replaceAll('|', '\\|')));
  const widths = header.map((_, i) => Math.max(3, ...all.map((r) => [...r[i]!].length)));
  const line = (r: readonly string[]) =>
    `| ${r.map((c, i) => c + ' '.repeat(widths[i]! - [...c].length)).join(' | ')} |`;
  return [
    line(all[0]!),
    `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`,
    ...all.slice(1).map(line),
  ].join('\n');
}

/** Calls and Temporal actions per event type, as the cost section counted them. */
function perTypeTable(cost: NonNullable<Report['cost']>): string {
  const body = Object.entries(cost.perType ?? {}).map(([type, c]) => [
    type.replace(/^([\w.]+)/, '`$1`'),
    num(c.salesforce),
    num(c.clerk),
    num(c.resend),
    num(c.actions?.total),
    c.failed ? `**${c.failed}**` : '0',
  ]);
  const header = ['event', 'Salesforce calls', 'Clerk calls', 'Resend calls', 'Temporal actions', 'failed'];
  return markdownTable(header, body);
}

/** The report's own keys besides its sections: any other key is a section this renderer does not know yet. */
const KNOWN_KEYS = new Set<string>([
  ...SECTIONS,
  'startedAt',
  'finishedAt',
  'durationS',
  'machine',
  'git',
  'argv',
  'settings',
  'bundles',
  'errors',
]);

/** `the dev server and the production layout`: the engines e2e ran on, when not the dev server alone. */
function engines(s: Report['settings']): string | undefined {
  const names = { dev: 'the dev server', cluster: 'the production layout' } as const;
  const on = s.engines ?? ['dev']; // older reports ran the dev server only
  return on.length === 1 && on[0] === 'dev' ? undefined : on.map((e) => names[e] ?? e).join(' and ');
}

/** What the run was: command, machine, commit and tree, date, which sections the file holds. */
function heading(report: Report, file: string): string[] {
  const { machine: m, git, settings: s } = report;
  const e2eOn = engines(s);
  const present = SECTIONS.filter((x) => report[x] !== undefined).map((x) =>
    x === 'e2e' && e2eOn ? `e2e on ${e2eOn}` : x,
  );
  const failed = SECTIONS.filter((x) => report[x] === undefined && s.sections.includes(x));
  const skipped = SECTIONS.filter((x) => !s.sections.includes(x));
  // Older reports did not record their options: the mode and the sections say the ones that matter most.
  const flags = report.argv ?? [
    ...(s.mode === 'default' ? [] : [`--${s.mode}`]),
    ...(skipped.length > 0 ? [`--only=${s.sections.join(',')}`] : []),
    ...(e2eOn ? [`--engine=${s.engines.join(',')}`] : []),
  ];
  const command = `npm run bench${flags.length > 0 ? ` -- ${flags.join(' ')}` : ''}`;
  const tree =
    git.uncommittedFiles < 0
      ? 'tree state unknown'
      : git.uncommittedFiles === 0
        ? 'clean tree'
        : `**${git.uncommittedFiles} uncommitted files** in the tree`;
  const minutes = report.durationS === undefined ? '' : `, ${(report.durationS / 60).toFixed(1)} minutes`;
  const load = `load average ${fixed(m.loadAverageAtStart?.[0])} → ${fixed(m.loadAverageAtEnd?.[0])}`;
  const unknown = Object.keys(report).filter((k) => !KNOWN_KEYS.has(k));
  const e2ePairs = s.e2e?.pairs ?? s.pairs;
  const pairs = s.sections.every((x) => x === 'e2e')
    ? `${e2ePairs} alternated pairs`
    : `${s.pairs} alternated pairs (e2e ${e2ePairs})`;
  const sections =
    failed.length + skipped.length === 0
      ? `Every section ran${e2eOn ? `; e2e on ${e2eOn}` : ''}.`
      : `This file holds ${present.join(', ') || 'no section'} only` +
        (skipped.length > 0 ? `; not run: ${skipped.join(', ')}` : '') +
        (failed.length > 0 ? `; failed: ${failed.join(', ')} (below)` : '') +
        '.';
  return [
    `From [\`${file}\`](${file}): \`${command}\` (${s.mode} sizes${report.argv ? '' : '; other options not recorded'}), ${report.startedAt.slice(0, 10)}${minutes};`,
    `commit \`${git.commit.slice(0, 7)}\`, ${tree}; ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}, ${load}.`,
    `Medians of ${pairs}; a ratio is the median of the per-pair ratios [their range].`,
    sections,
    ...(unknown.length > 0 ? [`Also in the file, not rendered here: ${unknown.join(', ')}.`] : []),
  ];
}

/** The text between the README's markers for this report (`file`: its path from the repository root). */
export function readmeTable(report: Report, file: string): string {
  const body = rows(report);
  // A table of figures without targets (the production layout's) does not announce any.
  const targets = body.some((r) => r[3].includes('target ')) ? ' — target' : '';
  const parts = [
    heading(report, file).join('\n'),
    markdownTable(['measure', 'product', 'baseline', `ratio [range of pairs]${targets}`], body),
  ];
  if (report.cost?.perType) parts.push('Per event type (cost section):', perTypeTable(report.cost));
  const errors = (report.errors ?? []).map(
    (e) => `- **section ${e.section} failed**: \`${e.error.split('\n')[0]!.replaceAll('`', "'")}\``,
  );
  if (errors.length > 0) parts.push(errors.join('\n'));
  return parts.join('\n\n');
}
