import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { zero } from '../../bench/actions';
import { MAIN, PRODUCTION_LAYOUT, defaultTable, findTables, replaceTable } from '../../bench/readme-blocks';
import { readmeTable } from '../../bench/readme-table';
import type { Report } from '../../bench/report';
import { parseArgs } from '../../bench/settings';

// The README's performance tables, rendered from a report (bench/readme-table.ts) into their blocks
// (bench/readme-blocks.ts): what a reader checks in them.

const ROOT = join(__dirname, '..', '..');
const FILE = 'bench/results/published/2026-12-01T10-00-00-000Z-default.json';

const round = (perSecond: number, p50: number, p99: number, cpuCores?: Record<string, number>) => ({
  events: 200,
  completed: 200,
  failedDeliveries: 0,
  perSecond,
  latency: { p50, p99 },
  ...(cpuCores && { cpuCores }),
});
const scaleRound = (events: number, perSecond: number, workers: number, rssMiB: number) => ({
  ...round(perSecond, 1000, 2000),
  events,
  workers,
  rssEndMiB: [rssMiB],
  rssMaxMiB: [rssMiB],
});
const variant = (maxRate: number, p50: number, p99: number) => ({ maxRate, p50, p99, perRep: [maxRate] });
const actions = (total: number) => ({ ...zero(), workflowStarts: 1, activityTasks: total - 1, total });

/** A default run of every section: ingest misses its target, everything else meets its own. */
function fullReport(): Report {
  return {
    startedAt: '2026-12-01T10:00:00.000Z',
    finishedAt: '2026-12-01T10:25:00.000Z',
    durationS: 1500,
    machine: {
      hostname: 'vm',
      cpus: 2,
      cpuModel: 'AMD EPYC',
      memoryGiB: 24,
      loadAverageAtStart: [2.5, 2, 2],
      loadAverageAtEnd: [3.3, 3, 3],
      node: 'v24.19.0',
    },
    git: { commit: '0123456789abcdef0123456789abcdef01234567', uncommittedFiles: 0 },
    argv: [],
    settings: parseArgs([]),
    bundles: { productMs: 3000, ceilingMs: 1000 },
    ingest: {
      workers: 'none',
      summary: {
        ingest: variant(97.1, 26.8, 90.6),
        'start-ceiling': variant(126, 20.1, 68.4),
        'verify-only': variant(1040, 7.16, 45.3),
      },
      ratios: { ingestOverStart: [0.5, 0.77, 0.97], ingestOverVerify: [0.09, 0.1, 0.11] },
      median: { ingestOverStart: 0.77, ingestOverVerify: 0.1 },
      ramps: {} as never,
    },
    e2e: {
      events: 200,
      concurrency: 16,
      profiles: [
        {
          server: 'durable',
          profile: 'zero',
          product: [round(9.7, 9230, 14600, { temporal: 0.8, worker: 0.3 })],
          ceiling: [round(8.48, 10800, 17700)],
          median: { product: round(9.7, 9230, 14600), ceiling: round(8.48, 10800, 17700) },
          ratios: { throughput: [0.66, 0.951, 1.23], p50: [1], p99: [1] },
          medianRatio: { throughput: 0.951, p50: 1.05, p99: 0.961 },
        },
      ],
    },
    notices: {
      signUps: 200,
      rounds: [
        {
          signUps: 200,
          redelivered: 15,
          noticed: 200,
          duplicates: 0,
          delay: { p50: 2300, p99: 4100, max: 4500 },
          messages: 20,
          maxMessagesPer10s: 9,
          notifier: { signals: 40, actions: 30 },
        },
      ],
      median: { p50: 2300, p99: 4100 },
      maxMessagesPer10s: 9,
      target: { p99Ms: 5_000, messagesPer10s: 12 },
    },
    inline: {
      profile: { salesforce: 150, clerk: 50, resend: 100 },
      note: '',
      mix: { 'user.created': 40, 'user.updated': 40 },
      summary: { inline: variant(223, 800, 1750), product: variant(92.8, 40, 120) },
      ratios: { inlineOverProduct: [2.2], p99InlineOverProduct: [4] },
      median: { inlineOverProduct: 2.2, p99InlineOverProduct: 4 },
      ramps: {} as never,
      faults: {
        storm: {
          events: 80,
          attempts: 90,
          retries: 10,
          answered503: 0,
          otherErrors: 10,
          noAnswer: 0,
          lost: 0,
          users: 40,
          duplicateEmails: 3,
          missingEmails: 0,
          wrongRecords: 0,
          processStarts: 1,
        } as never, // a fault run of any bench version: the renderer shows whatever counts it holds
      },
    },
    cost: {
      perType: {
        'user.created': { events: 20, failed: 0, salesforce: 1, clerk: 1, resend: 1, actions: actions(3.9) },
      },
      minimum: 1,
      mix: { types: ['user.created'], salesforcePerEvent: 1, target: 1, actionsPerEvent: 3.57 },
      notifier: { notices: 100, actions: actions(26), actionsPerNotice: 0.26 },
    },
    scale: {
      events: 'user.updated',
      startupMs: [2900],
      idleRssMiB: [198],
      pairs: {
        events: 300,
        one: [scaleRound(300, 24.5, 1, 339)],
        two: [scaleRound(300, 24.7, 2, 340)],
        twoOverOne: [1.01],
        medianTwoOverOne: 1.01,
      },
      sizes: [scaleRound(1000, 24.1, 1, 339), scaleRound(10000, 19.2, 1, 333)],
      growth: [{ events: 10000, baseEvents: 1000, throughputRatio: 0.8, rssRatio: 0.98, rssTarget: 1.1 }],
    },
    sizes: {
      temporal: 'durable',
      latency: { salesforce: 150, clerk: 50, resend: 100 },
      organizationDeleted: { error: 'wrong result: 3 Contacts left on the deleted Account' },
      userInOrganizations: {
        figures: {
          seconds: 3.3,
          salesforceCalls: 7,
          organizations: 500,
          memberships: 500,
          welcomeEmails: 1,
          result: null,
        } as never,
      },
      backfill: {
        figures: {
          seconds: 17,
          salesforceCalls: 56,
          users: 5000,
          records: 5010,
          recordsPerSecond: 295,
          callsPerRecord: 0.011,
          workerRss: { beforeMiB: 280, endMiB: 282, maxMiB: 294 },
        } as never,
      },
    },
    errors: [
      { section: 'sizes', error: 'organization deleted: wrong result: 3 Contacts left\n    at stack' },
    ],
  };
}

/** `npm run bench -- --only=e2e --engine=cluster`: the production layout's rows, as a real run wrote them. */
function clusterReport(): Report {
  const argv = ['--only=e2e', '--engine=cluster', '--pairs=3'];
  const cluster = (workers: number, product: number, ceiling: number, ratios: number[]) => ({
    server: 'cluster' as const,
    profile: 'zero' as const,
    workers,
    product: [round(product, 17400, 35600, { temporal: 0.41, worker: 0.2 })],
    ceiling: [round(ceiling, 19500, 37700)],
    median: { product: round(product, 17400, 35600), ceiling: round(ceiling, 19500, 37700) },
    ratios: { throughput: ratios, p50: [0.9], p99: [1.04] },
    medianRatio: { throughput: ratios[1]!, p50: 0.9, p99: 1.04 },
  });
  const report: Report = {
    ...fullReport(),
    durationS: 672,
    argv,
    settings: parseArgs(argv),
    errors: [],
    e2e: {
      events: 200,
      concurrency: 16,
      profiles: [cluster(1, 4.15, 4.19, [0.79, 0.92, 1.28]), cluster(2, 4.02, 4.11, [0.98, 1.07, 1.31])],
      cluster: {
        versions: { temporal: 'v1.32.2', postgres: 'postgres (PostgreSQL) 17.12' },
        twoOverOne: { product: [0.901, 1.38, 1.04], ceiling: [0.663, 1.35, 0.981] },
        medianTwoOverOne: { product: 1.04, ceiling: 0.981 },
      },
    },
  };
  for (const section of ['ingest', 'notices', 'inline', 'cost', 'scale', 'sizes'] as const)
    delete report[section];
  return report;
}

/** What Prettier makes of a table, as `npm run lint` would lay it out in the README. */
function prettierLayout(text: string): string {
  const prettier = join(ROOT, 'node_modules', 'prettier', 'bin', 'prettier.cjs');
  return execFileSync(process.execPath, [prettier, '--stdin-filepath', 'table.md'], {
    cwd: ROOT,
    input: `${text}\n`,
    encoding: 'utf8',
  });
}

/** The table row whose first cell starts with `measure`. */
const row = (text: string, measure: string) =>
  text.split('\n').find((l) => l.startsWith(`| ${measure}`)) ?? '';

describe("the README's performance table", () => {
  const text = readmeTable(fullReport(), FILE);

  it('names the file, the command, the machine, the commit and whether the tree was clean, and the date', () => {
    expect(text).toContain(
      `From [\`${FILE}\`](${FILE}): \`npm run bench\` (default sizes), 2026-12-01, 25.0 minutes;`,
    );
    expect(text).toContain('commit `0123456`, clean tree; 2 × AMD EPYC, 24 GiB, Node v24.19.0');
    expect(text).toContain('Every section ran.');
    const dirty = { ...fullReport(), git: { commit: 'abcdef0123', uncommittedFiles: 58 } };
    expect(readmeTable(dirty, FILE)).toContain('commit `abcdef0`, **58 uncommitted files** in the tree');
  });

  it('shows a missed target as missed, and a met one as met', () => {
    expect(row(text, 'ingest')).toContain('0.77 [0.50–0.97] — target ≥ 0.8, **missed**');
    expect(row(text, 'e2e: 200 sign-ups, durable server, zero latency')).toContain(
      '0.95 [0.66–1.23], p99 ×0.96 — target ≥ 0.8, met',
    );
    expect(row(text, 'notices')).toContain(
      'p99: target ≤ 5000 ms, met; pace: target ≤ 12, met; each notice once: met',
    );
    expect(row(text, 'Salesforce calls per event')).toContain('1.00 — target ≤ 1, met');
    expect(row(text, 'scale: 10,000 vs 1,000 events')).toContain('RSS ×0.98 — target ≤ 1.1, met');
  });

  it('shows the figures behind each ratio, and where the cores went', () => {
    expect(row(text, 'ingest')).toContain('endpoint 97.1/s (26.8/90.6 ms)');
    expect(row(text, 'ingest')).toContain('start loop 126/s (20.1/68.4 ms)');
    expect(row(text, 'e2e')).toContain('9.7/s (9230/14600 ms); cores: temporal 0.80, worker 0.30');
    expect(row(text, 'notices')).toContain(
      '200 of 200 noticed, 0 twice; 15 redelivered after a 503; notifier: 40 signals, 30 actions',
    );
  });

  it('says a notice posted twice or never is a miss, even when the delays meet theirs', () => {
    const report = fullReport();
    report.notices!.rounds[0]!.duplicates = 2;
    expect(row(readmeTable(report, FILE), 'notices')).toContain('each notice once: **missed**');
  });

  it('shows a part with a wrong result as an error, and lists the failed sections below the table', () => {
    expect(row(text, 'sizes: organization.deleted')).toContain(
      '**error**: wrong result: 3 Contacts left on the deleted Account',
    );
    expect(text).toMatch(
      /\n- \*\*section sizes failed\*\*: `organization deleted: wrong result: 3 Contacts left`$/,
    );
  });

  it('says which sections a partial run holds', () => {
    const report = fullReport();
    report.argv = ['--only=e2e,cost', '--pairs=3'];
    report.settings = parseArgs(report.argv);
    delete report.ingest;
    delete report.notices;
    delete report.inline;
    delete report.scale;
    delete report.sizes;
    const partial = readmeTable(report, FILE);
    expect(partial).toContain('`npm run bench -- --only=e2e,cost --pairs=3` (default sizes)');
    expect(partial).toContain('Medians of 3 alternated pairs (e2e 3)');
    delete report.argv; // a report from before the options were recorded
    expect(readmeTable(report, FILE)).toContain(
      '`npm run bench -- --only=e2e,cost` (default sizes; other options not recorded)',
    );
    expect(partial).toContain(
      'This file holds e2e, cost only; not run: ingest, notices, inline, scale, sizes.',
    );
    expect(row(partial, 'ingest')).toBe('');
  });

  it('renders what a newer bench adds: another server, other fault counts, a section it does not know', () => {
    const report = fullReport() as Report & { soak?: unknown };
    const durable = report.e2e!.profiles[0]!;
    report.e2e!.profiles.push(Object.assign({ ...durable, server: 'a new layout' as never }, { workers: 2 }));
    Object.assign(report.e2e!, {
      cluster: {
        versions: { temporal: '1.32.2', postgres: '17' },
        twoOverOne: { product: [1.2, 1.4], ceiling: [1.1, 1.3] },
        medianTwoOverOne: { product: 1.3, ceiling: 1.2 },
      },
    });
    Object.assign(report.inline!.faults.storm!, {
      extraSlackNotices: 4,
      maxSlackMessagesPer10s: 85,
      inFlightAtKills: [3, 5],
      faultedBy: { salesforce: 10, clerk: 4 },
      wrong: ['user_1: LastName'],
      wrongNotices: [],
    });
    report.soak = { hours: 1 };
    const newer = readmeTable(report, FILE);
    expect(row(newer, 'e2e: 200 sign-ups, a new layout server, 2 workers, zero latency')).toContain('0.95');
    expect(row(newer, 'e2e, production layout: 2 worker processes over 1')).toContain(
      'product 1.30 [1.20–1.40]; minimal shape 1.20 [1.10–1.30]',
    );
    expect(row(newer, 'inline handler under storm')).toContain(
      'lost 0, duplicate emails 3, missing emails 0, wrong records 0',
    );
    expect(row(newer, 'inline handler under storm')).toContain('extra slack notices 4');
    expect(row(newer, 'inline handler under storm')).toContain('max slack messages per 10s 85');
    expect(row(newer, 'inline handler under storm')).not.toContain('wrong notices'); // an empty list: nothing to show
    expect(row(newer, 'inline handler under storm')).toContain(
      'in flight at kills 3/5, faulted by (salesforce 10, clerk 4)',
    );
    expect(row(newer, 'inline handler under storm')).not.toMatch(/attempts|user_1/);
    expect(newer).toContain('Also in the file, not rendered here: soak.');
  });

  it('is laid out as Prettier lays it out, so `npm run lint` leaves the README as the test expects it', () => {
    expect(prettierLayout(text)).toBe(`${text}\n`);
  });
});

describe("the production layout's table (issue 18)", () => {
  const text = readmeTable(clusterReport(), FILE);

  it('says what ran, on which machine, and that the file holds the production layout only', () => {
    expect(text).toContain(
      '`npm run bench -- --only=e2e --engine=cluster --pairs=3` (default sizes), 2026-12-01, 11.2 minutes;',
    );
    expect(text).toContain('commit `0123456`, clean tree; 2 × AMD EPYC, 24 GiB, Node v24.19.0');
    expect(text).toContain('Medians of 3 alternated pairs; a ratio is the median of the per-pair ratios');
    expect(text).toContain(
      'This file holds e2e on the production layout only; not run: ingest, notices, inline, cost, scale, sizes.',
    );
    const both = { ...fullReport(), settings: parseArgs(['--engine=dev,cluster']) };
    expect(readmeTable(both, FILE)).toContain(
      'Every section ran; e2e on the dev server and the production layout.',
    );
  });

  it('names the server and PostgreSQL versions and the worker processes of each row, with no target', () => {
    const layout = 'e2e: 200 sign-ups, production layout (Temporal 1.32.2 on PostgreSQL 17.12)';
    const one = row(text, `${layout}, 1 worker, zero latency: syncs/s (p50/p99 to the write)`);
    expect(one).toContain('4.15/s (17400/35600 ms); cores: temporal 0.41, worker 0.20');
    expect(one).toContain('minimal shape 4.19/s (19500/37700 ms)');
    expect(one).toMatch(/\| 0\.92 \[0\.79–1\.28\], p99 ×1\.04 +\|$/);
    expect(row(text, `${layout}, 2 workers, zero latency`)).toContain('1.07 [0.98–1.31], p99 ×1.04');
    expect(text).toMatch(/\| ratio \[range of pairs\] +\|\n/);
    expect(text).not.toMatch(/target|cluster server/);
  });

  it('gives what the second worker process brings, to the product and to the minimal shape', () => {
    const two = row(text, 'e2e, production layout: 2 worker processes over 1, syncs/s');
    expect(two).toContain('| 2 workers 4.02/s, 1 worker 4.15/s ');
    expect(two).toContain('| minimal shape: 2 workers 4.11/s, 1 worker 4.19/s ');
    expect(two).toContain('| product 1.04 [0.90–1.38]; minimal shape 0.98 [0.66–1.35] |');
  });

  it('is laid out as Prettier lays it out', () => {
    expect(prettierLayout(text)).toBe(`${text}\n`);
  });
});

describe('the table blocks of the README', () => {
  const block = (name: string | undefined, file: string, text: string) =>
    [
      `<!-- bench:table ${name ? `${name} ` : ''}from ${file} -->`,
      '',
      text,
      '',
      '<!-- /bench:table -->',
    ].join('\n');
  const readme = [
    '# x',
    '',
    block(undefined, 'old.json', 'old'), // the form from before the blocks had names
    'between',
    '',
    block(PRODUCTION_LAYOUT, 'cluster.json', 'cluster\ntable'),
    'after',
    '',
  ].join('\n');

  it('are found in order, each with its name, its file and its text; the unnamed one is main', () => {
    expect(findTables(readme).map(({ name, file, text }) => ({ name, file, text }))).toEqual([
      { name: MAIN, file: 'old.json', text: 'old' },
      { name: PRODUCTION_LAYOUT, file: 'cluster.json', text: 'cluster\ntable' },
    ]);
    expect(findTables('# no table\n')).toEqual([]);
  });

  it('are replaced one at a time, by name, the others left as they were', () => {
    const next = replaceTable(readme, MAIN, 'new.json', 'new\ntable');
    expect(next).toBe(
      readme.replace(block(undefined, 'old.json', 'old'), block(MAIN, 'new.json', 'new\ntable')),
    );
    const cluster = replaceTable(next, PRODUCTION_LAYOUT, 'cluster2.json', 'x');
    expect(findTables(cluster).map((b) => [b.name, b.file, b.text])).toEqual([
      [MAIN, 'new.json', 'new\ntable'],
      [PRODUCTION_LAYOUT, 'cluster2.json', 'x'],
    ]);
    expect(cluster.endsWith('<!-- /bench:table -->\nafter\n')).toBe(true);
  });

  it('fill an empty block, put there for a first write, which cites no file until then', () => {
    const empty = '# x\n\n<!-- bench:table production-layout -->\n<!-- /bench:table -->\n';
    expect(findTables(empty)).toMatchObject([{ name: PRODUCTION_LAYOUT, file: undefined, text: '' }]);
    expect(replaceTable(empty, PRODUCTION_LAYOUT, 'c.json', 't')).toBe(
      `# x\n\n${block(PRODUCTION_LAYOUT, 'c.json', 't')}\n`,
    );
  });

  it('are not added by a write: a missing one is an error that says which two lines to put where', () => {
    expect(() =>
      replaceTable('# only main\n' + block(MAIN, 'a.json', 'a'), PRODUCTION_LAYOUT, 'c.json', 't'),
    ).toThrow(
      'README.md has no bench table named production-layout (it has main). Put these two lines where it belongs ' +
        "(for production-layout: after the main table's <!-- /bench:table -->), then run this again:\n" +
        '<!-- bench:table production-layout -->\n<!-- /bench:table -->',
    );
    expect(() => replaceTable('# no table\n', MAIN, 'new.json', 'text')).toThrow(
      /no bench table named main \(it has none\)/,
    );
  });

  it('must be closed, and named once each', () => {
    const open = '<!-- bench:table main from a.json -->\n\na\n\n';
    expect(() => findTables(open)).toThrow(/main from a\.json --> without <!-- \/bench:table -->/);
    expect(() => findTables(open + block(PRODUCTION_LAYOUT, 'c.json', 'c'))).toThrow(/without/);
    expect(() => findTables(block(MAIN, 'a.json', 'a') + '\n' + block(undefined, 'b.json', 'b'))).toThrow(
      'README.md has two bench tables named main',
    );
  });
});

describe('the block a report goes into without --table', () => {
  const withArgs = (argv: string[]) => defaultTable({ settings: parseArgs(argv) });

  it('is production-layout for the e2e section alone on the production layout alone', () => {
    expect(withArgs(['--only=e2e', '--engine=cluster'])).toBe(PRODUCTION_LAYOUT);
    expect(defaultTable(clusterReport())).toBe(PRODUCTION_LAYOUT);
  });

  it('is main for any other run, and for a report from before --engine', () => {
    expect(withArgs([])).toBe(MAIN);
    expect(withArgs(['--only=e2e'])).toBe(MAIN);
    expect(withArgs(['--only=e2e', '--engine=dev,cluster'])).toBe(MAIN);
    expect(withArgs(['--only=e2e,cost', '--engine=cluster'])).toBe(MAIN);
    expect(withArgs(['--engine=cluster'])).toBe(MAIN);
    const older = parseArgs(['--only=e2e']) as Partial<ReturnType<typeof parseArgs>>;
    delete older.engines;
    expect(defaultTable({ settings: older as ReturnType<typeof parseArgs> })).toBe(MAIN);
  });
});
