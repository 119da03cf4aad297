import { afterEach, describe, expect, it, vi } from 'vitest';
import { MetricSink } from '../metrics/sink.ts';
import { OpenPacer } from './pacer.ts';

/** The pacer's clock, moved by the test: what it reads as now (ms). */
let clockMs = 1000;

afterEach(() => {
  vi.restoreAllMocks();
});

describe('OpenPacer', () => {
  it("sends the window's whole schedule even when the event loop was busy at its end: what fell due unsent goes at stop, late", async () => {
    vi.spyOn(performance, 'now').mockImplementation(() => clockMs);
    clockMs = 1000;
    const now = performance.now();
    const sink = new MetricSink({ windowStartMs: now, lateThresholdMs: 10 });
    const sent: number[] = [];
    // 1,000/s over a 200 ms window: operations 0 … 199.
    const pacer = new OpenPacer({ rate: 1000 }, { sink, send: (k, _due, done) => { sent.push(k); done(); } });
    pacer.start({ windowStartMs: now, endMs: now + 200 });
    // The event loop is taken past the window's end: the pump never gets another turn in it.
    clockMs += 250;
    sink.closeWindow(now + 200);
    await pacer.stop(0);
    expect(sent).toEqual(Array.from({ length: 200 }, (_, k) => k));
    expect(sink.finish().sends.sent).toBe(200);
    sink.destroy();
  });

  it('sends nothing more when a closing driver stops it', async () => {
    vi.spyOn(performance, 'now').mockImplementation(() => clockMs);
    clockMs = 1000;
    const now = performance.now();
    const sink = new MetricSink({ windowStartMs: now, lateThresholdMs: 10 });
    let sent = 0;
    const pacer = new OpenPacer({ rate: 1000 }, { sink, send: (_k, _due, done) => { sent++; done(); } });
    pacer.start({ windowStartMs: now, endMs: now + 200 });
    // The first was due as the pacer started and went at once.
    expect(sent).toBe(1);
    clockMs += 100;
    await pacer.stop(0, false);
    expect(sent).toBe(1);
    sink.destroy();
  });

  it('keeps to the window when it starts after the window opened: the schedule is not shifted later', async () => {
    vi.spyOn(performance, 'now').mockImplementation(() => clockMs);
    clockMs = 1000;
    const sink = new MetricSink({ windowStartMs: 1000, lateThresholdMs: 10 });
    const due: number[] = [];
    const pacer = new OpenPacer({ rate: 1000 }, { sink, send: (_k, dueMs, done) => { due.push(dueMs); done(); } });
    // Setting up took 5 ms after the window was anchored.
    clockMs = 1005;
    pacer.start({ windowStartMs: 1000, endMs: 1200 });
    // What fell due in those 5 ms went at once.
    expect(due).toEqual([1000, 1001, 1002, 1003, 1004, 1005]);
    clockMs = 1250;
    await pacer.stop(0);
    expect(due).toHaveLength(200);
    expect(due.at(-1)).toBe(1199);
    sink.destroy();
  });
});
