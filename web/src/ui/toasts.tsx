import { createSignal, For, type JSX } from "solid-js";
import { t } from "../i18n/index.ts";
import { CloseIcon } from "./icons.tsx";
import "./toasts.css";

interface Toast {
	id: number;
	text: string;
}

/** Long enough to read two lines; short enough not to pile up. */
const visibleMs = 5000;
const maxVisible = 4;

const [toasts, setToasts] = createSignal<readonly Toast[]>([]);
let nextId = 1;

function dismiss(id: number): void {
	setToasts((list) => list.filter((toast) => toast.id !== id));
}

/**
 * Show a short message at the bottom of the screen; it goes away by itself,
 * unless `sticky` (a state that lasts, like reconnecting): then it stays until
 * the returned function (or the person) dismisses it.
 */
export function showToast(text: string, options: { sticky?: boolean } = {}): () => void {
	const id = nextId++;
	// The same words again (say, a burst of refused chat messages) replace the earlier toast instead of piling up.
	setToasts((list) => [...list.filter((toast) => toast.text !== text), { id, text }].slice(-maxVisible));
	if (!options.sticky) window.setTimeout(() => dismiss(id), visibleMs);
	return () => dismiss(id);
}

export function Toasts(): JSX.Element {
	return (
		<div class="toasts">
			<For each={toasts()}>
				{(toast) => (
					<div class="toast" role="status" data-testid="toast">
						<span class="toast__text">{toast.text}</span>
						<button
							type="button"
							class="toast__close"
							aria-label={t("toast.dismiss")}
							onClick={() => dismiss(toast.id)}
						>
							<CloseIcon />
						</button>
					</div>
				)}
			</For>
		</div>
	);
}
