/**
 * The text hygiene every edge runs (API names, SFU chat, web client): what is
 * stripped, what is kept, what is refused, and how length is counted.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { checkText, cleanText, limits, normalizeName, textLength, truncateText } from "@mindmeet/protocol";

const family = "\u{1F468}\u200D\u{1F469}\u200D\u{1F467}\u200D\u{1F466}"; // 👨‍👩‍👧‍👦
const brazil = "\u{1F1E7}\u{1F1F7}"; // 🇧🇷 (regional indicators)
const england = "\u{1F3F4}\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}"; // 🏴󠁧󠁢󠁥󠁮󠁧󠁿 (tag sequence)
const rainbowFlag = "\u{1F3F3}\uFE0F\u200D\u{1F308}"; // 🏳️‍🌈 (variation selector + ZWJ)
const thumbsDark = "\u{1F44D}\u{1F3FF}"; // skin tone modifier

/** Every code point of `text` as U+XXXX, so a failure shows what is invisible. */
const codes = (text: string) => Array.from(text, (c) => `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase()}`);

describe("bidi and control characters", () => {
	test('"Ana\\u202Egnp.exe" loses the override, as a name and in chat', () => {
		assert.equal(normalizeName("Ana\u202Egnp.exe"), "Anagnp.exe");
		assert.equal(cleanText("Ana\u202Egnp.exe", "chat"), "Anagnp.exe");
	});

	test("every bidi embedding, override and isolate is stripped from both fields", () => {
		for (const cp of [0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069]) {
			const c = String.fromCodePoint(cp);
			for (const field of ["name", "chat"] as const) {
				assert.deepEqual(codes(cleanText(`a${c}b${c}`, field)), codes("ab"), `U+${cp.toString(16)} in ${field}`);
			}
		}
	});

	test("every C0 and C1 control is stripped; names turn whitespace controls into one space", () => {
		for (let cp = 0; cp <= 0x9f; cp++) {
			if (cp > 0x1f && cp < 0x7f) continue;
			const c = String.fromCodePoint(cp);
			const name = normalizeName(`A${c}B`);
			const whitespace = /\s/.test(c);
			assert.equal(name, whitespace ? "A B" : "AB", `U+${cp.toString(16)} in a name`);
			const chat = cleanText(`A${c}B`, "chat");
			const expected = c === "\n" || c === "\r" ? "A\nB" : whitespace ? "A B" : "AB";
			assert.equal(chat, expected, `U+${cp.toString(16)} in chat`);
		}
	});

	test("chat with NUL, BEL and U+202E is cleaned, keeping its line breaks", () => {
		assert.equal(
			cleanText("oi\u0000 to\u0007dos\u202E\nlinha 2\r\nlinha 3\rfim\u2028x", "chat"),
			"oi todos\nlinha 2\nlinha 3\nfim\nx",
		);
		assert.equal(cleanText("a\tb", "chat"), "a b");
	});

	test("bidi marks: stripped from names (they hide look-alikes), kept in chat (RTL punctuation)", () => {
		assert.equal(normalizeName("Ana\u200E\u200F\u061C"), "Ana");
		assert.equal(cleanText("\u05E9\u05DC\u05D5\u05DD\u200F!", "chat"), "\u05E9\u05DC\u05D5\u05DD\u200F!");
	});

	test("invisible format characters are stripped", () => {
		const invisible = [0xad, 0x115f, 0x1160, 0x180e, 0x200b, 0x2060, 0x2064, 0x206a, 0x206f, 0x3164, 0xfeff, 0xffa0];
		for (const cp of invisible) {
			const c = String.fromCodePoint(cp);
			assert.equal(normalizeName(`An${c}a`), "Ana", `U+${cp.toString(16)} in a name`);
			assert.equal(cleanText(`An${c}a`, "chat"), "Ana", `U+${cp.toString(16)} in chat`);
		}
	});

	test("lone surrogates are stripped; paired ones (emoji) stay", () => {
		assert.equal(cleanText("a\uD800b\uDC00c", "chat"), "abc");
		assert.equal(cleanText("a\u{1F600}b", "chat"), "a\u{1F600}b");
	});

	test("tag characters are kept only inside a subdivision flag", () => {
		assert.equal(normalizeName("Ana\u{E0041}\u{E0042}"), "Ana");
		assert.equal(normalizeName(`Ana ${england}`), `Ana ${england}`);
		assert.equal(cleanText(`${england}\u{E0067}`, "chat"), england);
	});
});

describe("what is kept", () => {
	test("emoji sequences survive whole: family (ZWJ), flags, variation selector, skin tone", () => {
		for (const emoji of [family, brazil, england, rainbowFlag, thumbsDark]) {
			assert.deepEqual(codes(normalizeName(`Bia ${emoji}`)), codes(`Bia ${emoji}`));
			assert.deepEqual(codes(cleanText(`oi ${emoji}!`, "chat")), codes(`oi ${emoji}!`));
		}
	});

	test("zero-width non-joiner stays (Persian needs it)", () => {
		const persian = "\u0645\u06CC\u200C\u062E\u0648\u0627\u0647\u0645";
		assert.equal(normalizeName(persian), persian);
	});

	test("HTML is text, not touched", () => {
		assert.equal(cleanText("<b>oi</b> & tchau", "chat"), "<b>oi</b> & tchau");
	});

	test("NFC: a decomposed accent becomes one code point, also after a stripped character", () => {
		assert.equal(normalizeName("Jose\u0301"), "Jos\u00E9");
		assert.equal(cleanText("Jose\u200B\u0301", "chat"), "Jos\u00E9");
		assert.equal(checkText("Jose\u0301", "name").length, 4);
	});

	test("names collapse whitespace and trim, as before", () => {
		assert.equal(normalizeName("  Ana \t\n  Maria  "), "Ana Maria");
		assert.equal(normalizeName("\u00A0Ana\u3000Maria\u00A0"), "Ana Maria");
	});

	test("cleaning twice changes nothing (client and server both clean)", () => {
		const samples = ["Ana\u202Egnp.exe", " a\r\n\tb\u0000 ", `x${family}\u200B`, "Jose\u0301\u2028"];
		for (const field of ["name", "chat"] as const) {
			for (const raw of samples) {
				const once = cleanText(raw, field);
				assert.equal(cleanText(once, field), once);
			}
		}
	});
});

describe("refusals and length", () => {
	test("empty once cleaned is refused", () => {
		for (const raw of ["", "   ", "\u202E\u202C", "\u0000\u0007", "\u200B\u3164", "\n\t\r\n"]) {
			for (const field of ["name", "chat"] as const) {
				const checked = checkText(raw, field);
				assert.equal(checked.ok, false, JSON.stringify(raw));
				assert.equal(checked.ok ? undefined : checked.problem, "empty");
			}
		}
	});

	test("length is in code points after cleaning: an emoji counts one, stripped characters none", () => {
		assert.equal(textLength("\u{1F600}"), 1);
		assert.equal(textLength(family), 7, "a ZWJ sequence is its code points");
		const emojiName = "\u{1F600}".repeat(limits.nameMaxLength);
		assert.equal(emojiName.length, limits.nameMaxLength * 2);
		assert.deepEqual(checkText(emojiName, "name"), { ok: true, text: emojiName, length: limits.nameMaxLength });
		const padded = `${"a".repeat(limits.nameMaxLength)}${"\u202E".repeat(10)}`;
		assert.equal(checkText(padded, "name").ok, true);
	});

	test("one code point over the limit is refused, for each field", () => {
		const name = checkText("a".repeat(limits.nameMaxLength + 1), "name");
		assert.equal(name.ok ? undefined : name.problem, "too-long");
		const chat = checkText("\u{1F600}".repeat(limits.chatMaxLength + 1), "chat");
		assert.equal(chat.ok ? undefined : chat.problem, "too-long");
		assert.equal(checkText("\u{1F600}".repeat(limits.chatMaxLength), "chat").ok, true);
	});

	test("truncateText cuts by code points and never splits a pair", () => {
		assert.equal(truncateText("ab\u{1F600}cd", 3), "ab\u{1F600}");
		assert.equal(truncateText("\u{1F600}\u{1F600}", 1), "\u{1F600}");
		assert.equal(truncateText("abc", 5), "abc");
		assert.equal(textLength(truncateText("\u{1F600}".repeat(10), 4)), 4);
	});
});
