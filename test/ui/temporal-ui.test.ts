import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { runScenario } from '@clerk-sync/sandbox';
import { startStack, type Stack } from '../helpers/stack';

// What operators see: after a scripted sign-up, the local Temporal Web UI lists the workflow with its summary, and
// its history shows the activities by name. Debian's Chromium, driven by playwright-core (no browser download).
const OUTPUT = join(__dirname, '..', '..', 'test-output');
const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (p) => p && existsSync(p),
);

let stack: Stack;
let browser: Browser;
beforeAll(async () => {
  if (!CHROMIUM)
    throw new Error('Chromium not found: run `node scripts/ensure-chromium.mjs` or set CHROMIUM_PATH');
  stack = await startStack();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});
afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

/** Waits until some frame of the page shows `text` (Playwright's locators do not cross into every frame). */
async function waitForText(page: Page, text: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const frame of page.frames()) {
      const shown: unknown = await frame
        .evaluate('document.body ? document.body.innerText : ""')
        .catch(() => '');
      if (typeof shown === 'string' && shown.includes(text)) return;
    }
    if (Date.now() > deadline) throw new Error(`"${text}" not shown within ${timeoutMs} ms`);
    await page.waitForTimeout(250);
  }
}

it('shows the sign-up workflow by its summary, and its history by activity name', async () => {
  const ui = process.env.TEMPORAL_TEST_UI_URL;
  if (!ui) throw new Error('TEMPORAL_TEST_UI_URL is not set: run through jest (global-setup)');
  const [delivery] = await runScenario(
    stack.sandbox,
    { endpoint: `${stack.api.url}/webhooks/clerk`, secret: stack.secret },
    'sign-up',
  );
  const svixId = delivery!.svixId;
  await stack.env.client.workflow.getHandle(svixId).result();
  const userId = (delivery!.event.data as { id: string }).id;
  const summary = `user.created ${userId} → Contact`;

  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  mkdirSync(OUTPUT, { recursive: true });
  try {
    // The operator's search: a user's syncs by ClerkUserId.
    const query = encodeURIComponent(`ClerkUserId="${userId}"`);
    await page.goto(`${ui}/namespaces/default/workflows?query=${query}`);
    const row = page.getByRole('link', { name: svixId }).first();
    await row.waitFor({ timeout: 30_000 });
    await page.getByText('onboardUser').first().waitFor();
    await page.screenshot({ path: join(OUTPUT, 'temporal-ui-workflows.png'), fullPage: true });

    await row.click();
    for (const activity of ['onboardContact', 'sendWelcomeEmail']) {
      await page.getByText(activity).first().waitFor({ timeout: 30_000 });
    }
    await page.screenshot({ path: join(OUTPUT, 'temporal-ui-history.png'), fullPage: true });
    // The one-line summary lives under the workflow's User Metadata.
    await page
      .getByRole('link', { name: 'User Metadata' })
      .or(page.getByRole('tab', { name: 'User Metadata' }))
      .first()
      .click();
    // The UI renders the summary as Markdown inside a sandboxed frame.
    await waitForText(page, summary);
    await page.screenshot({ path: join(OUTPUT, 'temporal-ui-summary.png'), fullPage: true });
  } catch (err) {
    await page.screenshot({ path: join(OUTPUT, 'temporal-ui-failure.png'), fullPage: true });
    throw err;
  } finally {
    await page.close();
  }
});
