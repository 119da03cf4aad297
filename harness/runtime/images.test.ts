import { describe, expect, it } from 'vitest';
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

  it('names the valid keys for an unknown one', () => {
    expect(() => parseImageFlags(['postgres=postgres:16'])).toThrow(/is not key=image/);
  });
});
