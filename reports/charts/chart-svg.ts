import type { LayeredSpec } from './chart.ts';

/** Width (px) of a chart exported as SVG, where there is no container to follow. */
export const SVG_WIDTH = 760;

/**
 * Renders a chart spec to a standalone SVG document in Node, without a browser: Vega's headless
 * view (no renderer) draws the scene graph to SVG markup. The background is white so the file
 * reads well when pasted into a pull request on a light or dark page.
 */
export async function chartSvg(spec: LayeredSpec, width = SVG_WIDTH): Promise<string> {
  // Loaded on first use: the CLI imports the reports at start, and Vega would add to the time
  // from start to the first operation of every run.
  const [{ parse, View }, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  // A pasted image has no use for ARIA labels, which are most of an SVG's size otherwise.
  const fixed = { ...spec, width, config: { ...spec.config, background: 'white', aria: false } } as LayeredSpec;
  const view = new View(parse(compile(fixed).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
