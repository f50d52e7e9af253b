import { detectDeviceAsync } from "mediasoup-client";
import { createResource, type JSX, Show } from "solid-js";
import { t } from "../i18n/index.ts";

/**
 * Whether this browser can be in a call: `no-webrtc` when it has no
 * RTCPeerConnection or no camera/microphone API at all (an old or locked-down
 * browser, an in-app web view); `unsupported` when mediasoup-client has no
 * handler for it (too old a Chrome, Firefox or Safari, or an engine it does
 * not know). Saying so before the knock is better than a call that never
 * connects.
 */
export type BrowserSupport = "supported" | "no-webrtc" | "unsupported";

export async function browserSupport(): Promise<BrowserSupport> {
	if (typeof RTCPeerConnection === "undefined" || typeof navigator.mediaDevices?.getUserMedia !== "function") {
		return "no-webrtc";
	}
	try {
		return (await detectDeviceAsync()) ? "supported" : "unsupported";
	} catch {
		return "unsupported";
	}
}

/** The check, run once per screen; `blocked()` is true only once it is known that calls cannot work here. */
export function createBrowserSupport(): { support: () => BrowserSupport | undefined; blocked: () => boolean } {
	const [support] = createResource(browserSupport);
	return { support: () => support(), blocked: () => (support() ?? "supported") !== "supported" };
}

/** The explanation shown in place of a call that could not work, with what to do instead. */
export function BrowserSupportNotice(props: { support: BrowserSupport | undefined }): JSX.Element {
	return (
		<Show when={props.support !== undefined && props.support !== "supported"}>
			<div class="notice" role="alert" data-testid="browser-unsupported">
				<p>{props.support === "no-webrtc" ? t("browser.noWebrtc") : t("browser.unsupported")}</p>
				<p>{t("browser.whatToUse")}</p>
			</div>
		</Show>
	);
}
