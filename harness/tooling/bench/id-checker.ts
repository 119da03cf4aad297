// Benchmark (not a test): the `ids` checker's time and memory over N snowflake IDs from 4
// instances (workers 0-3, 1,000 IDs per ms each) in batch records, with K duplicates planted at
// known places: every (N/K)-th ID repeats the one 50 before it in its batch. Prints whether the
// checker found exactly K, its time, and memory (RSS and array buffers sampled every 10 ms, and
// the process's peak RSS). In-memory mode makes the records as the checker reads them (the
// making is timed alone first and subtracted); `--file` writes them to a history file first and
// reads it back as a run does (a temp dir, removed at the end).
// With no duplicate (`--planted 0`) the history is read once; with some, twice (to say where).
//   node --expose-gc harness/tooling/bench/id-checker.ts [--ids 10000000] [--planted 1000] [--batch 100] [--file]
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SnowflakeGenerator } from '../../../targets/id-service/generators.ts';
import { checkIds } from '../../checkers/ids.ts';
import { readHistory } from '../../checkers/run-checkers.ts';
import type { HistoryRecord } from '../../metrics/sink.ts';

const { values } = parseArgs({ options: { ids: { type: 'string', default: '10000000' }, planted: { type: 'string', default: '1000' }, batch: { type: 'string', default: '100' }, file: { type: 'boolean', default: false } } });
const total = Number(values.ids);
const planted = Number(values.planted);
const batch = Number(values.batch);
const INSTANCES = 4;
const EPOCH = 1_600_000_000_000;
const T = 1_700_000_000_000;
const step = planted === 0 ? 0 : total / planted;
if ((planted > 0 && (!Number.isInteger(step) || step % batch !== 0)) || total % batch !== 0 || batch <= 50) throw new Error(`--ids must be a multiple of --batch and of --planted × --batch, and --batch over 50 (got ${total}, ${planted}, ${batch})`);
const batches = total / batch;
const windowMs = 10_000;

/** The records, made on the fly: batch b comes from instance b % 4 at ms T + b / 40 (1,000 IDs per ms per instance). */
async function* history(): AsyncGenerator<HistoryRecord> {
  let now = T;
  const clock = () => now;
  const gens = Array.from({ length: INSTANCES }, (_, w) => new SnowflakeGenerator({ clock, workerId: w, epochMs: EPOCH }));
  const next = new Array<number>(INSTANCES).fill(0);
  yield { t: -1, ev: 'id-layout', layout: { kind: 'snowflake', epochMs: EPOCH } };
  for (let b = 0; b < batches; b++) {
    now = T + Math.floor(b / (INSTANCES * 10));
    const inst = b % INSTANCES;
    const { ids } = gens[inst]!.take(batch);
    // The last ID of every batch that ends a step repeats the ID 50 before it.
    if (step > 0 && ((b + 1) * batch) % step === 0) ids[batch - 1] = ids[batch - 51]!;
    yield { t: (b * windowMs) / batches, ev: 'ids', i: `id-${inst}`, ids, n: next[inst], w: now };
    next[inst]! += batch;
  }
}

const gc = (globalThis as { gc?: () => void }).gc;
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/** Runs `fn` sampling memory every 10 ms; the peaks are over the samples and the value at the end. */
async function measured<T>(fn: () => Promise<T>): Promise<{ result: T; seconds: number; peakRss: number; peakArrayBuffers: number; baseRss: number; baseArrayBuffers: number }> {
  gc?.();
  const base = process.memoryUsage();
  let peakRss = base.rss;
  let peakArrayBuffers = base.arrayBuffers;
  const sample = () => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakArrayBuffers = Math.max(peakArrayBuffers, m.arrayBuffers);
  };
  const timer = setInterval(sample, 10);
  const start = performance.now();
  try {
    const result = await fn();
    sample();
    return { result, seconds: (performance.now() - start) / 1000, peakRss, peakArrayBuffers, baseRss: base.rss, baseArrayBuffers: base.arrayBuffers };
  } finally {
    clearInterval(timer);
  }
}

console.log(`\nids checker: ${total.toLocaleString('en-US')} snowflake IDs from ${INSTANCES} instances in batches of ${batch}, ${planted} planted duplicates; node ${process.version}${gc ? '' : ' (run with --expose-gc for a clean baseline)'}\n`);
let source: () => AsyncIterable<HistoryRecord> = history;
let makingSeconds = 0;
let dir: string | undefined;
try {
  if (values.file) {
    dir = mkdtempSync(join(tmpdir(), 'id-checker-'));
    const file = join(dir, 'history.jsonl');
    const started = performance.now();
    const out = createWriteStream(file);
    for await (const r of history()) if (!out.write(`${JSON.stringify(r)}\n`)) await once(out, 'drain');
    out.end();
    await once(out, 'finish');
    console.log(`history file: ${mib(statSync(file).size)} written in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    source = () => readHistory(file);
    const reading = await measured(async () => {
      let n = 0;
      for await (const _ of readHistory(file)) n++;
      return n;
    });
    makingSeconds = reading.seconds;
    console.log(`reading it back alone: ${reading.seconds.toFixed(2)} s (${reading.result.toLocaleString('en-US')} records)`);
  } else {
    const making = await measured(async () => {
      let n = 0;
      for await (const _ of history()) n++;
      return n;
    });
    makingSeconds = making.seconds;
    console.log(`making the records alone: ${making.seconds.toFixed(2)} s`);
  }
  const check = await measured(() => checkIds(source, windowMs));
  const c = check.result;
  const found = c.duplicate_ids.value;
  console.log(`duplicate_ids ${found} (planted ${planted}: ${found === planted ? 'exact' : 'WRONG'}), non_monotonic ${c.non_monotonic.value}, ids_ahead ${c.ids_ahead.value}, id_ahead_max_ms ${c.id_ahead_max_ms.value}, unreadable_ids ${c.unreadable_ids.value}`);
  console.log(`first example: ${c.duplicate_ids.examples[0] ?? '-'}`);
  console.log('\n| measure | value |\n| --- | ---: |');
  console.log(`| check, total (${values.file ? 'reading the file' : 'making the records'} in each pass) | ${check.seconds.toFixed(2)} s |`);
  const passes = (found ?? 0) > 0 ? 2 : 1;
  console.log(`| check, less one ${values.file ? 'read' : 'making'} of the records per pass (${passes} pass${passes > 1 ? 'es' : ''}) | ${(check.seconds - passes * makingSeconds).toFixed(2)} s |`);
  console.log(`| array buffers: before → peak | ${mib(check.baseArrayBuffers)} → ${mib(check.peakArrayBuffers)} (+${mib(check.peakArrayBuffers - check.baseArrayBuffers)}) |`);
  console.log(`| RSS: before → peak sampled | ${mib(check.baseRss)} → ${mib(check.peakRss)} (+${mib(check.peakRss - check.baseRss)}) |`);
  console.log(`| process peak RSS (getrusage) | ${mib(process.resourceUsage().maxRSS * 1024)} |`);
  if (found !== planted) process.exitCode = 1;
} finally {
  if (dir) rmSync(dir, { recursive: true, force: true });
}
