// The browser test drives Debian's Chromium with playwright-core (no browser download). This makes sure it is
// there before `npm test`: CHROMIUM_PATH, /usr/bin/chromium, or — as root on Debian/Ubuntu — apt-get install.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(
  Boolean,
);
if (candidates.some((p) => existsSync(p))) process.exit(0);

const root = typeof process.getuid === 'function' && process.getuid() === 0;
if (root && existsSync('/usr/bin/apt-get')) {
  process.stderr.write('Installing Chromium for the browser test (apt-get install chromium)…\n');
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  process.exit(0);
}
process.stderr.write(
  'The browser test needs Chromium: install it (Debian/Ubuntu: sudo apt-get install chromium) or set CHROMIUM_PATH.\n',
);
process.exit(1);
