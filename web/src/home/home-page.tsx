import type { JSX } from "solid-js";
import { t } from "../i18n/index.ts";
import { LanguagePicker } from "../i18n/language-picker.tsx";
import { CreateRoomForm } from "./create-room-form.tsx";
import { JoinRoomForm } from "./join-room-form.tsx";
import "./home.css";

export function HomePage(): JSX.Element {
	return (
		<div class="home">
			<header class="home__header">
				<span class="brand">{t("app.name")}</span>
				<LanguagePicker />
			</header>
			<main class="home__main">
				<h1 class="home__tagline">{t("app.tagline")}</h1>
				<div class="home__cards">
					<CreateRoomForm />
					<JoinRoomForm />
				</div>
			</main>
		</div>
	);
}
