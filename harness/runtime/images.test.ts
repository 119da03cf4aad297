import { describe, expect, it } from 'vitest';
import { localImages } from '../tooling/docker/build-images.ts';
import { mavenTools } from '../tooling/setup/maven-tools.mjs';
import { chooseImages, defaultImages, parseImageFlags } from './images.ts';

describe('docker runtime images', () => {
  it('takes the flag over FAULTLINE_IMAGE_<KEY> over the scenario over the pinned default', () => {
    const images = chooseImages(
      { haproxy: 'scenario/haproxy', nginx: 'scenario/nginx', node: 'scenario/node' },
      parseImageFlags(['haproxy=flag/haproxy']),
      { FAULTLINE_IMAGE_HAPROXY: 'env/haproxy', FAULTLINE_IMAGE_NGINX: 'env/nginx' },
    );
    expect(images).toMatchObject({ haproxy: 'flag/haproxy', nginx: 'env/nginx', node: 'scenario/node', toxiproxy: defaultImages.toxiproxy });
  });

  it('pins every default to a tag', () => {
    for (const ref of Object.values(defaultImages)) expect(ref).toMatch(/:[\w.-]+$/);
  });

  it('tags the official and the local kafka image with the broker version the local runtime runs', () => {
    const version = mavenTools.find((t) => t.name === 'kafka')!.version;
    expect([defaultImages.kafka, localImages.kafka]).toEqual([`apache/kafka:${version}`, `faultline-local/kafka:${version}`]);
  });

  it('names the valid keys for an unknown one', () => {
    expect(() => parseImageFlags(['postgres=postgres:16'])).toThrow(/is not key=image/);
  });
});
