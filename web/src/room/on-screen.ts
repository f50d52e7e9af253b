import { type Accessor, createEffect, createSignal, onCleanup } from "solid-js";

/**
 * Whether an element can be seen right now: the page is visible (not a
 * background tab, not a minimised window) and the element is inside the
 * viewport. Only what is mounted counts at all: tiles on another page of
 * the grid are not rendered, so they are never on screen.
 */
export function createOnScreen(element: Accessor<HTMLElement | undefined>): Accessor<boolean> {
	const [pageVisible, setPageVisible] = createSignal(document.visibilityState === "visible");
	const [intersecting, setIntersecting] = createSignal(false);
	const onVisibility = () => setPageVisible(document.visibilityState === "visible");
	document.addEventListener("visibilitychange", onVisibility);
	onCleanup(() => document.removeEventListener("visibilitychange", onVisibility));
	createEffect(() => {
		const el = element();
		if (!el) return;
		const observer = new IntersectionObserver((entries) => {
			const last = entries[entries.length - 1];
			if (last) setIntersecting(last.isIntersecting);
		});
		observer.observe(el);
		onCleanup(() => {
			observer.disconnect();
			setIntersecting(false);
		});
	});
	return () => pageVisible() && intersecting();
}

/**
 * Report to `show` while `onScreen` says the element is seen: true when it
 * becomes seen, false when it stops being seen or the owner is disposed, so
 * every true is matched by one false.
 */
export function reportShown(onScreen: Accessor<boolean>, show: (shown: boolean) => void): void {
	let shown = false;
	createEffect(() => {
		const now = onScreen();
		if (now === shown) return;
		shown = now;
		show(now);
	});
	onCleanup(() => {
		if (shown) show(false);
		shown = false;
	});
}
