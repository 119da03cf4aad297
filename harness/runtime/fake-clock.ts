import { existsSync, readdirSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FaultlineError } from '../errors.ts';

// A service's wall clock, moved without its cooperation: libfaketime (Debian `faketime`),
// preloaded into the service's program, adds the offset a small file holds to every read of
// CLOCK_REALTIME (`Date.now()`, gettimeofday, clock_gettime), and leaves monotonic clocks alone.
// Whoever rewrites the file moves the clock of every process of the service that has the
// variables below, children and cluster workers included (they inherit them).

/** The offset file's name in the service's dir (local) or its folder in the container. */
export const FAKE_CLOCK_FILE = 'faketime-offset';
/** The library's name: `LD_PRELOAD` points at it, and it keeps this name inside a container. */
export const FAKE_CLOCK_LIBRARY = 'libfaketime.so.1';

/** Where Debian puts the library: its own architecture's folder first. */
function candidates(): string[] {
  const triplet = process.arch === 'x64' ? 'x86_64-linux-gnu' : process.arch === 'arm64' ? 'aarch64-linux-gnu' : undefined;
  const own = triplet ? [`/usr/lib/${triplet}/faketime/${FAKE_CLOCK_LIBRARY}`] : [];
  let others: string[] = [];
  try {
    others = readdirSync('/usr/lib').map((d) => `/usr/lib/${d}/faketime/${FAKE_CLOCK_LIBRARY}`);
  } catch {
    // No /usr/lib to look in: only the fixed places below remain.
  }
  return [...own, ...others, `/usr/lib/faketime/${FAKE_CLOCK_LIBRARY}`, `/usr/local/lib/faketime/${FAKE_CLOCK_LIBRARY}`];
}

/**
 * The path of libfaketime on this machine (the first of `places` that exists); a clear set-up
 * error when it is missing. Looked up at every start, not cached.
 */
export function fakeClockLibrary(service: string, places: readonly string[] = candidates()): string {
  const found = places.find((p) => existsSync(p));
  if (found) return found;
  throw new FaultlineError('setup', `service '${service}' runs with a fake clock, but libfaketime (${FAKE_CLOCK_LIBRARY}) is not installed: looked in /usr/lib/<arch>/faketime, /usr/lib/faketime and /usr/local/lib/faketime`, {
    hint: "install the Debian package 'faketime' (npm run setup does), e.g. apt-get install -y --no-install-recommends faketime",
  });
}

/**
 * The variables that make a program read its wall clock through libfaketime, with the offset
 * from `offsetFile`. `otherPreload` is an `LD_PRELOAD` the program already had; it stays after.
 *
 * The file is read again at the first clock read in each new second of real time
 * (`FAKETIME_CACHE_DURATION=0`: libfaketime compares whole seconds and re-reads only when more
 * than the cache duration have passed, so 1 would mean up to 2 s before a change shows): at
 * most one small file read a second, where no cache at all costs ~2.8 µs per `Date.now()`.
 * Monotonic clocks stay real: Node aborts when its monotonic clock goes back.
 */
export function fakeClockEnv(library: string, offsetFile: string, otherPreload?: string): Record<string, string> {
  return {
    LD_PRELOAD: otherPreload ? `${library}:${otherPreload}` : library,
    FAKETIME_TIMESTAMP_FILE: offsetFile,
    FAKETIME_CACHE_DURATION: '0',
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
  };
}

/**
 * The offset file's text for an offset in whole ms: signed seconds with at most three
 * decimals and no unit (`-5`, `+1.5`, `-0.001`, `+0`). libfaketime honours fractions, but
 * reads any `m` in the line as minutes (and `h`, `d`, `y` likewise), so no unit is ever written.
 */
export function offsetFileText(ms: number): string {
  if (!Number.isSafeInteger(ms)) throw new FaultlineError('internal', `a clock offset is whole milliseconds, not ${ms}`);
  const abs = Math.abs(ms);
  const frac = abs % 1000;
  const seconds = `${Math.floor(abs / 1000)}${frac === 0 ? '' : `.${String(frac).padStart(3, '0').replace(/0+$/, '')}`}`;
  return `${ms < 0 ? '-' : '+'}${seconds}\n`;
}

/** Writes the offset file whole (a temp file, then a rename): a reader never sees it half-written or missing. */
export async function writeOffsetFile(file: string, ms: number): Promise<void> {
  const tmp = `${file}.tmp`;
  await writeFile(tmp, offsetFileText(ms));
  await rename(tmp, file);
}

/**
 * Waits until every wall-clock read a fake-clock process makes sees an offset file written by
 * `writtenAtMs` (this process's `Date.now()`, the same real clock the library reads). A process
 * re-reads the file at its first clock read in a whole second later than its last read of it;
 * its last read was at the latest in the second of the write, so from the next whole second
 * on, any read sees the new file: this waits at most 1 s. The same holds for a frozen
 * (paused) process once it runs again; a process started after the write reads the file at
 * its first clock read.
 */
export async function untilOffsetRead(writtenAtMs: number): Promise<void> {
  const from = (Math.floor(writtenAtMs / 1000) + 1) * 1000;
  // Timers may fire a millisecond early: check the clock again.
  while (Date.now() < from) await sleep(from - Date.now() + 1);
}

/**
 * Whether libfaketime is loaded in a process, from `/proc/<pid>/maps`; undefined when that
 * cannot be read (the process is gone, or runs where this machine cannot see it). A statically
 * linked program, or one that reads the clock without the C library (Go's runtime), ignores
 * `LD_PRELOAD`; so does one whose C library cannot load this build of the library (musl).
 */
export async function fakeClockLoadedIn(pid: number): Promise<boolean | undefined> {
  try {
    return (await readFile(`/proc/${pid}/maps`, 'utf8')).includes(FAKE_CLOCK_LIBRARY.replace(/\.so\.1$/, ''));
  } catch {
    return undefined;
  }
}

/** The error for a running service whose process has no libfaketime loaded. */
export function notLoadedError(service: string, target: string, pid: number): FaultlineError {
  return new FaultlineError('fault', `service '${service}' (${target}) cannot have its clock moved: libfaketime is not loaded in its process (pid ${pid})`, {
    hint: 'a statically linked program, a Go program, or one whose C library is not glibc (an Alpine image) ignores LD_PRELOAD; run it from a glibc (Debian) image or leave the clock fault out',
  });
}

/** The offset file's path in a service's dir. */
export function offsetFileIn(dir: string): string {
  return join(dir, FAKE_CLOCK_FILE);
}
