import type { KnockResponse } from "@mindmeet/protocol";
import { createEffect, type JSX, onCleanup } from "solid-js";
import { cancelKnock, guestWaitUrl } from "../api/lobby.ts";
import { t } from "../i18n/index.ts";
import { type WaitOutcome, waitForAnswer } from "./guest-wait.ts";
import "./lobby.css";

/** Shown to a guest after knocking, while the host decides. Unmounting it withdraws the knock. */
export function WaitingCard(props: {
	roomId: string;
	knock: KnockResponse;
	onOutcome: (outcome: WaitOutcome) => void;
	onCancel: () => void;
}): JSX.Element {
	createEffect(() => {
		const { knockId, knockSecret } = props.knock;
		const stop = waitForAnswer(guestWaitUrl(props.roomId, knockId, knockSecret), (outcome) => props.onOutcome(outcome));
		onCleanup(stop);
	});

	const cancel = () => {
		// Closing the socket (on unmount) withdraws the knock too; the DELETE says so explicitly
		// and its failure (already answered or expired) changes nothing for the guest.
		cancelKnock(props.roomId, props.knock.knockId, props.knock.knockSecret).catch(() => {});
		props.onCancel();
	};

	return (
		<section class="card waiting" data-testid="waiting" aria-labelledby="waiting-title">
			<span class="waiting__spinner" aria-hidden="true" />
			<h1 id="waiting-title" class="card__title waiting__title" aria-live="polite">
				{t("waiting.title")}
			</h1>
			<button
				type="button"
				class="button button--secondary"
				data-testid="cancel-knock"
				aria-label={t("waiting.cancel")}
				onClick={cancel}
			>
				{t("waiting.cancel")}
			</button>
		</section>
	);
}
