import type { JSX } from "solid-js";

/** Up to two letters: first and last word, so "Ana Maria Souza" is "AS". */
export function initials(name: string): string {
	const words = name.trim().split(/\s+/).filter(Boolean);
	const first = Array.from(words[0] ?? "")[0] ?? "?";
	const last = words.length > 1 ? (Array.from(words[words.length - 1] ?? "")[0] ?? "") : "";
	return (first + last).toLocaleUpperCase();
}

/** A stable hue per name, so the same person keeps the same colour. */
function hueOf(name: string): number {
	let hash = 0;
	for (const char of name) hash = (hash * 31 + (char.codePointAt(0) ?? 0)) % 360;
	return hash;
}

export function Avatar(props: { name: string }): JSX.Element {
	return (
		<span class="avatar" style={{ "--avatar-hue": String(hueOf(props.name)) }} aria-hidden="true">
			{initials(props.name)}
		</span>
	);
}
