import MessageSquare from "lucide-solid/icons/message-square";
import { type JSX, Show } from "solid-js";
import { t } from "../i18n/index.ts";
import { shortcutAria, withShortcut } from "../ui/shortcuts.ts";
import "./chat.css";

/** Past this the badge stops counting; the exact number is in the button's label. */
const badgeMax = 99;

/** The control bar's chat button, with the number of messages that came while the panel was closed. */
export function ChatToggle(props: { open: boolean; unread: number; onToggle: () => void }): JSX.Element {
	const label = () => (props.unread > 0 ? t("chat.openUnread", { count: String(props.unread) }) : t("chat.open"));
	return (
		<button
			type="button"
			class="round-button chat-toggle"
			classList={{ "round-button--active": props.open }}
			data-testid="chat-toggle"
			aria-label={label()}
			title={withShortcut(t("chat.open"), "chat")}
			aria-keyshortcuts={shortcutAria("chat")}
			aria-expanded={props.open}
			onClick={() => props.onToggle()}
		>
			<MessageSquare class="icon" aria-hidden="true" />
			<Show when={props.unread > 0}>
				<span class="chat-toggle__badge" data-testid="chat-unread" aria-hidden="true">
					{props.unread > badgeMax ? `${badgeMax}+` : String(props.unread)}
				</span>
			</Show>
		</button>
	);
}
