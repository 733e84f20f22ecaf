const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

module.exports = async () => {
  if (!globalThis.__weirStartedStack || process.env.WEIR_KEEP_STACK) return;
  const root = join(__dirname, '..', '..');
  execFileSync('bash', [join(root, 'scripts/local/down.sh')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
};
