import { createEffect, For, type JSX, on, onCleanup, Show } from "solid-js";
import { t } from "../i18n/index.ts";
import { Panel } from "../ui/panel.tsx";
import { ChatComposer } from "./chat-composer.tsx";
import { ChatMessageItem } from "./chat-message.tsx";
import type { Chat } from "./chat-store.ts";
import "./chat.css";

/** Closer than this to the end counts as "reading the newest", so new messages scroll into view. */
const stickyPx = 80;

/** The messages, kept scrolled to the newest unless the person scrolled up to read older ones. */
function ChatLog(props: { chat: Chat }): JSX.Element {
	let log: HTMLDivElement | undefined;
	let atEnd = true;

	const toEnd = () => {
		if (log) log.scrollTop = log.scrollHeight;
	};
	const onScroll = () => {
		if (log) atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < stickyPx;
	};

	// Runs once on open (to the newest), then on every new message. One's own message always
	// scrolls: it was just sent from the box below and should be seen landing.
	createEffect(
		on(
			() => props.chat.messages().length,
			() => {
				const last = props.chat.messages().at(-1);
				if (atEnd || (last && props.chat.isOwn(last))) toEnd();
			},
		),
	);

	// The log shrinks when a phone's keyboard opens or the window is resized; stay at the end if we were.
	createEffect(() => {
		if (!log || typeof ResizeObserver === "undefined") return;
		const observer = new ResizeObserver(() => {
			if (atEnd) toEnd();
		});
		observer.observe(log);
		onCleanup(() => observer.disconnect());
	});

	// Older messages go on top: keep the ones being read where they are on screen.
	const loadOlder = async () => {
		const fromEnd = log ? log.scrollHeight - log.scrollTop : 0;
		await props.chat.loadOlder();
		if (log) log.scrollTop = log.scrollHeight - fromEnd;
	};

	return (
		// biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard to be scrolled by it (axe: scrollable-region-focusable).
		<div ref={log} class="chat-log" role="log" aria-label={t("chat.history")} tabIndex={0} onScroll={onScroll}>
			<Show when={props.chat.hasOlder() && props.chat.messages().length > 0}>
				<button
					type="button"
					class="button button--secondary chat-log__older"
					data-testid="chat-older"
					disabled={props.chat.loadingOlder()}
					onClick={() => void loadOlder()}
				>
					{t("chat.older")}
				</button>
			</Show>
			<Show when={props.chat.messages().length > 0} fallback={<p class="chat-log__empty">{t("chat.empty")}</p>}>
				<ol class="chat-log__list">
					<For each={props.chat.messages()}>
						{(message) => <ChatMessageItem message={message} own={props.chat.isOwn(message)} />}
					</For>
				</ol>
			</Show>
		</div>
	);
}

/** Beside the stage on wide screens, over the whole screen on phones (see chat.css). */
export function ChatPanel(props: { chat: Chat; onClose: () => void }): JSX.Element {
	return (
		<Panel title={t("chat.title")} class="chat-panel" onClose={props.onClose}>
			<ChatLog chat={props.chat} />
			<ChatComposer chat={props.chat} />
		</Panel>
	);
}
