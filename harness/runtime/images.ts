import { FaultlineError } from '../errors.ts';

/**
 * The images of the docker runtime, by key, with their pinned official defaults. Each can be
 * overridden by the scenario's `images`, the `--image key=ref` flag or `FAULTLINE_IMAGE_<KEY>`
 * (the flag wins over the variable, the variable over the scenario).
 */
export const defaultImages = {
  node: 'node:22-bookworm-slim',
  haproxy: 'haproxy:2.6',
  nginx: 'nginx:1.22',
  redis: 'redis:7.0',
  rabbitmq: 'rabbitmq:3.10',
  // The broker version the tool cache holds (maven-tools.mjs), so both runtimes run the same one.
  kafka: 'apache/kafka:4.1.1',
  toxiproxy: 'ghcr.io/shopify/toxiproxy:2.12.0',
} as const;

export type ImageKey = keyof typeof defaultImages;
export type ImageChoice = Record<ImageKey, string>;

export function isImageKey(key: string): key is ImageKey {
  return Object.hasOwn(defaultImages, key);
}

/** Parses `--image key=ref` flags; an unknown key names the valid ones. */
export function parseImageFlags(flags: readonly string[] = []): Partial<ImageChoice> {
  const out: Partial<ImageChoice> = {};
  for (const flag of flags) {
    const m = /^([a-z]+)=(\S+)$/.exec(flag);
    if (!m || !isImageKey(m[1]!)) {
      throw new FaultlineError('invalid-argument', `--image '${flag}' is not key=image`, { hint: `keys: ${Object.keys(defaultImages).join(', ')}; e.g. --image haproxy=haproxy:2.8` });
    }
    out[m[1] as ImageKey] = m[2]!;
  }
  return out;
}

/** The image of every key: flag, then `FAULTLINE_IMAGE_<KEY>`, then the scenario, then the default. */
export function chooseImages(scenario: Partial<ImageChoice> = {}, flags: Partial<ImageChoice> = {}, env: NodeJS.ProcessEnv = process.env): ImageChoice {
  const out = { ...defaultImages } as ImageChoice;
  for (const key of Object.keys(defaultImages) as ImageKey[]) {
    out[key] = flags[key] ?? env[`FAULTLINE_IMAGE_${key.toUpperCase()}`] ?? scenario[key] ?? defaultImages[key];
  }
  return out;
}
