/**
 * AWS cost per million input events from what the bench measured, at the list prices
 * docs/DEPLOY.md uses (us-east-1, as read there; check the pricing pages before relying on them).
 */
export const PRICES = {
  lambdaPerMillionRequests: 0.2,
  /** arm64, per GB-second. */
  lambdaPerGbSecond: 0.0000133334,
  dynamoPerMillionWru: 0.625,
  dynamoPerMillionRru: 0.125,
  mskPerGbIn: 0.1,
  mskPerGbOut: 0.05,
} as const;

/** The function memory DEPLOY.md's example assumes. */
export const MEMORY_GB = 0.5;

export interface CostInput {
  readonly events: number;
  /** Invocations of all stage functions (batches + control events). */
  readonly invocations: number;
  /** Summed wall time of those invocations on this machine, ms. */
  readonly invocationMs: number;
  readonly writeUnits: number;
  readonly readUnits: number;
  readonly writeRequests: number;
  /** Bytes written to Kafka (all topics of the run) and read from it by the stages. */
  readonly kafkaBytesIn: number;
  readonly kafkaBytesOut: number;
}

export interface CostRow {
  readonly item: string;
  readonly arithmetic: string;
  readonly usdPerMillion: number;
}

const f = (n: number, d = 2): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: 0 });

export function costPerMillion(c: CostInput): { rows: CostRow[]; total: number } {
  const per = 1_000_000 / c.events;
  const inv = c.invocations * per;
  const gbs = (c.invocationMs / 1000) * per * MEMORY_GB;
  const wru = c.writeUnits * per;
  const rru = c.readUnits * per;
  const gbIn = (c.kafkaBytesIn * per) / 1e9;
  const gbOut = (c.kafkaBytesOut * per) / 1e9;
  const rows: CostRow[] = [
    { item: 'Lambda requests', arithmetic: `${f(inv, 0)} invocations × $${PRICES.lambdaPerMillionRequests} / 1,000,000`, usdPerMillion: (inv * PRICES.lambdaPerMillionRequests) / 1e6 },
    {
      item: 'Lambda duration',
      arithmetic: `${f((c.invocationMs / 1000) * per, 0)} s (local invocation time, scaled) × ${MEMORY_GB} GB = ${f(gbs, 0)} GB-s × $${PRICES.lambdaPerGbSecond}`,
      usdPerMillion: gbs * PRICES.lambdaPerGbSecond,
    },
    {
      item: 'DynamoDB writes',
      arithmetic: `${f(wru, 0)} WRU (${f(c.writeRequests * per, 0)} requests) × $${PRICES.dynamoPerMillionWru} / 1,000,000`,
      usdPerMillion: (wru * PRICES.dynamoPerMillionWru) / 1e6,
    },
    { item: 'DynamoDB reads', arithmetic: `${f(rru, 0)} RRU × $${PRICES.dynamoPerMillionRru} / 1,000,000`, usdPerMillion: (rru * PRICES.dynamoPerMillionRru) / 1e6 },
    { item: 'MSK data in', arithmetic: `${f(gbIn, 3)} GB (broker log bytes of every topic) × $${PRICES.mskPerGbIn}`, usdPerMillion: gbIn * PRICES.mskPerGbIn },
    { item: 'MSK data out', arithmetic: `${f(gbOut, 3)} GB (source + repartition topics, read once) × $${PRICES.mskPerGbOut}`, usdPerMillion: gbOut * PRICES.mskPerGbOut },
  ];
  return { rows, total: rows.reduce((a, r) => a + r.usdPerMillion, 0) };
}
