/**
 * Chat rules that do not depend on a room: what a valid message is, how fast
 * one peer may send, and how stored history is read back without trusting it.
 */
import { ChatMessage, checkText, limits, textLength } from "@mindmeet/protocol";
import { parseRecord } from "@mindmeet/protocol/records";
import { SignalingError } from "../signaling/errors.ts";

/**
 * The text as it will be stored and shown: cleaned by the protocol's text
 * hygiene (controls other than line breaks, bidi overrides and invisible
 * characters stripped, NFC, trimmed), the same function the web client runs
 * before sending. Clients render it as text, so no HTML escaping or stripping
 * happens here; doing it twice would show `&lt;` to readers. Length counts
 * code points, so an emoji is one character, as a person counting would say.
 */
export function chatText(raw: string): string {
	const checked = checkText(raw, "chat");
	if (checked.ok) return checked.text;
	if (checked.problem === "empty") throw new SignalingError("bad-request", "the message is empty");
	throw new SignalingError("bad-request", `the message is longer than ${limits.chatMaxLength} characters`);
}

/**
 * At most `max` accepted messages per peer id in any sliding window of
 * `windowMs`. Refused attempts do not count, so a peer that slows down gets
 * through again at once. Keyed by peer id, not by connection, so reconnecting
 * does not reset the budget.
 */
export class ChatRateLimiter {
	readonly #max: number;
	readonly #windowMs: number;
	/** Peer id → monotonic times of its accepted messages still inside the window. */
	readonly #sent = new Map<string, number[]>();

	constructor(max: number = limits.chatPerSecond, windowMs = 1000) {
		this.#max = max;
		this.#windowMs = windowMs;
	}

	/** Count one message from `peerId` now; false if that would exceed the limit. */
	take(peerId: string, now: number = performance.now()): boolean {
		// Forget what fell out of the window, for everyone: memory stays
		// bounded by the peers who sent something in the last window.
		for (const [id, times] of this.#sent) {
			while (times.length > 0 && (times[0] ?? 0) <= now - this.#windowMs) times.shift();
			if (times.length === 0) this.#sent.delete(id);
		}
		const times = this.#sent.get(peerId) ?? [];
		if (times.length >= this.#max) return false;
		times.push(now);
		this.#sent.set(peerId, times);
		return true;
	}
}

/**
 * One stored history entry, or undefined if it is not a well-formed message.
 * Redis is shared and outlives versions of this code, so a bad entry is
 * skipped rather than failing the join that reads it.
 */
export function parseStoredChatMessage(json: string): ChatMessage | undefined {
	const message = parseRecord(ChatMessage, json);
	// Nothing this SFU would not have accepted: it keeps every message small
	// enough that a history page always holds at least one (see chatPage).
	// The schema bounds the text in UTF-16 units; the limit is in characters.
	if (!message || textLength(message.text) > limits.chatMaxLength) return undefined;
	const { id, peerId, name, text, sentAt } = message;
	// Rebuilt field by field so nothing else stored alongside reaches clients.
	return { id, peerId, name, text, sentAt };
}

/** Bytes a message adds to a JSON array of messages (its JSON plus a separating comma). */
function jsonBytes(message: ChatMessage): number {
	return Buffer.byteLength(JSON.stringify(message), "utf8") + 1;
}

export interface ChatPage {
	/** Oldest first. */
	messages: ChatMessage[];
	/** Older messages than these are kept (ask with `chatHistory {before: messages[0].id}`). */
	more: boolean;
}

/**
 * The newest messages of `history` (oldest first) that come before index
 * `end`, as many as fit in one page: at most limits.chatHistoryPageMax
 * messages and limits.chatHistoryPageMaxBytes bytes of JSON for the array.
 * A stored message is at most chatMaxLength code points (≤ 8 KB of UTF-8,
 * ~8.3 KB as JSON; parseStoredChatMessage drops anything bigger), so a page
 * of 32 KiB always holds at least one and paging always makes progress.
 */
export function chatPage(history: readonly ChatMessage[], end: number = history.length): ChatPage {
	let start = Math.max(0, Math.min(end, history.length));
	const stop = start;
	let bytes = 2; // "[" and "]"
	while (start > 0 && stop - start < limits.chatHistoryPageMax) {
		const candidate = history[start - 1];
		if (candidate === undefined) break;
		const size = jsonBytes(candidate);
		if (bytes + size > limits.chatHistoryPageMaxBytes && stop - start > 0) break;
		bytes += size;
		start--;
	}
	return { messages: history.slice(start, stop), more: start > 0 };
}

/** History followed by the messages that arrived while it was being read, each once. */
export function mergeChat(history: ChatMessage[], later: ChatMessage[]): ChatMessage[] {
	const seen = new Set(history.map((message) => message.id));
	return [...history, ...later.filter((message) => !seen.has(message.id))];
}
