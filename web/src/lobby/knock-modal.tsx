import type { KnockInfo } from "@mindmeet/protocol";
import { createSignal, type JSX, onMount, Show } from "solid-js";
import { markAdmit } from "../call/join-timeline.ts";
import { t } from "../i18n/index.ts";

export type KnockAnswer = "admit" | "deny";

/**
 * One knock at the top centre of the screen. It does not block the call (the
 * host can still mute, say), but keyboard focus goes to it and stays in it,
 * since answering is what the host is expected to do next.
 */
export function KnockModal(props: {
	knock: KnockInfo;
	/** How many more knocks wait behind this one. */
	waiting: number;
	/** The last admit was refused because the room is full: say so (the host may try again or deny). */
	roomFull?: boolean;
	onAnswer: (answer: KnockAnswer) => Promise<void>;
}): JSX.Element {
	const [busy, setBusy] = createSignal(false);
	let admitButton: HTMLButtonElement | undefined;
	let denyButton: HTMLButtonElement | undefined;

	onMount(() => {
		markAdmit("knock-shown");
		admitButton?.focus();
	});

	const answer = async (choice: KnockAnswer) => {
		if (busy()) return;
		setBusy(true);
		if (choice === "admit") markAdmit("admit");
		try {
			await props.onAnswer(choice);
		} finally {
			setBusy(false);
		}
	};

	// Two buttons: Tab and Shift+Tab go from one to the other instead of leaving the dialog.
	const keepFocus = (event: KeyboardEvent) => {
		if (event.key !== "Tab") return;
		event.preventDefault();
		(document.activeElement === admitButton ? denyButton : admitButton)?.focus();
	};

	return (
		<div
			class="knock-modal"
			role="dialog"
			aria-modal="true"
			aria-labelledby="knock-modal-title"
			aria-describedby="knock-modal-question"
			data-testid="knock-modal"
			onKeyDown={keepFocus}
		>
			<h2 id="knock-modal-title" class="visually-hidden">
				{t("knock.title")}
			</h2>
			<p id="knock-modal-question" class="knock-modal__question">
				{t("knock.question", { name: props.knock.name })}
			</p>
			<Show when={props.roomFull}>
				<p class="notice knock-modal__full" role="alert">
					{t("knock.roomFull", { name: props.knock.name })}
				</p>
			</Show>
			<Show when={props.waiting > 0}>
				<p class="knock-modal__more">{t("knock.more", { count: String(props.waiting) })}</p>
			</Show>
			<div class="knock-modal__actions">
				<button
					ref={denyButton}
					type="button"
					class="button button--secondary"
					data-testid="deny"
					aria-label={t("knock.denyLabel", { name: props.knock.name })}
					disabled={busy()}
					onClick={() => answer("deny")}
				>
					{t("knock.deny")}
				</button>
				<button
					ref={admitButton}
					type="button"
					class="button button--primary"
					data-testid="admit"
					aria-label={t("knock.admitLabel", { name: props.knock.name })}
					disabled={busy()}
					onClick={() => answer("admit")}
				>
					{t("knock.admit")}
				</button>
			</div>
		</div>
	);
}
