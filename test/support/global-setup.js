// Starts Apache Kafka and DynamoDB Local for the integration tests (a missing service fails
// the run; nothing skips). A stack that was already running is left running afterwards.
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

module.exports = async () => {
  const root = join(__dirname, '..', '..');
  const out = execFileSync('bash', [join(root, 'scripts/local/up.sh')], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  globalThis.__weirStartedStack = !/already running/.test(out);
  process.stderr.write(`\n[weir] local stack ${globalThis.__weirStartedStack ? 'started' : 'already running'} for the integration tests\n`);
};
