import { describe, expect, it } from 'vitest';
import { scrubbingExporter } from './telemetry.js';

const SECRET = 'api-token-5f0c9d2e';

describe('the span exporter', () => {
  it('takes the secrets out of names, attributes, events and the status message', () => {
    const exported: unknown[] = [];
    const exporter = scrubbingExporter(
      {
        export: (spans, done) => {
          exported.push(...spans);
          done({ code: 0 });
        },
        shutdown: () => Promise.resolve(),
      },
      [SECRET],
    );
    const span = {
      name: `POST /waInstance1/downloadFile/${SECRET}`,
      attributes: { 'url.full': `https://api/waInstance1/downloadFile/${SECRET}`, n: 1 },
      events: [
        {
          name: 'exception',
          attributes: {
            'exception.message': `HTTP 404: ${SECRET}`,
            'exception.stacktrace': SECRET,
          },
        },
        { name: 'job failed' },
      ],
      status: { code: 2, message: `downloadFile: HTTP 500: ${SECRET}` },
      spanContext: () => ({ traceId: 't' }),
    };
    let result: number | undefined;
    exporter.export([span], (r) => (result = r.code));
    expect(result).toBe(0);
    const [out] = exported as (typeof span)[];
    const seen = JSON.stringify({
      name: out!.name,
      attributes: out!.attributes,
      events: out!.events,
      status: out!.status,
    });
    expect(seen).not.toContain(SECRET);
    expect(out!.attributes.n).toBe(1);
    expect(out!.status.code).toBe(2);
    expect(out!.events.map((e) => e.name)).toEqual(['exception', 'job failed']);
    // Everything else of the span (its context, its methods) is the span's own.
    expect(out!.spanContext()).toEqual({ traceId: 't' });
  });

  it("scrubs a reloaded instance's token from then on", () => {
    const names: string[] = [];
    const exporter = scrubbingExporter(
      {
        export: (spans, done) => {
          names.push(...spans.map((s) => s.name));
          done({ code: 0 });
        },
        shutdown: () => Promise.resolve(),
      },
      [SECRET],
    );
    const added = 'api-token-of-a-new-instance';
    const span = (name: string) => ({ name, attributes: {}, events: [], status: { code: 0 } });
    exporter.updateSecrets([SECRET, added]);
    exporter.export([span(`GET /getSettings/${added}`), span(`GET /x/${SECRET}`)], () => undefined);
    expect(names).toEqual(['GET /getSettings/[redacted]', 'GET /x/[redacted]']);
  });
});
