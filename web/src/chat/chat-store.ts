import { type ChatMessage, checkText } from "@mindmeet/protocol";
import { type Accessor, createEffect, createSignal } from "solid-js";
import { t } from "../i18n/index.ts";
import { playSound } from "../ui/sounds.ts";
import { showToast } from "../ui/toasts.tsx";

/** The call's chat as the screen uses it; one per call screen, so the draft and unread count outlive the panel. */
export interface Chat {
	/** Oldest first, each id once. */
	messages: Accessor<readonly ChatMessage[]>;
	/** Messages from others that arrived while the panel was closed. */
	unread: Accessor<number>;
	draft: Accessor<string>;
	setDraft: (text: string) => void;
	/** Whether the draft has something to send once cleaned (not only spaces, line breaks or invisible characters). */
	canSend: Accessor<boolean>;
	isOwn: (message: ChatMessage) => boolean;
	/** Whether older messages than the first shown can be asked for (join said `chatMore`). */
	hasOlder: Accessor<boolean>;
	/** Whether a page of older messages is on its way. */
	loadingOlder: Accessor<boolean>;
	/**
	 * Feed from the session (CallSessionOptions.onChat); `more` (with a
	 * history) says older messages can be asked for. `older` is a page asked
	 * for with loadOlder: it goes on top, quietly.
	 */
	receive: (messages: readonly ChatMessage[], origin: "history" | "live" | "older", more?: boolean) => void;
	/** Ask for the page before the oldest message shown and put it on top. */
	loadOlder: () => Promise<void>;
	/** Send the draft. Failures are told to the person here; the draft comes back so nothing typed is lost. */
	send: () => Promise<void>;
}

/** Pages fetched at most to fill the gap a long absence left (the room keeps 200 messages; a page is up to 50). */
const maxGapPages = 4;
/** A long call must not grow the page without end; older messages drop off the top. */
const maxKept = 1000;
/** How much of a message the "new message" toast shows. */
const previewLength = 60;

/** The start of a message on one line, cut by characters (not UTF-16 units, so no emoji is split). */
export function preview(text: string): string {
	const flat = text.replace(/\s+/g, " ").trim();
	const chars = Array.from(flat);
	return chars.length > previewLength ? `${chars.slice(0, previewLength).join("")}…` : flat;
}

/** The SFU's error reasons start with its SignalingErrorCode. */
function isRateLimited(error: unknown): boolean {
	return error instanceof Error && error.message.startsWith("rate-limited");
}

export function createChat(options: {
	selfId: Accessor<string | undefined>;
	isOpen: Accessor<boolean>;
	post: (text: string) => Promise<ChatMessage>;
	/** One page of messages older than `before` (the chatHistory request). */
	loadOlder: (before: string) => Promise<{ messages: ChatMessage[]; more: boolean }>;
}): Chat {
	const [messages, setMessages] = createSignal<readonly ChatMessage[]>([]);
	const [unread, setUnread] = createSignal(0);
	const [draft, setDraft] = createSignal("");
	const [hasOlder, setHasOlder] = createSignal(false);
	const [loadingOlder, setLoadingOlder] = createSignal(false);
	/** The first history is what was said before we came: old news, not unread. */
	let historySeen = false;

	const isOwn = (message: ChatMessage) => message.peerId === options.selfId();

	createEffect(() => {
		if (options.isOpen()) setUnread(0);
	});

	/**
	 * A rejoin's page starts after a gap when more was said while we were
	 * away than one page holds: fetch the pages before it until one reaches
	 * a message we have (bounded: the room keeps 200 messages, 4 pages).
	 */
	const fillGap = async (before: string) => {
		for (let page = 0; page < maxGapPages; page++) {
			const known = new Set(messages().map((message) => message.id));
			let older: { messages: ChatMessage[]; more: boolean };
			try {
				older = await options.loadOlder(before);
			} catch {
				return;
			}
			receive(older.messages, "gap");
			const first = older.messages[0];
			if (!older.more || !first || older.messages.some((message) => known.has(message.id))) return;
			before = first.id;
		}
	};

	const receive = (incoming: readonly ChatMessage[], origin: "history" | "live" | "older" | "gap", more?: boolean) => {
		// Only the first history says whether there is more before it: a rejoin's page starts
		// later than what may have been loaded on top already.
		if (origin === "history" && !historySeen) setHasOlder(more === true);
		const known = new Set(messages().map((message) => message.id));
		const rejoinPage = origin === "history" && historySeen;
		const pageStart = incoming[0];
		if (rejoinPage && more === true && pageStart && !known.has(pageStart.id)) {
			void fillGap(pageStart.id);
		}
		const fresh: ChatMessage[] = [];
		for (const message of incoming) {
			if (known.has(message.id)) continue;
			known.add(message.id);
			fresh.push(message);
		}
		const firstHistory = origin === "history" && !historySeen;
		if (origin === "history") historySeen = true;
		if (fresh.length === 0) return;

		// Server time orders them; a message can overtake another between the SFU and us.
		const merged = [...messages(), ...fresh].sort((a, b) => a.sentAt - b.sentAt);
		setMessages(merged.length > maxKept ? merged.slice(-maxKept) : merged);
		// Older pages were said before we came: not unread, no sound.
		if (origin === "older") return;

		const fromOthers = fresh.filter((message) => !isOwn(message));
		if (firstHistory || fromOthers.length === 0) return;
		if (!options.isOpen()) setUnread((count) => count + fromOthers.length);
		// History after a reconnect fills the gap quietly: the badge counts it, no burst of toasts.
		if (origin !== "live") return;
		playSound("message");
		if (options.isOpen()) return;
		for (const message of fromOthers) {
			showToast(t("chat.newMessage", { name: message.name, text: preview(message.text) }));
		}
	};

	const send = async () => {
		const text = draft();
		// Cleaned here exactly as the SFU will (same function): what is sent is what others see.
		const checked = checkText(text, "chat");
		if (!checked.ok) return;
		// Cleared at once so the next message can be typed while this one travels.
		setDraft("");
		try {
			receive([await options.post(checked.text)], "live");
		} catch (error) {
			if (!draft()) setDraft(text);
			showToast(t(isRateLimited(error) ? "chat.rateLimited" : "error.generic"));
		}
	};

	const loadOlder = async () => {
		const oldest = messages()[0];
		if (!oldest || loadingOlder() || !hasOlder()) return;
		setLoadingOlder(true);
		try {
			const page = await options.loadOlder(oldest.id);
			receive(page.messages, "older");
			setHasOlder(page.more && page.messages.length > 0 && messages().length < maxKept);
		} catch {
			showToast(t("error.generic"));
		} finally {
			setLoadingOlder(false);
		}
	};

	return {
		messages,
		hasOlder,
		loadingOlder,
		loadOlder,
		unread,
		draft,
		setDraft,
		canSend: () => checkText(draft(), "chat").ok,
		isOwn,
		receive,
		send,
	};
}
