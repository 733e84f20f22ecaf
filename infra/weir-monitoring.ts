import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { MetricName } from '../shared/runtime/ports';
import { DURATION_METRIC, metricDimensions } from '../functions/observability';
import type { AlarmProps } from './props';

export interface WeirMonitoringProps {
  readonly pipeline: string;
  readonly namespace: string;
  readonly stages: ReadonlyArray<{ readonly id: string; readonly fn: lambda.IFunction }>;
  readonly alarms?: AlarmProps;
}

/**
 * Per stage: alarms on the mapping's OffsetLag (AWS/Lambda), on function errors, and on
 * dead-letter traffic (the `dlqRecords` metric the stage handler emits); one dashboard per pipeline.
 */
export class WeirMonitoring extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: WeirMonitoringProps) {
    super(scope, id);
    const a = props.alarms ?? {};
    const stageMetric = (stage: string, name: MetricName | typeof DURATION_METRIC, statistic = 'Sum'): cloudwatch.Metric =>
      new cloudwatch.Metric({ namespace: props.namespace, metricName: name, dimensionsMap: metricDimensions(props.pipeline, stage), statistic, period: Duration.minutes(1) });
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: `weir-${props.pipeline}`, defaultInterval: Duration.hours(3) });
    this.dashboard.addWidgets(new cloudwatch.TextWidget({ markdown: `# Weir pipeline \`${props.pipeline}\`\nOne row per stage: records, consumer lag, invocations, dead letters and state writes.`, width: 24, height: 2 }));

    for (const s of props.stages) {
      const lag = new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName: 'OffsetLag', dimensionsMap: { FunctionName: s.fn.functionName }, statistic: 'Maximum', period: Duration.minutes(1) });
      const errors = s.fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' });
      const dlq = stageMetric(s.id, 'dlqRecords').with({ period: Duration.minutes(5) });
      const alarm = (name: string, metric: cloudwatch.IMetric, threshold: number, evaluationPeriods: number, description: string): void => {
        const al = new cloudwatch.Alarm(this, `${s.id}-${name}`, {
          metric,
          threshold,
          evaluationPeriods,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          alarmDescription: `Weir ${props.pipeline} stage ${s.id}: ${description}`,
        });
        for (const act of a.actions ?? []) al.addAlarmAction(act);
        this.alarms.push(al);
      };
      alarm('OffsetLag', lag, a.offsetLagThreshold ?? 10_000, 5, 'consumer offset lag stayed high for 5 minutes (the stage falls behind its input)');
      alarm('Errors', errors, a.errorThreshold ?? 1, 1, 'function errors (the mapping retries the batch)');
      alarm('DeadLetters', dlq, a.dlqThreshold ?? 1, 1, `records sent to ${props.pipeline}-dlq (undecodable input or a user function threw)`);

      const graph = (title: string, left: cloudwatch.IMetric[], width = 6): cloudwatch.GraphWidget => new cloudwatch.GraphWidget({ title: `${s.id}: ${title}`, left, width, height: 6 });
      this.dashboard.addWidgets(
        graph('records', [stageMetric(s.id, 'recordsIn'), stageMetric(s.id, 'recordsOut'), stageMetric(s.id, 'duplicatesSkipped')]),
        graph('offset lag', [lag]),
        graph('invocations', [s.fn.metricInvocations(), s.fn.metricErrors(), stageMetric(s.id, DURATION_METRIC, 'p95')]),
        graph('late / dead letters / windows / state writes', [stageMetric(s.id, 'lateRecords'), stageMetric(s.id, 'dlqRecords'), stageMetric(s.id, 'windowsFired'), stageMetric(s.id, 'stateWrites')]),
      );
    }
  }
}
