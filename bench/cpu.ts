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

/** User + system CPU seconds a process has used, from /proc/<pid>/stat; NaN once it is gone. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicks();
  } catch {
    return NaN;
  }
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

/** Cores each named process used over an interval: where a round's CPU went. */
export function cpuMeter(pids: Record<string, number | undefined>): () => Record<string, number> {
  const known = Object.entries(pids).filter((e): e is [string, number] => e[1] !== undefined);
  const before = known.map(([, pid]) => cpuSeconds(pid));
  const t0 = performance.now();
  return () => {
    const seconds = (performance.now() - t0) / 1000;
    return Object.fromEntries(
      known.map(([name, pid], i) => [name, round((cpuSeconds(pid) - before[i]!) / seconds)]),
    );
  };
}
