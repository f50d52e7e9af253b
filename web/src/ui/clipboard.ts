/**
 * Copy text for the person. The async Clipboard API needs a secure context and
 * may be refused; the old execCommand path covers plain-http LAN setups.
 * `fallbackField` is selected either way, so if both fail the person only has
 * to press Ctrl+C (or use the menu) themselves. Resolves to whether it worked.
 */
export async function copyText(text: string, fallbackField?: HTMLInputElement): Promise<boolean> {
	try {
		await navigator.clipboard.writeText(text);
		return true;
	} catch {
		// Fall through to selecting the text.
	}
	if (!fallbackField) return false;
	fallbackField.focus();
	fallbackField.select();
	try {
		return document.execCommand("copy");
	} catch {
		return false;
	}
}
