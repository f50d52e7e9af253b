/**
 * The web client's message catalogues, loaded from its sources at run time
 * (they are plain TS objects; Node strips the types), so tests can use the
 * real copy instead of repeating it.
 */
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Page } from "playwright-core";

export type Catalogue = Readonly<Record<string, string>>;

export const i18nDir = fileURLToPath(new URL("../../web/src/i18n/", import.meta.url));
export const webSrcDir = fileURLToPath(new URL("../../web/src/", import.meta.url));

/** The path is computed so the type checker does not pull the web project into the importer's. */
async function importCatalogue(file: string, exportName: string): Promise<Catalogue> {
	const module = (await import(pathToFileURL(join(i18nDir, file)).href)) as Record<string, unknown>;
	const catalogue = module[exportName];
	if (typeof catalogue !== "object" || catalogue === null) {
		throw new Error(`web/src/i18n/${file} does not export a catalogue named ${exportName}`);
	}
	return catalogue as Catalogue;
}

export async function loadCatalogues(): Promise<{ "pt-BR": Catalogue; en: Catalogue }> {
	return { "pt-BR": await importCatalogue("pt-BR.ts", "ptBR"), en: await importCatalogue("en.ts", "en") };
}

/** Fill `{name}` placeholders the way the web client's t() does. */
export function fill(template: string, params: Record<string, string> = {}): string {
	return template.replace(/\{(\w+)\}/g, (whole, name: string) => params[name] ?? whole);
}

/** `catalogue[key]` or a clear failure naming the key. */
export function message(catalogue: Catalogue, key: string, params?: Record<string, string>): string {
	const text = catalogue[key];
	if (text === undefined) throw new Error(`catalogue has no key ${JSON.stringify(key)}`);
	return fill(text, params);
}

/** A string shaped like a catalogue key: `namespace.rest`, e.g. "chat.send" or "language.pt-BR". */
export const keyShape = /^[a-z][a-zA-Z]*(\.[a-zA-Z0-9-]+)+$/;

/** Text on the page (visible text nodes and the labels people or screen readers meet) that is a raw key or has an unfilled placeholder. */
export async function rawTextOnPage(page: Page, keys: string[]): Promise<string[]> {
	return page.evaluate(
		([keyList, shape]) => {
			const known = new Set(keyList);
			const keyLike = new RegExp(shape);
			const bad = (text: string | null | undefined) => {
				const value = (text ?? "").trim();
				return value !== "" && (known.has(value) || keyLike.test(value) || /\{\w+\}/.test(value));
			};
			const found: string[] = [];
			if (bad(document.title)) found.push(`<title> ${document.title}`);
			const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
			for (let node = walker.nextNode(); node; node = walker.nextNode()) {
				const parent = node.parentElement;
				if (!parent || parent.closest("script, style")) continue;
				if (!parent.checkVisibility()) continue;
				if (bad(node.textContent)) found.push(`text "${node.textContent?.trim()}" in <${parent.localName}>`);
			}
			for (const element of Array.from(document.querySelectorAll("[aria-label], [placeholder], [title], [alt]"))) {
				for (const attribute of ["aria-label", "placeholder", "title", "alt"]) {
					const value = element.getAttribute(attribute);
					if (bad(value)) found.push(`${attribute}="${value}" on <${element.localName}>`);
				}
			}
			return found;
		},
		[keys, keyShape.source] as const,
	);
}
