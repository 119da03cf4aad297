import { describe, expect, it } from 'vitest';
import { MetricSink } from '../metrics/sink.ts';
import { OpenPacer } from './pacer.ts';

/** Keeps the event loop busy for `ms`, as a burst of answers to handle would. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

describe('OpenPacer', () => {
  it("sends the window's whole schedule even when the event loop was busy at its end: what fell due unsent goes at stop, late", async () => {
    const now = performance.now();
    const sink = new MetricSink({ windowStartMs: now, lateThresholdMs: 10 });
    const sent: number[] = [];
    // 1,000/s over a 200 ms window: operations 0 … 199.
    const pacer = new OpenPacer({ rate: 1000 }, { sink, send: (k, _due, done) => { sent.push(k); done(); } });
    pacer.start({ windowStartMs: now, endMs: now + 200 });
    // The pump never gets another turn within the window.
    busy(250);
    await pacer.stop(0);
    expect(sent).toEqual(Array.from({ length: 200 }, (_, k) => k));
    sink.closeWindow(now + 200);
    expect(sink.finish().sends.sent).toBe(200);
    sink.destroy();
  });

  it('sends nothing more when stopped without the window ending (an abandoned run)', async () => {
    const now = performance.now();
    const sink = new MetricSink({ windowStartMs: now, lateThresholdMs: 10 });
    let sent = 0;
    const pacer = new OpenPacer({ rate: 1000 }, { sink, send: (_k, _due, done) => { sent++; done(); } });
    pacer.start({ windowStartMs: now, endMs: now + 200 });
    // What was due by the time the pacer started went at once.
    const atStart = sent;
    busy(100);
    await pacer.stop(0, false);
    expect(sent).toBe(atStart);
    expect(atStart).toBeLessThan(100);
    sink.destroy();
  });
});
