/**
 * A fixed interleaving of items by weight (weights 3 and 1 give A A B A … spread evenly), the
 * same order every time, with no randomness to seed: every design of a scenario gets its calls
 * in the same order.
 */
export function weightedCycle<T extends { weight: number }>(items: readonly T[]): T[] {
  const total = items.reduce((n, r) => n + r.weight, 0);
  const current = items.map(() => 0);
  const cycle: T[] = [];
  // Smooth weighted round robin: every step each item gains its weight, the largest is picked
  // and pays the total.
  for (let step = 0; step < total; step++) {
    let best = 0;
    for (let i = 0; i < items.length; i++) {
      current[i]! += items[i]!.weight;
      if (current[i]! > current[best]!) best = i;
    }
    current[best]! -= total;
    cycle.push(items[best]!);
  }
  return cycle;
}
