import { For, type JSX } from "solid-js";
import { type Locale, locale, locales, type MessageKey, setLocale, t } from "./index.ts";

/** Spelled out rather than built from the code, so every key can be found by reading the source. */
const languageNames: Record<Locale, MessageKey> = { "pt-BR": "language.pt-BR", en: "language.en" };

export function LanguagePicker(): JSX.Element {
	return (
		<label class="language-picker">
			<span class="visually-hidden">{t("language.label")}</span>
			<select class="language-picker__select" onChange={(event) => setLocale(event.currentTarget.value as Locale)}>
				<For each={locales}>
					{(code) => (
						<option value={code} selected={code === locale()}>
							{t(languageNames[code])}
						</option>
					)}
				</For>
			</select>
		</label>
	);
}
