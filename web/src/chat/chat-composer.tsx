import { limits, truncateText } from "@mindmeet/protocol";
import Send from "lucide-solid/icons/send";
import { createUniqueId, type JSX, onMount } from "solid-js";
import { t } from "../i18n/index.ts";
import type { Chat } from "./chat-store.ts";

/** The message box: Enter sends, Shift+Enter breaks the line. */
export function ChatComposer(props: { chat: Chat }): JSX.Element {
	const inputId = createUniqueId();
	const hintId = createUniqueId();
	let input: HTMLTextAreaElement | undefined;

	// Ready to type when the panel opens, but only with a mouse or trackpad around: on a
	// touch screen focusing would pop the keyboard up over the messages the person came to read.
	onMount(() => {
		if (window.matchMedia("(pointer: fine)").matches) input?.focus();
	});

	const submit = (event: SubmitEvent) => {
		event.preventDefault();
		void props.chat.send();
	};

	const onKeyDown = (event: KeyboardEvent) => {
		// isComposing: Enter that confirms an IME composition (Japanese, Chinese…) is not "send".
		if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
		event.preventDefault();
		void props.chat.send();
	};

	// The limit is in code points, as the SFU counts it; the maxlength attribute would count
	// UTF-16 units and stop a message of emoji at half the length the server accepts.
	const onInput = (event: InputEvent & { currentTarget: HTMLTextAreaElement }) => {
		const field = event.currentTarget;
		const text = truncateText(field.value, limits.chatMaxLength);
		if (text !== field.value) field.value = text;
		props.chat.setDraft(text);
	};

	return (
		<form class="chat-composer" onSubmit={submit}>
			<label class="visually-hidden" for={inputId}>
				{t("chat.inputLabel")}
			</label>
			<textarea
				ref={input}
				id={inputId}
				class="input chat-composer__input"
				data-testid="chat-input"
				rows={1}
				placeholder={t("chat.placeholder")}
				aria-describedby={hintId}
				value={props.chat.draft()}
				onInput={onInput}
				onKeyDown={onKeyDown}
			/>
			<span id={hintId} class="visually-hidden">
				{t("chat.hint")}
			</span>
			<button
				type="submit"
				class="chat-composer__send"
				data-testid="chat-send"
				aria-label={t("chat.send")}
				title={t("chat.send")}
				disabled={!props.chat.canSend()}
			>
				<Send class="icon" aria-hidden="true" />
			</button>
		</form>
	);
}
