import { setTimeout as sleep } from 'node:timers/promises';
import type { LatencyProfile } from './latency';
import { sampleLatency } from './latency';

/** When each ceiling write ran (epoch ms), by the id the starter gave. */
export type Writes = Map<string, number>;

/** The ceiling's activities: nothing, or sleeps drawn from the profile the product's round has. */
export function ceilingActivities(writes: Writes, profile: LatencyProfile | undefined) {
  const wait = async (medianMs: number | undefined) => {
    if (medianMs) await sleep(sampleLatency(medianMs));
  };
  return {
    /** onboardContact's place: Clerk's look-up, then Salesforce's write; its end is the sync's "Salesforce write". */
    async write(id: string): Promise<void> {
      await wait(profile?.clerk);
      await wait(profile?.salesforce);
      writes.set(id, Date.now());
    },
    /** sendWelcomeEmail's place. */
    async email(): Promise<void> {
      await wait(profile?.resend);
    },
  };
}

/** The ceiling activities' interface, for `proxyActivities`. */
export type CeilingActivities = ReturnType<typeof ceilingActivities>;
