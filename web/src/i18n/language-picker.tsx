import { For, type JSX } from "solid-js";
import { type Locale, locale, locales, setLocale, t } from "./index.ts";

export function LanguagePicker(): JSX.Element {
	return (
		<label class="language-picker">
			<span class="visually-hidden">{t("language.label")}</span>
			<select class="language-picker__select" onChange={(event) => setLocale(event.currentTarget.value as Locale)}>
				<For each={locales}>
					{(code) => (
						<option value={code} selected={code === locale()}>
							{t(`language.${code}`)}
						</option>
					)}
				</For>
			</select>
		</label>
	);
}
