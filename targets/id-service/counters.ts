// The counter-based ID generators: numbers handed out from a shared counter (a Redis key here),
// one round trip per call (`redis-incr`) or a range at a time, served from memory with the
// next range fetched ahead (`segment`, Meituan Leaf's double buffer). Their IDs carry no time.

/** Adds `by` to the shared counter and returns its new value. */
export type IncrBy = (by: number) => Promise<bigint>;

/** The IDs of one call, numbered as the `ids` checker reads them. */
export interface CounterIssued {
  ids: string[];
  /** IDs this generator handed out before the call. */
  n: number;
}

/**
 * Serves calls one at a time in arrival order, so each call's IDs are contiguous in issue order
 * and `n` counts what came before; a failed call hands out nothing and later calls go on.
 */
abstract class SerialIssuer {
  private tail: Promise<unknown> = Promise.resolve();
  issued = 0;

  protected abstract take(count: number): Promise<string[]>;

  issue(count: number): Promise<CounterIssued> {
    const result = this.tail.then(async () => {
      const ids = await this.take(count);
      const n = this.issued;
      this.issued += ids.length;
      return { ids, n };
    });
    this.tail = result.catch(() => undefined);
    return result;
  }
}

function range(lastInclusive: bigint, count: number): string[] {
  const ids = new Array<string>(count);
  const first = lastInclusive - BigInt(count) + 1n;
  for (let k = 0; k < count; k++) ids[k] = (first + BigInt(k)).toString();
  return ids;
}

/** `redis-incr`: every call is one INCRBY of its size on the shared counter. */
export class IncrIssuer extends SerialIssuer {
  private readonly incrBy: IncrBy;

  constructor(incrBy: IncrBy) {
    super();
    this.incrBy = incrBy;
  }

  protected async take(count: number): Promise<string[]> {
    return range(await this.incrBy(count), count);
  }
}

/** One range of a segment generator: the next ID to hand out and the last one it owns. */
interface Segment {
  next: bigint;
  last: bigint;
}

/**
 * `segment`: ranges of `step` numbers taken from the shared counter with one INCRBY each,
 * handed out from memory; once a tenth of the current range is used the next one is fetched
 * in the background (the double buffer), so a call waits for Redis only when both ran out.
 * Counters at restart: whatever the Redis server kept; a server that lost its data hands out
 * its ranges again, and every instance with them hands out IDs it handed out before.
 */
export class SegmentIssuer extends SerialIssuer {
  private readonly incrBy: IncrBy;
  private readonly step: number;
  private current: Segment | undefined;
  private spare: Promise<Segment> | undefined;
  /** Ranges fetched so far (for the service's stats). */
  fetched = 0;

  constructor(incrBy: IncrBy, step: number) {
    super();
    if (!Number.isInteger(step) || step < 1) throw new RangeError(`step must be a positive integer, got ${step}`);
    this.incrBy = incrBy;
    this.step = step;
  }

  private fetch(): Promise<Segment> {
    return this.incrBy(this.step).then((last) => {
      this.fetched++;
      return { next: last - BigInt(this.step) + 1n, last };
    });
  }

  /** Fetches the spare range once the current one is a tenth used; a failed fetch is dropped, to be tried again. */
  private prefetch(): void {
    if (this.spare || !this.current) return;
    const used = Number(this.current.next - (this.current.last - BigInt(this.step) + 1n));
    if (used < this.step / 10) return;
    const spare = this.fetch();
    this.spare = spare;
    spare.catch(() => {
      if (this.spare === spare) this.spare = undefined;
    });
  }

  protected async take(count: number): Promise<string[]> {
    const ids: string[] = [];
    while (ids.length < count) {
      if (!this.current || this.current.next > this.current.last) {
        const spare = this.spare ?? this.fetch();
        this.spare = undefined;
        this.current = await spare;
      }
      const seg = this.current;
      while (ids.length < count && seg.next <= seg.last) ids.push((seg.next++).toString());
      this.prefetch();
    }
    return ids;
  }
}
