import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The API's Prometheus metrics, on a registry of its own so that several apps can share a process (tests). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'clerk_sync_' });
  return {
    registry,
    /** Webhook requests by outcome: started, duplicate, ignored, or the error code of a rejection. */
    webhookRequests: new Counter({
      name: 'clerk_sync_webhook_requests_total',
      help: 'Clerk webhook requests by outcome',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    /** Time Temporal took to accept (or refuse) a workflow start. */
    startLatency: new Histogram({
      name: 'clerk_sync_workflow_start_seconds',
      help: 'Latency of workflow starts by result',
      labelNames: ['result'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}

/** The metrics the API records. */
export type Metrics = ReturnType<typeof createMetrics>;
