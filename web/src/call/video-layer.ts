import { type Accessor, createEffect, onCleanup } from "solid-js";

/**
 * Tiles narrower than this get the camera's small simulcast layer (half
 * resolution: 320 px wide from a 640 px camera, which still looks sharp at
 * this size); wider ones get the full one.
 */
export const smallLayerBelowPx = 400;
/** While the grid re-lays out, tile widths pass through values that do not stay; ask once they settle. */
const settleMs = 300;

/** Ask for the simulcast layer that fits a tile of this width, again whenever the width settles elsewhere. */
export function requestLayerForWidth(width: Accessor<number>, request: (spatialLayer: number) => void): void {
	createEffect(() => {
		const current = width();
		if (current <= 0) return;
		const layer = current < smallLayerBelowPx ? 0 : 1;
		const timer = window.setTimeout(() => request(layer), settleMs);
		onCleanup(() => window.clearTimeout(timer));
	});
}
