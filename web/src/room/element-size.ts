import { type Accessor, createEffect, createSignal, onCleanup } from "solid-js";

export interface Size {
	width: number;
	height: number;
}

/** The content-box size of an element, kept current with a ResizeObserver while the caller lives. */
export function createElementSize(element: Accessor<HTMLElement | undefined>): Accessor<Size> {
	const [size, setSize] = createSignal<Size>(
		{ width: 0, height: 0 },
		{
			equals: (a, b) => a.width === b.width && a.height === b.height,
		},
	);
	createEffect(() => {
		const el = element();
		if (!el) return;
		const observer = new ResizeObserver(([entry]) => {
			if (entry) setSize({ width: entry.contentRect.width, height: entry.contentRect.height });
		});
		observer.observe(el);
		onCleanup(() => observer.disconnect());
	});
	return size;
}
