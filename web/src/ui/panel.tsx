import { createEffect, createUniqueId, type JSX, onCleanup, onMount } from "solid-js";
import { t } from "../i18n/index.ts";
import { CloseIcon } from "./icons.tsx";
import "./panel.css";

/**
 * A non-modal panel (side sheet or popover) with a title and a close button.
 * It takes focus when it opens, closes on Escape, and gives focus back to
 * whatever had it (usually the button that opened it) when it goes away.
 */
export function Panel(props: {
	title: string;
	class: string;
	onClose: () => void;
	children: JSX.Element;
}): JSX.Element {
	const titleId = createUniqueId();
	let panel: HTMLElement | undefined;

	onMount(() => {
		const opener = document.activeElement;
		panel?.focus();
		onCleanup(() => {
			const focus = document.activeElement;
			const lost = !focus || focus === document.body || Boolean(panel?.contains(focus));
			if (lost && opener instanceof HTMLElement) opener.focus();
		});
	});

	// Escape is heard on the whole document, not just inside the panel: focus falls back to the body
	// when the focused row goes away (a kicked participant), and Escape must still close the panel.
	// Keys meant for another dialog (a knock) are left to it.
	createEffect(() => {
		const onKeyDown = (event: KeyboardEvent) => {
			if (event.key !== "Escape" || event.defaultPrevented) return;
			const dialog = event.target instanceof Element ? event.target.closest('[role="dialog"]') : null;
			if (dialog && dialog !== panel) return;
			props.onClose();
		};
		document.addEventListener("keydown", onKeyDown);
		onCleanup(() => document.removeEventListener("keydown", onKeyDown));
	});

	return (
		<section ref={panel} class={`panel ${props.class}`} role="dialog" aria-labelledby={titleId} tabIndex={-1}>
			<header class="panel__header">
				<h2 id={titleId} class="panel__title">
					{props.title}
				</h2>
				<CloseButton onClose={props.onClose} />
			</header>
			{props.children}
		</section>
	);
}

/** The × that closes a panel; one place for its label and look. */
export function CloseButton(props: { onClose: () => void }) {
	return (
		<button
			type="button"
			class="icon-button"
			aria-label={t("panel.close")}
			title={t("panel.close")}
			onClick={() => props.onClose()}
		>
			<CloseIcon />
		</button>
	);
}
