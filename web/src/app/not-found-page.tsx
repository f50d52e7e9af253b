import type { JSX } from "solid-js";
import { t } from "../i18n/index.ts";
import { MessagePage } from "../ui/message-page.tsx";

export function NotFoundPage(): JSX.Element {
	return <MessagePage message={t("page.notFound")} />;
}
