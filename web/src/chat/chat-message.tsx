import type { ChatMessage } from "@mindmeet/protocol";
import type { JSX } from "solid-js";
import { type Locale, locale, t } from "../i18n/index.ts";

const timeFormats = new Map<Locale, Intl.DateTimeFormat>();

/** HH:mm in the viewer's own time zone; h23 so it is never "2:05 PM", whatever the language. */
export function formatTime(epochMs: number): string {
	const current = locale();
	let format = timeFormats.get(current);
	if (!format) {
		format = new Intl.DateTimeFormat(current, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
		timeFormats.set(current, format);
	}
	return format.format(epochMs);
}

/** One message. The text goes in as a text node: whatever someone types is shown, never interpreted. */
export function ChatMessageItem(props: { message: ChatMessage; own: boolean }): JSX.Element {
	return (
		<li
			class="chat-message"
			classList={{ "chat-message--own": props.own }}
			data-testid="chat-message"
			data-author={props.message.name}
		>
			<div class="chat-message__meta">
				<span class="chat-message__author" dir="auto">
					{props.own ? t("call.you", { name: props.message.name }) : props.message.name}
				</span>
				<time
					class="chat-message__time"
					data-testid="chat-time"
					dateTime={new Date(props.message.sentAt).toISOString()}
				>
					{formatTime(props.message.sentAt)}
				</time>
			</div>
			{/* dir="auto": a right-to-left message is laid out on its own, never reordering what is around it. */}
			<p class="chat-message__text" data-testid="chat-text" dir="auto">
				{props.message.text}
			</p>
		</li>
	);
}
