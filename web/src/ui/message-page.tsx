import { type JSX, Show } from "solid-js";
import { Link } from "../app/router.tsx";
import { t } from "../i18n/index.ts";

/**
 * A full-page message with the way back home: unknown pages, unknown rooms,
 * ended calls. `note`: a quieter line under the buttons.
 */
export function MessagePage(props: { message: string; note?: string; children?: JSX.Element }): JSX.Element {
	return (
		<main class="message-page">
			<h1 class="message-page__text">{props.message}</h1>
			<div class="message-page__actions">
				{props.children}
				<Link class="button button--secondary" href="/">
					{t("page.backHome")}
				</Link>
			</div>
			<Show when={props.note}>{(note) => <p class="message-page__note">{note()}</p>}</Show>
		</main>
	);
}
