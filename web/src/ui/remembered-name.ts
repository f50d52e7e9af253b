import { limits, normalizeName, truncateText } from "@mindmeet/protocol";
import { t } from "../i18n/index.ts";
import { readStored, storageKeys, writeStored } from "../storage.ts";
import { showToast } from "./toasts.tsx";

/** The display name last used on this device, to prefill name fields. */
export function rememberedName(): string {
	return readStored("local", storageKeys.name) ?? "";
}

export function rememberName(name: string): void {
	writeStored("local", storageKeys.name, name);
}

/**
 * A typed name as the server will take it (the protocol's text hygiene: invisible and bidi
 * characters stripped, NFC, spaces collapsed, trimmed, at most nameMaxLength code points);
 * undefined, with a toast, when nothing is left.
 */
export function nameToSend(typed: string): string | undefined {
	const name = truncateText(normalizeName(typed), limits.nameMaxLength).trim();
	if (!name) showToast(t("form.nameRequired"));
	return name || undefined;
}

/**
 * What a name field keeps as the person types: at most nameMaxLength code
 * points, as the server counts (an input's maxlength counts UTF-16 units, so
 * a name of emoji would stop at half the length the server allows).
 */
export function nameInput(input: HTMLInputElement): string {
	const kept = truncateText(input.value, limits.nameMaxLength);
	if (kept !== input.value) input.value = kept;
	return kept;
}
