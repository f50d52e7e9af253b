import { limits } from "@mindmeet/protocol";
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
				maxLength={limits.chatMaxLength}
				placeholder={t("chat.placeholder")}
				aria-describedby={hintId}
				value={props.chat.draft()}
				onInput={(event) => props.chat.setDraft(event.currentTarget.value)}
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
