import { createResource, type JSX, Show } from "solid-js";

/**
 * The path of a QR code's dark modules, one unit per module, drawn inside a
 * quiet zone of `margin` units. The SVG is built from the matrix rather than
 * from a rendered string, so no markup is ever injected.
 */
async function qrPath(text: string, margin: number): Promise<{ d: string; size: number }> {
	// Loaded on first use: only people who invite need the encoder.
	const { create } = await import("qrcode");
	const { modules } = create(text, { errorCorrectionLevel: "M" });
	let d = "";
	// One rectangle per horizontal run of dark modules keeps the path short.
	for (let row = 0; row < modules.size; row++) {
		let col = 0;
		while (col < modules.size) {
			if (!modules.get(row, col)) {
				col++;
				continue;
			}
			const start = col;
			while (col < modules.size && modules.get(row, col)) col++;
			d += `M${start + margin} ${row + margin}h${col - start}v1h-${col - start}z`;
		}
	}
	return { d, size: modules.size + margin * 2 };
}

export function QrCode(props: { text: string; label: string; class?: string }): JSX.Element {
	const [code] = createResource(
		() => props.text,
		(text) => qrPath(text, 2),
	);
	return (
		<div class={props.class} data-testid="qr-code" role="img" aria-label={props.label} aria-busy={code.loading}>
			<Show when={code()}>
				{(qr) => (
					<svg viewBox={`0 0 ${qr().size} ${qr().size}`} shape-rendering="crispEdges" aria-hidden="true">
						<rect width="100%" height="100%" fill="#fff" />
						<path d={qr().d} fill="#000" />
					</svg>
				)}
			</Show>
		</div>
	);
}
