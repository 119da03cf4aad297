import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultlineError } from '../errors.ts';
import { fakeClockEnv, fakeClockLibrary, fakeClockLoadedIn, offsetFileIn, offsetFileText, untilOffsetRead, writeOffsetFile } from './fake-clock.ts';

describe('the fake clock', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faultline-fake-clock-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes offsets as signed seconds with no unit, fractions to the millisecond', () => {
    expect([0, -5000, 5000, -2000, 1500, -500, -1, 250, -90_000, 86_400_000].map(offsetFileText)).toEqual([
      '+0\n', '-5\n', '+5\n', '-2\n', '+1.5\n', '-0.5\n', '-0.001\n', '+0.25\n', '-90\n', '+86400\n',
    ]);
    expect(() => offsetFileText(1.5)).toThrow(/whole milliseconds, not 1.5/);
  });

  it('gives the program the library, the offset file, a re-read every second and real monotonic clocks', () => {
    expect(fakeClockEnv('/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/tmp/svc/faketime-offset')).toEqual({
      LD_PRELOAD: '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
      FAKETIME_TIMESTAMP_FILE: '/tmp/svc/faketime-offset',
      FAKETIME_CACHE_DURATION: '0',
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
    });
    expect(fakeClockEnv('/lib/libfaketime.so.1', '/f', '/lib/other.so').LD_PRELOAD).toBe('/lib/libfaketime.so.1:/lib/other.so');
  });

  it('replaces the offset file whole, leaving no temp file', async () => {
    const file = offsetFileIn(dir);
    await writeOffsetFile(file, -5000);
    expect(await readFile(file, 'utf8')).toBe('-5\n');
    await writeOffsetFile(file, 0);
    expect(await readFile(file, 'utf8')).toBe('+0\n');
    expect(await readdir(dir)).toEqual(['faketime-offset']);
  });

  it('names the Debian package and the set-up when the library is missing', () => {
    const err = (() => {
      try {
        fakeClockLibrary('id-1', [join(dir, 'nowhere', 'libfaketime.so.1')]);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(FaultlineError);
    expect((err as FaultlineError).code).toBe('setup');
    expect((err as FaultlineError).message).toMatch(/service 'id-1' runs with a fake clock, but libfaketime \(libfaketime\.so\.1\) is not installed/);
    expect((err as FaultlineError).hint).toMatch(/Debian package 'faketime' \(npm run setup does\)/);
  });

  it('waits for the next whole second of real time after a write', async () => {
    const written = Date.now();
    await untilOffsetRead(written);
    expect(Date.now()).toBeGreaterThanOrEqual((Math.floor(written / 1000) + 1) * 1000);
  });

  it('sees from /proc whether a process has the library loaded', async () => {
    expect(await fakeClockLoadedIn(process.pid)).toBe(false);
    expect(await fakeClockLoadedIn(2 ** 22 + 1)).toBeUndefined();
  });
});
