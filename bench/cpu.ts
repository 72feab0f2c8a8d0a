import { execSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { round } from './stats';

let ticks: number | undefined;
function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execSync('getconf CLK_TCK', { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** A process's /proc/<pid>/stat fields after its name (field 3 on); undefined once it is gone. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds a process has used; NaN once it is gone. */
function cpuSeconds(pid: number): number {
  const fields = statFields(pid);
  return fields ? (Number(fields[11]) + Number(fields[12])) / clockTicks() : NaN;
}

/**
 * CPU seconds of a process and its children: the live ones', and those of the children it has reaped (PostgreSQL's
 * backends are the postmaster's children, one per connection). NaN once the process is gone.
 */
function treeCpuSeconds(pid: number): number {
  const own = statFields(pid);
  if (!own) return NaN;
  let total = own.slice(11, 15).reduce((sum, f) => sum + Number(f), 0); // utime stime cutime cstime
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (fields && Number(fields[1]) === pid) total += Number(fields[11]) + Number(fields[12]);
  }
  return total / clockTicks();
}

/** The pid of the `temporal server start-dev` listening on this address's port, if it can be found. */
export function devServerPid(address: string): number | undefined {
  const port = address.split(':').at(-1);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const at = args.indexOf('--port');
      if (args.includes('start-dev') && at >= 0 && args[at + 1] === port) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** A process to meter: its own CPU, or (`{ tree }`) its and its children's. */
export type Metered = number | { tree: number } | undefined;

/** Cores each named process used over an interval: where a round's CPU went. */
export function cpuMeter(pids: Record<string, Metered>): () => Record<string, number> {
  const known = Object.entries(pids).filter(
    (e): e is [string, number | { tree: number }] => e[1] !== undefined,
  );
  const seconds = (p: number | { tree: number }) =>
    typeof p === 'number' ? cpuSeconds(p) : treeCpuSeconds(p.tree);
  const before = known.map(([, p]) => seconds(p));
  const t0 = performance.now();
  return () => {
    const elapsed = (performance.now() - t0) / 1000;
    return Object.fromEntries(
      known.map(([name, p], i) => [name, round((seconds(p) - before[i]!) / elapsed)]),
    );
  };
}
