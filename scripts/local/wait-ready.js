#!/usr/bin/env node
// Weir local services: readiness probe for Kafka and DynamoDB Local.
// Plain CommonJS, no build step; uses kafkajs and @aws-sdk/client-dynamodb from the
// repository's node_modules.
//
//   node scripts/local/wait-ready.js [--kafka HOST:PORT] [--dynamodb URL]
//        [--timeout SECONDS] [--probe]
//        [--kafka-pid PID] [--kafka-log FILE] [--dynamodb-pid PID] [--dynamodb-log FILE]
//
// Kafka is ready when admin().connect() + describeCluster() + listTopics() succeed
// (i.e. the broker answers metadata requests); DynamoDB Local when ListTables succeeds.
// --probe: one attempt per service, prints "kafka=up|down" / "dynamodb=up|down", exit 0 if all up, 3 otherwise.
// Otherwise retries until all are ready (exit 0) or --timeout elapses / a watched pid exits (exit 1).
'use strict';

const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

// The AWS SDK's "Node 20 support ends in 2027" notice is noise here.
if (!process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED) process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const repoRequire = createRequire(path.join(REPO_ROOT, 'package.json'));

function load(name) {
  try {
    return repoRequire(name);
  } catch (e) {
    console.error(`[weir-local] ERROR: cannot load ${name} from ${REPO_ROOT}/node_modules (${e.code || e.message}); run 'npm ci' first`);
    process.exit(2);
  }
}

function parseArgs(argv) {
  const opts = { timeout: 90, probe: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`missing value for ${a}`);
      return argv[++i];
    };
    switch (a) {
      case '--kafka': opts.kafka = val(); break;
      case '--dynamodb': opts.dynamodb = val(); break;
      case '--timeout': opts.timeout = Number(val()); break;
      case '--probe': opts.probe = true; break;
      case '--kafka-pid': opts.kafkaPid = Number(val()); break;
      case '--kafka-log': opts.kafkaLog = val(); break;
      case '--dynamodb-pid': opts.dynamodbPid = Number(val()); break;
      case '--dynamodb-log': opts.dynamodbLog = val(); break;
      case '-h': case '--help':
        console.log(fs.readFileSync(__filename, 'utf8').split('\n').filter((l) => l.startsWith('//')).map((l) => l.slice(3)).join('\n'));
        process.exit(0);
        break;
      default: throw new Error(`unknown argument: ${a}`);
    }
  }
  if (!opts.kafka && !opts.dynamodb) throw new Error('nothing to check: pass --kafka and/or --dynamodb');
  if (!(opts.timeout >= 0)) throw new Error('--timeout must be a number of seconds');
  return opts;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** true if pid exists and is not a zombie */
function pidAlive(pid) {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if (e.code !== 'EPERM') return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

function tail(file, lines = 15) {
  try {
    const all = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    return all.slice(-lines).map((l) => `    | ${l}`).join('\n');
  } catch {
    return '    (log not readable)';
  }
}

function kafkaChecker(broker) {
  const { Kafka, logLevel } = load('kafkajs');
  return async () => {
    const kafka = new Kafka({
      clientId: 'weir-local-wait-ready',
      brokers: [broker],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1000,
      requestTimeout: 3000,
      retry: { retries: 0 },
    });
    const admin = kafka.admin({ retry: { retries: 0 } });
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (!cluster.brokers || cluster.brokers.length === 0) throw new Error('no brokers in metadata yet');
      const topics = await admin.listTopics();
      return `cluster ${cluster.clusterId}, ${cluster.brokers.length} broker(s), ${topics.length} topic(s)`;
    } finally {
      await admin.disconnect().catch(() => {});
    }
  };
}

function dynamoChecker(endpoint) {
  const { DynamoDBClient, ListTablesCommand } = load('@aws-sdk/client-dynamodb');
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 },
  });
  const check = async () => {
    const out = await client.send(new ListTablesCommand({}));
    return `${(out.TableNames || []).length} table(s)`;
  };
  check.close = () => client.destroy();
  return check;
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`[weir-local] wait-ready: ${e.message}`);
    process.exit(2);
  }

  const services = [];
  if (opts.kafka) {
    services.push({ key: 'kafka', name: 'Kafka', where: opts.kafka, check: kafkaChecker(opts.kafka), pid: opts.kafkaPid, log: opts.kafkaLog });
  }
  if (opts.dynamodb) {
    services.push({ key: 'dynamodb', name: 'DynamoDB Local', where: opts.dynamodb, check: dynamoChecker(opts.dynamodb), pid: opts.dynamodbPid, log: opts.dynamodbLog });
  }

  const t0 = Date.now();
  const secs = () => ((Date.now() - t0) / 1000).toFixed(1);

  if (opts.probe) {
    let allUp = true;
    await Promise.all(services.map(async (s) => {
      try {
        await s.check();
        s.up = true;
      } catch {
        s.up = false;
        allUp = false;
      }
    }));
    for (const s of services) console.log(`${s.key}=${s.up ? 'up' : 'down'}`);
    services.forEach((s) => s.check.close && s.check.close());
    process.exit(allUp ? 0 : 3);
  }

  const deadline = t0 + opts.timeout * 1000;
  const results = await Promise.all(services.map(async (s) => {
    let lastErr = 'not checked yet';
    for (;;) {
      try {
        const info = await s.check();
        console.log(`[weir-local] ${s.name} ready at ${s.where} after ${secs()}s (${info})`);
        return true;
      } catch (e) {
        lastErr = (e && (e.message || e.name || e.code)) || String(e);
      }
      if (s.pid && !pidAlive(s.pid)) {
        console.error(`[weir-local] ERROR: ${s.name} (pid ${s.pid}) exited before becoming ready.` +
          (s.log ? ` Log: ${s.log}\n${tail(s.log)}` : ''));
        return false;
      }
      if (Date.now() >= deadline) {
        console.error(`[weir-local] ERROR: ${s.name} at ${s.where} not ready after ${opts.timeout}s (last error: ${lastErr}).` +
          (s.log ? ` Log: ${s.log}\n${tail(s.log)}` : ''));
        return false;
      }
      await sleep(500);
    }
  }));
  services.forEach((s) => s.check.close && s.check.close());
  process.exit(results.every(Boolean) ? 0 : 1);
}

main().catch((e) => {
  console.error(`[weir-local] wait-ready: unexpected error: ${e && e.stack ? e.stack : e}`);
  process.exit(2);
});
