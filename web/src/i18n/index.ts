import { createSignal } from "solid-js";
import { readStored, storageKeys, writeStored } from "../storage.ts";
import { en } from "./en.ts";
import { type MessageKey, messageKeys, ptBR } from "./pt-BR.ts";

export type { MessageKey };
export { messageKeys };

/** Exported for tests that check both languages; the app reads them only through t(). */
export const catalogues = { "pt-BR": ptBR, en } satisfies Record<string, Record<MessageKey, string>>;

export type Locale = keyof typeof catalogues;
export const locales = Object.keys(catalogues) as Locale[];

function isLocale(value: unknown): value is Locale {
	return typeof value === "string" && Object.hasOwn(catalogues, value);
}

/** A remembered choice wins; otherwise the browser's first language decides (pt* → pt-BR). */
function initialLocale(): Locale {
	const stored = readStored("local", storageKeys.language);
	if (isLocale(stored)) return stored;
	const first = navigator.languages?.[0] ?? navigator.language ?? "";
	return first.toLowerCase().startsWith("pt") ? "pt-BR" : "en";
}

const [locale, setLocaleSignal] = createSignal<Locale>(initialLocale());

export { locale };

export function setLocale(next: Locale): void {
	writeStored("local", storageKeys.language, next);
	setLocaleSignal(next);
}

/** Message in the current language; `{name}` placeholders are filled from `params`. */
export function t(key: MessageKey, params?: Record<string, string>): string {
	const text = catalogues[locale()][key];
	if (!params) return text;
	return text.replace(/\{(\w+)\}/g, (whole, name: string) => params[name] ?? whole);
}
