/**
 * The sandbox's fixed, documented credentials. They open nothing but the local sandbox; each stand-in
 * checks them and answers a wrong one with the real service's 401/403, so a misconfigured client fails
 * in the sandbox the way it would in production.
 */
export const SANDBOX_CREDENTIALS = {
  salesforceClientId: '3MVG9sandbox.clerk-sync.local',
  salesforceClientSecret: 'clerk-sync-sandbox-salesforce-secret',
  clerkSecretKey: 'sk_test_clerksyncsandbox0000000000000000',
  resendApiKey: 're_sandbox_clerksync000000000000',
  /** Path of the Slack incoming webhook, after `/slack`. */
  slackWebhookPath: '/services/T0SANDBOX/B0SANDBOX/clerksyncsandboxslacktoken',
} as const;
