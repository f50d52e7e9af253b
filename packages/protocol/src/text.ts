/**
 * Text hygiene for everything a person types that others will read: display
 * names (room creation, knocks) and chat. The API, the SFU and the web client
 * all run the same function, so what the client sends is what the server
 * keeps, and both count its length the same way (code points after
 * cleaning).
 *
 * Policy: strip, then refuse. Invisible and layout-changing characters are
 * removed silently (pasted text often carries some, and refusing would
 * puzzle the person), the result is NFC-normalised, and only then is it
 * refused if nothing is left or it is too long. Nothing is HTML-escaped:
 * clients render text as text.
 *
 * Removed from names and chat:
 * - C0 controls (U+0000–U+001F), DEL and C1 controls (U+007F–U+009F). Chat
 *   keeps line breaks: CR LF, CR, U+2028 and U+2029 become "\n", and a tab,
 *   vertical tab or form feed becomes a space; names collapse every run of
 *   whitespace to one space.
 * - Bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069):
 *   `"Ana\u202Egnp.exe"` would otherwise show as "Anaexe.png".
 * - Invisible format characters with no place in a name or a chat line:
 *   soft hyphen, zero-width space, word joiner and invisible operators,
 *   deprecated format controls, the BOM, the Mongolian vowel separator,
 *   interlinear annotation marks, Hangul fillers (which render as blanks),
 *   noncharacters U+FFFE/U+FFFF, lone surrogates, and tag characters unless
 *   they spell a subdivision flag (🏴 + tags + cancel tag, e.g. England's).
 * - In names only, the bidi marks U+200E, U+200F and U+061C: invisible, so
 *   they make a name that looks like another person's. Chat keeps them:
 *   right-to-left writers use them to place punctuation, and unlike
 *   overrides they cannot reorder a run of letters.
 *
 * Kept: zero-width joiner and non-joiner (emoji sequences such as 👨‍👩‍👧, and
 * Persian and Indic scripts need them), variation selectors, combining marks.
 */
import { limits } from "./limits.ts";

/** The kinds of user text, each with its own rules and maximum length. */
export type TextField = "name" | "chat";

/** Why cleaned text is refused. */
export type TextProblem = "empty" | "too-long";

export type TextCheck =
	| { ok: true; text: string; length: number }
	| { ok: false; problem: TextProblem; text: string; length: number };

/** Maximum length of each field, in code points after cleaning. */
export function textMaxLength(field: TextField): number {
	return field === "name" ? limits.nameMaxLength : limits.chatMaxLength;
}

// Built from code point ranges so that no invisible character sits literally in this file.
const invisible = new RegExp(
	[
		"[\\u0000-\\u0008\\u000E-\\u001F\\u007F-\\u009F]", // controls other than whitespace (\t \n \v \f \r)
		"[\\u202A-\\u202E\\u2066-\\u2069]", // bidi embeddings, overrides, isolates
		"[\\u00AD\\u115F\\u1160\\u180E\\u200B\\u2060-\\u2064\\u206A-\\u206F\\u3164\\uFEFF\\uFFA0\\uFFF9-\\uFFFB\\uFFFE\\uFFFF]",
		"\\p{Cs}", // a lone surrogate (paired ones are one code point under the u flag)
	].join("|"),
	"gu",
);
/** Tag characters: kept only as the body of a subdivision flag (🏴 tag… cancel-tag). */
const tags = /(\u{1F3F4}[\u{E0020}-\u{E007E}]+\u{E007F})|[\u{E0000}-\u{E007F}]/gu;
const bidiMarks = /[\u200E\u200F\u061C]/g;
const lineBreaks = /\r\n?|[\u2028\u2029]/g;

/** The text with invisible and layout-changing characters removed, NFC-normalised and trimmed; may be empty. */
export function cleanText(raw: string, field: TextField): string {
	let text = raw.replace(invisible, "").replace(tags, (_, flag: string | undefined) => flag ?? "");
	if (field === "name") {
		text = text.replace(bidiMarks, "").replace(/\s+/g, " ");
	} else {
		text = text.replace(lineBreaks, "\n").replace(/[\t\v\f]/g, " ");
	}
	// Normalised after stripping, so a combining mark that followed a stripped character composes with its letter.
	return text.normalize("NFC").trim();
}

/** Length as people count it and as every limit is checked: code points, so an emoji is one, never two. */
export function textLength(text: string): number {
	let count = 0;
	for (const _ of text) count++;
	return count;
}

/** Clean `raw` (see cleanText) and check it is 1..textMaxLength(field) code points long. */
export function checkText(raw: string, field: TextField): TextCheck {
	const text = cleanText(raw, field);
	const length = textLength(text);
	if (length === 0) return { ok: false, problem: "empty", text, length };
	if (length > textMaxLength(field)) return { ok: false, problem: "too-long", text, length };
	return { ok: true, text, length };
}

/** The first `max` code points of `text` (never half of a surrogate pair). */
export function truncateText(text: string, max: number): string {
	if (text.length <= max) return text;
	let end = 0;
	let count = 0;
	for (const char of text) {
		if (count++ === max) break;
		end += char.length;
	}
	return text.slice(0, end);
}

/** A display name as it is stored and shown: cleaned, whitespace collapsed, trimmed; may be empty. */
export function normalizeName(raw: string): string {
	return cleanText(raw, "name");
}
