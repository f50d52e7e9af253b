import { normalizeName } from "@mindmeet/protocol";
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

/** A typed name as the server will take it (trimmed, spaces collapsed); undefined, with a toast, when nothing is left. */
export function nameToSend(typed: string): string | undefined {
	const name = normalizeName(typed);
	if (!name) showToast(t("form.nameRequired"));
	return name || undefined;
}
