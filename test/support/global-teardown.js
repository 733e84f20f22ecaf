const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

// Only stops the stack it started. It writes nothing else: tests write under test-output/,
// and docs/RELIABILITY.md comes from `npm run reliability:doc` after a passing run.
module.exports = async () => {
  if (!globalThis.__weirStartedStack || process.env.WEIR_KEEP_STACK) return;
  const root = join(__dirname, '..', '..');
  execFileSync('bash', [join(root, 'scripts/local/down.sh')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
};
