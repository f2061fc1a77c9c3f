import { describe, expect, it } from 'vitest';
import { PER_INSTANCE_METRICS, createMetrics } from './metrics.js';

/** The exposition's sample lines that carry this instance label. */
async function seriesOf(metrics: ReturnType<typeof createMetrics>, instance: string) {
  const text = await metrics.registry.metrics();
  return text.split('\n').filter((l) => !l.startsWith('#') && l.includes(`instance="${instance}"`));
}

describe('series per instance', () => {
  it('are the documented metrics, and no other has an instance label', () => {
    const metrics = createMetrics();
    const labelled = metrics.registry
      .getMetricsAsArray()
      .filter((m) => (m as unknown as { labelNames: string[] }).labelNames.includes('instance'))
      .map((m) => m.name)
      .sort();
    expect(labelled).toEqual([...PER_INSTANCE_METRICS].sort());
  });

  it("go for a removed instance and stay for the others'", async () => {
    const metrics = createMetrics();
    for (const instance of ['1101000001', '1101000002']) {
      metrics.webhooksByInstance.inc({ instance });
      metrics.rateLimited.inc({ instance });
      metrics.instanceUnavailable.inc({ instance });
      metrics.jobsLost.inc({ instance });
      metrics.backfillFound.inc({ instance }, 3);
      metrics.statusesRecorded.inc({ instance, direction: 'incoming' });
      metrics.statusesRecorded.inc({ instance, direction: 'outgoing' });
    }
    expect(await seriesOf(metrics, '1101000001')).toHaveLength(7);

    metrics.forgetInstances(['1101000001']);

    expect(await seriesOf(metrics, '1101000001')).toEqual([]);
    expect(await seriesOf(metrics, '1101000002')).toHaveLength(7);
    expect(await seriesOf(metrics, '1101000002')).toContain(
      'archiver_backfill_found_total{instance="1101000002"} 3',
    );
  });
});
