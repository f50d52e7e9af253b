import { createEffect, type JSX, Match, Switch } from "solid-js";
import { HomePage } from "../home/home-page.tsx";
import { locale, t } from "../i18n/index.ts";
import { RoomPage } from "../room/room-page.tsx";
import { Toasts } from "../ui/toasts.tsx";
import { NotFoundPage } from "./not-found-page.tsx";
import { currentRoute, useHistory } from "./router.tsx";

export function App(): JSX.Element {
	useHistory();

	createEffect(() => {
		document.documentElement.lang = locale();
		document.title = t("app.name");
	});

	const roomId = () => {
		const route = currentRoute();
		return route.name === "room" ? route.roomId : undefined;
	};

	return (
		<>
			<Switch fallback={<NotFoundPage />}>
				<Match when={currentRoute().name === "home"}>
					<HomePage />
				</Match>
				{/* Keyed: another room id is a different room page, with nothing carried over. */}
				<Match when={roomId()} keyed>
					{(id) => <RoomPage roomId={id} />}
				</Match>
			</Switch>
			<Toasts />
		</>
	);
}
