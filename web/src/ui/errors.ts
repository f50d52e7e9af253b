import { ApiRequestError } from "../api/http.ts";
import { t } from "../i18n/index.ts";
import { showToast } from "./toasts.tsx";

/** Tell the person what failed: the API's own words when they are meant for people, else the generic sentence. */
export function toastError(error: unknown): void {
	if (error instanceof ApiRequestError && error.serverMessage) showToast(error.serverMessage);
	else showToast(t("error.generic"));
}
