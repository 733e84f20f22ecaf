import { planPipeline } from '../shared/plan/planner';
import { planToDot, planToSvg } from '../shared/plan/dot';
import { example } from './support/examples';

describe('weir plan --svg', () => {
  it('draws each stage as a cluster with its operators, and every topic and table', async () => {
    const p = example('windowed-wordcount');
    const plan = planPipeline(p);
    const svg = await planToSvg(p, plan);
    expect(svg.startsWith('<?xml')).toBe(true);
    const texts = [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    for (const t of [
      'stage s0: one Lambda',
      'stage s1: one Lambda (keyed)',
      'flatMap#1',
      'tumbling 5000 ms (event time)',
      'windowed&#45;wordcount&#45;s1&#45;repartition',
      'late&#45;words',
      'word&#45;counts&#45;5s',
      'windowed&#45;wordcount&#45;dlq',
      'keyed state (DynamoDB)',
    ]) {
      expect(texts).toContain(t);
    }
    // Exactly one cluster per stage, and the repartition topic joins them.
    expect(svg.match(/class="cluster"/g)).toHaveLength(2);
    expect(planToDot(p, plan)).toContain('"op:2" -> "topic:windowed-wordcount-s1-repartition" [label="by key"]');
  });
});
