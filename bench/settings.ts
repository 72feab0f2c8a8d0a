/** The benchmark's sections, in the order they run. */
export const SECTIONS = ['ingest', 'e2e', 'notices', 'inline', 'cost', 'scale', 'sizes'] as const;
export type Section = (typeof SECTIONS)[number];
/** The Temporal the e2e section runs on: the CLI's dev server, or the production layout (server on PostgreSQL). */
export const ENGINES = ['dev', 'cluster'] as const;
export type Engine = (typeof ENGINES)[number];

/** Sizes and durations of one mode. */
export interface Settings {
  mode: 'quick' | 'default' | 'full';
  sections: Section[];
  /**
   * `--engine=dev,cluster`: the e2e section's rows on the dev server (the default), on the production layout (the
   * Temporal server on PostgreSQL that `npm run test:cluster` runs: 1 and 2 worker processes), or both. Opt-in: the
   * first run builds the server (minutes).
   */
  engines: Engine[];
  /** `--cpu-prof`: the e2e/cost/inline worker process writes V8 CPU profiles (main and workflow threads). */
  cpuProfile: boolean;
  /** Alternated repetitions per comparison (each gives one pair, hence one ratio). */
  pairs: number;
  ramp: {
    /** Duration of one constant-rate step. */
    stepMs: number;
    probeMs: number;
    probeConcurrency: number;
    factor: number;
    maxSteps: number;
    duplicateRate: number;
    timeoutMs: number;
  };
  /** `pairs`: the end-to-end ratio is the noisiest (per-pair 0.72–0.93 on a 2-core machine), so it takes more. */
  e2e: { events: number; concurrency: number; deadlineMs: number; pairs: number };
  /** Issue 13: sign-ups posted at once, bursts (each on a fresh durable server), and how long to wait for notices. */
  notices: { signUps: number; reps: number; deadlineMs: number };
  inline: {
    poolSize: number;
    /** The inline handler's fault runs: users (a sign-up and an update each), storm length. */
    faults: { users: number; stormMs: number };
  };
  cost: { perType: number };
  scale: {
    /** Events per round of the 1-versus-2-worker pairs; also the "small" size. */
    pairEvents: number;
    /** Larger single rounds after the pairs, on one worker. */
    sizes: number[];
    concurrency: number;
    /** Per 1000 events. */
    deadlineMsPer1k: number;
  };
  /** Real sizes (issue 11), on a durable Temporal server with the REALISTIC latency profile. */
  sizes: {
    /** Members of the organization deleted (each a Contact and a membership; half with a second membership). */
    orgMembers: number;
    /** The other organizations that half the members also belong to. */
    otherOrgs: number;
    /** Organizations the signed-up user already belongs to. */
    userOrgs: number;
    /** Users in Clerk for the backfill (100k behind --full). */
    backfillUsers: number;
    /** Per webhook-driven part, from delivery to the workflow's result. */
    deadlineMs: number;
    backfillDeadlineMs: number;
  };
}

const DEFAULT: Settings = {
  mode: 'default',
  sections: [...SECTIONS],
  engines: ['dev'],
  cpuProfile: false,
  pairs: 3,
  ramp: {
    stepMs: 2_000,
    probeMs: 1_500,
    probeConcurrency: 64,
    factor: 1.25,
    maxSteps: 14,
    duplicateRate: 0.05,
    timeoutMs: 10_000,
  },
  e2e: { events: 200, concurrency: 16, deadlineMs: 180_000, pairs: 5 },
  notices: { signUps: 200, reps: 3, deadlineMs: 180_000 },
  inline: { poolSize: 2_000, faults: { users: 40, stormMs: 60_000 } },
  cost: { perType: 20 },
  scale: { pairEvents: 300, sizes: [1_000, 10_000], concurrency: 32, deadlineMsPer1k: 120_000 },
  sizes: {
    orgMembers: 10_000,
    otherOrgs: 5,
    userOrgs: 500,
    backfillUsers: 5_000,
    deadlineMs: 900_000,
    backfillDeadlineMs: 900_000,
  },
};

/**
 * The settings a command line asks for: `--quick`, `--full`, `--pairs=N`, `--events=N`, `--only=a,b`,
 * `--engine=dev,cluster`, `--cpu-prof`.
 */
export function parseArgs(argv: readonly string[]): Settings {
  const flags = new Map(
    argv
      .filter((a) => a.startsWith('--'))
      .map((a) => {
        const [k, v] = a.slice(2).split('=');
        return [k!, v ?? 'true'] as const;
      }),
  );
  const known = new Set(['quick', 'full', 'pairs', 'events', 'only', 'engine', 'cpu-prof']);
  const unknown = [...flags.keys()].filter((k) => !known.has(k));
  if (unknown.length > 0)
    throw new Error(`unknown option --${unknown[0]}; see the Performance section of README.md`);
  if (flags.has('quick') && flags.has('full')) throw new Error('--quick and --full exclude each other');

  const s: Settings = structuredClone(DEFAULT);
  if (flags.has('quick')) {
    s.mode = 'quick';
    s.ramp = { ...s.ramp, stepMs: 1_000, probeMs: 800, factor: 1.3, maxSteps: 8 };
    s.e2e = { ...s.e2e, events: 30, deadlineMs: 60_000, pairs: 3 };
    s.notices = { ...s.notices, reps: 1 }; // still 200 at once: that is the target's size
    s.inline = { poolSize: 300, faults: { users: 8, stormMs: 10_000 } };
    s.cost.perType = 4;
    s.scale = { ...s.scale, pairEvents: 60, sizes: [100, 400] };
    s.sizes = { ...s.sizes, orgMembers: 1_000, userOrgs: 50, backfillUsers: 500 };
  }
  if (flags.has('full')) {
    s.mode = 'full';
    s.ramp = { ...s.ramp, stepMs: 3_000, maxSteps: 18 };
    s.e2e.events = 500;
    s.scale = { ...s.scale, pairEvents: 1_000, sizes: [1_000, 10_000, 100_000] };
    s.sizes = { ...s.sizes, backfillUsers: 100_000, backfillDeadlineMs: 3 * 3_600_000 };
  }
  const int = (name: string, min: number) => {
    const v = Number(flags.get(name));
    if (!Number.isInteger(v) || v < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
    return v;
  };
  s.cpuProfile = flags.has('cpu-prof');
  if (flags.has('pairs')) s.pairs = s.e2e.pairs = int('pairs', 1);
  if (flags.has('events')) s.e2e.events = int('events', 1);
  if (flags.has('only')) {
    const only = flags.get('only')!.split(',');
    const bad = only.filter((o) => !(SECTIONS as readonly string[]).includes(o));
    if (bad.length > 0) throw new Error(`--only takes ${SECTIONS.join(',')}; not ${bad.join(',')}`);
    s.sections = SECTIONS.filter((x) => only.includes(x));
  }
  if (flags.has('engine')) {
    const engines = flags.get('engine')!.split(',');
    const bad = engines.filter((e) => !(ENGINES as readonly string[]).includes(e));
    if (bad.length > 0 || engines.length === 0)
      throw new Error(`--engine takes ${ENGINES.join(',')}; not ${bad.join(',')}`);
    s.engines = ENGINES.filter((x) => engines.includes(x));
  }
  return s;
}
