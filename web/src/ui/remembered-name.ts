import { readStored, storageKeys, writeStored } from "../storage.ts";

/** The display name last used on this device, to prefill name fields. */
export function rememberedName(): string {
	return readStored("local", storageKeys.name) ?? "";
}

export function rememberName(name: string): void {
	writeStored("local", storageKeys.name, name);
}
