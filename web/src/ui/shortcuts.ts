/**
 * Keyboard shortcuts of the call. The combinations follow what people know
 * from other meeting apps (⌘/Ctrl+D microphone, ⌘/Ctrl+E camera) and are
 * chosen not to clash with typing: every one needs a modifier, and none fires
 * while focus is in a text field, so the chat box and name fields keep all
 * their keys.
 */
import { createEffect, onCleanup } from "solid-js";
import { t } from "../i18n/index.ts";

export type ShortcutName = "mic" | "cam" | "chat";

interface Combo {
	/** A lowercase letter. */
	letter: string;
	meta?: boolean;
	ctrl?: boolean;
	alt?: boolean;
}

function isApple(): boolean {
	const nav = navigator as Navigator & { userAgentData?: { platform?: string } };
	return /mac|iphone|ipad|ipod/i.test(nav.userAgentData?.platform ?? navigator.platform ?? "");
}

const apple = isApple();

/**
 * ⌘ where Apple users expect it, Ctrl elsewhere. Chat avoids Ctrl+Option on
 * Apple machines because VoiceOver owns that pair.
 */
const combos: Record<ShortcutName, Combo> = apple
	? {
			mic: { letter: "d", meta: true },
			cam: { letter: "e", meta: true },
			chat: { letter: "c", meta: true, ctrl: true },
		}
	: {
			mic: { letter: "d", ctrl: true },
			cam: { letter: "e", ctrl: true },
			chat: { letter: "c", ctrl: true, alt: true },
		};

/**
 * The letter a key press stands for. The printed letter wins (so Dvorak users
 * press the key labelled D); the physical key is the fallback for when a
 * modifier turned the letter into a symbol (Option+C gives "ç" on a Mac).
 */
function letterOf(event: KeyboardEvent): string | undefined {
	const key = event.key.toLowerCase();
	if (/^[a-z]$/.test(key)) return key;
	const code = /^Key([A-Z])$/.exec(event.code);
	return code?.[1]?.toLowerCase();
}

function matches(event: KeyboardEvent, combo: Combo): boolean {
	return (
		letterOf(event) === combo.letter &&
		event.metaKey === Boolean(combo.meta) &&
		event.ctrlKey === Boolean(combo.ctrl) &&
		event.altKey === Boolean(combo.alt) &&
		!event.shiftKey
	);
}

const textInputTypes = new Set(["text", "search", "url", "email", "tel", "password", "number"]);

/** Typing somewhere: the keys belong to that field, not to us. */
function isTyping(target: EventTarget | null): boolean {
	if (!(target instanceof HTMLElement)) return false;
	if (target.isContentEditable || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) {
		return true;
	}
	return target instanceof HTMLInputElement && textInputTypes.has(target.type);
}

/** For aria-keyshortcuts: the combination in the WAI-ARIA spelling (e.g. "Control+Alt+C"). */
export function shortcutAria(name: ShortcutName): string {
	const combo = combos[name];
	const parts = [combo.ctrl && "Control", combo.alt && "Alt", combo.meta && "Meta", combo.letter.toUpperCase()];
	return parts.filter(Boolean).join("+");
}

/** How the combination is printed on this platform's keyboards (key names, not words, so not translated). */
export function shortcutKeys(name: ShortcutName): string {
	const combo = combos[name];
	if (apple) {
		return [combo.ctrl && "⌃", combo.alt && "⌥", combo.meta && "⌘", combo.letter.toUpperCase()]
			.filter(Boolean)
			.join("");
	}
	return [combo.ctrl && "Ctrl", combo.alt && "Alt", combo.meta && "Meta", combo.letter.toUpperCase()]
		.filter(Boolean)
		.join("+");
}

/** A button's label with its shortcut, for the tooltip: "Microfone (Ctrl+D)". */
export function withShortcut(label: string, name: ShortcutName): string {
	return t("shortcut.hint", { label, keys: shortcutKeys(name) });
}

/**
 * Listen for the shortcuts while the calling component lives. Handlers are
 * read at key time, so they may depend on reactive state.
 */
export function useShortcuts(handlers: Partial<Record<ShortcutName, () => void>>): void {
	createEffect(() => {
		const onKeyDown = (event: KeyboardEvent) => {
			if (event.defaultPrevented || event.isComposing || isTyping(event.target)) return;
			for (const [name, handler] of Object.entries(handlers) as [ShortcutName, (() => void) | undefined][]) {
				if (!handler || !matches(event, combos[name])) continue;
				// The browser's own meaning (bookmark, search bar) would pull the person out of the call.
				event.preventDefault();
				// Holding the keys down must not flip the switch back and forth.
				if (!event.repeat) handler();
				return;
			}
		};
		document.addEventListener("keydown", onKeyDown);
		onCleanup(() => document.removeEventListener("keydown", onKeyDown));
	});
}
