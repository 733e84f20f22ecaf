const { execFileSync } = require('node:child_process');
const { join } = require('node:path');
const { renderReliability } = require('./reliability-render');

module.exports = async () => {
  // docs/RELIABILITY.md, from the rows the fault-matrix tests wrote in this run (and earlier ones).
  renderReliability();
  if (!globalThis.__weirStartedStack || process.env.WEIR_KEEP_STACK) return;
  const root = join(__dirname, '..', '..');
  execFileSync('bash', [join(root, 'scripts/local/down.sh')], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
};
