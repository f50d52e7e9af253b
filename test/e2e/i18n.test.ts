/**
 * Languages: the catalogues agree with each other and with the source, and
 * every screen renders in pt-BR and in English in real Chromium (browser
 * locale pt-BR / en-US) with the right `<html lang>` and no raw catalogue key
 * or unfilled placeholder on screen.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { before, test } from "node:test";
import { openChat, sendChat, waitForChatMessage } from "@mindmeet/testing/chat";
import { createRoom, knock, tile } from "@mindmeet/testing/flows";
import { type Catalogue, keyShape, loadCatalogues, message, rawTextOnPage, webSrcDir } from "@mindmeet/testing/i18n";
import type { Page } from "playwright-core";
import { e2e } from "./harness.ts";

let catalogues: { "pt-BR": Catalogue; en: Catalogue };

function placeholders(text: string): string[] {
	return [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1] ?? "").sort();
}

function sourceFiles(dir: string): string[] {
	return readdirSync(dir, { recursive: true, encoding: "utf8" })
		.filter((file) => /\.(ts|tsx)$/.test(file))
		.map((file) => join(dir, file));
}

interface KeyUse {
	file: string;
	key: string;
	/** For template literals: the key as a pattern with `${…}` parts as wildcards. */
	pattern?: RegExp;
}

/**
 * Every key the web client uses: the first argument of every `t(…)` call
 * (string or template literal), and every other string literal shaped like a
 * key of a namespace the catalogue has (keys passed around, e.g. returned by
 * a helper and then given to t()). Import specifiers are not keys.
 */
function keysUsedInSource(namespaces: Set<string>): KeyUse[] {
	const uses: KeyUse[] = [];
	for (const path of sourceFiles(webSrcDir)) {
		const file = relative(webSrcDir, path);
		if (file.startsWith("i18n/") && !file.endsWith(".tsx")) continue;
		const source = readFileSync(path, "utf8")
			.replace(/^\s*import\s[^;]*;/gm, "")
			.replace(/^\s*export\s[^;]*\sfrom\s[^;]*;/gm, "");
		for (const call of source.matchAll(/\bt\(\s*`([^`]*)`/g)) {
			const raw = call[1] ?? "";
			if (!raw.includes("${")) {
				uses.push({ file, key: raw });
				continue;
			}
			const pattern = new RegExp(
				`^${raw
					.split(/\$\{[^}]*\}/)
					.map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
					.join(".+")}$`,
			);
			uses.push({ file, key: raw, pattern });
		}
		for (const literal of source.matchAll(/(["'])((?:(?!\1)[^\\\n])+)\1/g)) {
			const text = literal[2] ?? "";
			if (keyShape.test(text) && namespaces.has(text.split(".")[0] ?? "")) uses.push({ file, key: text });
		}
	}
	return uses;
}

test("pt-BR and en have the same keys, no empty text, and the same placeholders", async () => {
	catalogues ??= await loadCatalogues();
	const pt = catalogues["pt-BR"];
	const en = catalogues.en;
	assert.ok(Object.keys(pt).length > 50, "the pt-BR catalogue was read");
	assert.deepEqual(Object.keys(en).sort(), Object.keys(pt).sort(), "identical key sets");
	for (const [name, catalogue] of Object.entries(catalogues)) {
		for (const [key, text] of Object.entries(catalogue)) {
			assert.equal(typeof text, "string", `${name} ${key} is text`);
			assert.ok(text.trim().length > 0, `${name} ${key} is not empty`);
		}
	}
	for (const key of Object.keys(pt)) {
		assert.deepEqual(placeholders(en[key] ?? ""), placeholders(pt[key] ?? ""), `placeholders of ${key}`);
	}
});

test("every key the web client uses exists in both catalogues", async () => {
	catalogues ??= await loadCatalogues();
	const pt = catalogues["pt-BR"];
	const en = catalogues.en;
	const namespaces = new Set(Object.keys(pt).map((key) => key.split(".")[0] ?? ""));
	const uses = keysUsedInSource(namespaces);
	assert.ok(uses.length > 40, `the scan found the t() calls (${uses.length})`);
	const missing: string[] = [];
	for (const use of uses) {
		for (const [name, catalogue] of [
			["pt-BR", pt],
			["en", en],
		] as const) {
			const ok = use.pattern
				? Object.keys(catalogue).some((key) => use.pattern?.test(key))
				: Object.hasOwn(catalogue, use.key);
			if (!ok) missing.push(`${use.key} (web/src/${use.file}) missing in ${name}`);
		}
	}
	assert.deepEqual([...new Set(missing)], [], "keys used but not in the catalogues");
});

// ---- The screens in Chromium, in both languages ----

const meet = e2e();
const person = (locale: string) => meet.person({ locale });

before(async () => {
	catalogues ??= await loadCatalogues();
});

async function checkScreen(page: Page, screen: string, lang: string, expected: string[]): Promise<void> {
	const keys = Object.keys(catalogues["pt-BR"]);
	for (const text of expected) {
		await page
			.getByText(text, { exact: false })
			.first()
			.waitFor({ timeout: 30_000 })
			.catch(() => assert.fail(`${screen} (${lang}): "${text}" is not on screen`));
	}
	assert.equal(await page.evaluate(() => document.documentElement.lang), lang, `${screen}: <html lang>`);
	assert.deepEqual(await rawTextOnPage(page, keys), [], `${screen} (${lang}): raw keys or placeholders on screen`);
}

for (const [browserLocale, lang] of [
	["pt-BR", "pt-BR"],
	["en-US", "en"],
] as const) {
	test(`every screen in ${lang} with the browser in ${browserLocale}`, { timeout: 300_000 }, async () => {
		const catalogue = lang === "pt-BR" ? catalogues["pt-BR"] : catalogues.en;
		const m = (key: string, params?: Record<string, string>) => message(catalogue, key, params);
		const host = await person(browserLocale);
		const guest = await person(browserLocale);
		const stranger = await person(browserLocale);

		await host.goto(meet.stack.url);
		await checkScreen(host, "home", lang, [m("home.create.title"), m("home.join.title")]);

		await stranger.goto(`${meet.stack.url}/nada/por/aqui`);
		await checkScreen(stranger, "not-found page", lang, [m("page.notFound")]);
		await stranger.goto(`${meet.stack.url}/r/zzzzzzzzzz`);
		await checkScreen(stranger, "unknown room", lang, [m("room.notFound")]);

		const link = await createRoom(host, meet.stack.url, "Ana");
		await host.getByTestId("alone-panel").waitFor();
		await checkScreen(host, "alone panel", lang, [m("invite.alone")]);

		await guest.goto(link);
		await guest.getByTestId("knock").waitFor();
		await checkScreen(guest, "pre-join", lang, [m("prejoin.knock")]);

		await knock(guest, link, "Bia");
		await checkScreen(guest, "waiting", lang, [m("waiting.title")]);
		await host.getByTestId("knock-modal").waitFor();
		await checkScreen(host, "knock modal", lang, [m("knock.question", { name: "Bia" })]);

		await host.getByTestId("knock-modal").getByTestId("admit").click();
		await tile(guest, "Ana").waitFor();
		await tile(host, "Bia").waitFor();
		await checkScreen(guest, "call", lang, [m("call.you", { name: "Bia" })]);

		await openChat(host);
		await sendChat(host, "oi");
		await waitForChatMessage(host, "oi");
		await checkScreen(host, "call with chat open", lang, [m("call.you", { name: "Ana" })]);
	});
}

test("the language can be switched on the page and the choice is remembered", { timeout: 300_000 }, async () => {
	const pt = catalogues["pt-BR"];
	const en = catalogues.en;
	const page = await person("pt-BR");
	await page.goto(meet.stack.url);
	await page.getByText(message(pt, "home.create.title")).first().waitFor();
	assert.equal(await page.evaluate(() => document.documentElement.lang), "pt-BR");

	await page.getByRole("combobox", { name: message(pt, "language.label") }).selectOption("en");
	await page.getByText(message(en, "home.create.title")).first().waitFor();
	assert.equal(await page.evaluate(() => document.documentElement.lang), "en");

	await page.reload();
	await page.getByText(message(en, "home.create.title")).first().waitFor();
	assert.equal(await page.evaluate(() => document.documentElement.lang), "en", "the choice outlives a reload");
	assert.deepEqual(await rawTextOnPage(page, Object.keys(pt)), []);
});
