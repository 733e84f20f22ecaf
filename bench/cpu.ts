import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * CPU seconds used so far by the processes a run shares the machine with: the local Kafka
 * and DynamoDB Local JVMs (the processes listening on 9092 and 8000), this process, and its children that have
 * exited (the stage sandboxes, the baseline: Linux adds a reaped child's time to cutime/cstime).
 */
export interface CpuSnapshot {
  readonly at: number;
  readonly kafka: number;
  readonly dynamodb: number;
  readonly self: number;
  readonly children: number;
  /** Busy CPU seconds of the whole machine (/proc/stat), every process included. */
  readonly machine: number;
}

let ticks: number | undefined;
function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** utime + stime (+ cutime + cstime when `children`) of a pid, in seconds; NaN when unreadable. */
function procSeconds(pid: number | string, children: boolean): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const n = (i: number): number => Number(f[i - 3]);
    const t = children ? n(16) + n(17) : n(14) + n(15);
    return t / clockTicks();
  } catch {
    return Number.NaN;
  }
}

function machineBusySeconds(): number {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
    // user nice system idle iowait irq softirq steal
    const busy = (cpu[0] ?? 0) + (cpu[1] ?? 0) + (cpu[2] ?? 0) + (cpu[5] ?? 0) + (cpu[6] ?? 0) + (cpu[7] ?? 0);
    return busy / clockTicks();
  } catch {
    return Number.NaN;
  }
}

/** The pid listening on a local TCP port (ss), else the pid file local:up wrote. */
export function servicePid(name: 'kafka' | 'dynamodb'): string | undefined {
  const port = name === 'kafka' ? (process.env.WEIR_KAFKA_PORT ?? '9092') : (process.env.WEIR_DYNAMODB_PORT ?? '8000');
  try {
    const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const pid = /pid=(\d+)/.exec(out)?.[1];
    if (pid) return pid;
  } catch {
    // no ss: fall back to the pid file
  }
  try {
    return readFileSync(resolve(__dirname, `../.local/run/${name}.pid`), 'utf8').trim();
  } catch {
    return undefined;
  }
}

export function cpuSnapshot(): CpuSnapshot {
  const k = servicePid('kafka');
  const d = servicePid('dynamodb');
  const u = process.cpuUsage();
  return {
    at: Date.now(),
    kafka: k ? procSeconds(k, false) : Number.NaN,
    dynamodb: d ? procSeconds(d, false) : Number.NaN,
    self: (u.user + u.system) / 1e6,
    children: procSeconds('self', true),
    machine: machineBusySeconds(),
  };
}

export interface CpuUse {
  readonly wall_s: number;
  readonly kafka_s: number;
  readonly dynamodb_s: number;
  /** This process: the emulator (kafkajs consumers, MSK events, IPC) or the embedded runtime. */
  readonly bench_process_s: number;
  /** Exited children: stage sandboxes or the baseline process. */
  readonly children_s: number;
  /** Everything else on the machine (other users of the box, the OS): should be near 0 for a clean measurement. */
  readonly other_s: number;
  /** Of the machine's capacity over the wall time (cores × wall), all processes. */
  readonly busy_share: number;
}

export function cpuBetween(a: CpuSnapshot, b: CpuSnapshot, cores: number): CpuUse {
  const r = (x: number): number => Math.round(x * 10) / 10;
  const wall = (b.at - a.at) / 1000;
  const parts = { kafka_s: b.kafka - a.kafka, dynamodb_s: b.dynamodb - a.dynamodb, bench_process_s: b.self - a.self, children_s: b.children - a.children };
  const used = Object.values(parts).filter(Number.isFinite).reduce((x, y) => x + y, 0);
  const machine = b.machine - a.machine;
  return {
    wall_s: r(wall),
    kafka_s: r(parts.kafka_s),
    dynamodb_s: r(parts.dynamodb_s),
    bench_process_s: r(parts.bench_process_s),
    children_s: r(parts.children_s),
    other_s: r(machine - used),
    busy_share: Math.round((machine / (cores * wall)) * 100) / 100,
  };
}
