/**
 * A browser that cannot be in a call is told so before anything is sent: no
 * WebRTC at all, or a browser mediasoup-client has no handler for (here an
 * old Firefox's identity on Chromium). The notice is on the pre-join screen
 * (in place of the knock) and on the home page (in place of creating a room),
 * in pt-BR and in English. A supported browser sees neither.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createRoom } from "@mindmeet/testing/flows";
import type { Page } from "playwright-core";
import { e2e } from "./harness.ts";

const meet = e2e();

/** Make the page look like a browser without WebRTC, before any of its scripts run. */
async function withoutWebRtc(page: Page): Promise<void> {
	await page.context().addInitScript(() => {
		for (const name of ["RTCPeerConnection", "webkitRTCPeerConnection"]) {
			Object.defineProperty(window, name, { value: undefined, configurable: true, writable: true });
		}
	});
}

/** Make the page look like Firefox 100, which has WebRTC but is older than any mediasoup-client handler. */
async function asOldFirefox(page: Page): Promise<void> {
	await page.context().addInitScript(() => {
		const userAgent = "Mozilla/5.0 (X11; Linux x86_64; rv:100.0) Gecko/20100101 Firefox/100.0";
		Object.defineProperty(Navigator.prototype, "userAgent", { get: () => userAgent, configurable: true });
		Object.defineProperty(Navigator.prototype, "userAgentData", { get: () => undefined, configurable: true });
	});
}

async function linkOfANewRoom(): Promise<string> {
	const host = await meet.person();
	return createRoom(host, meet.stack.url, "Ana");
}

test("no WebRTC: the pre-join screen says so in pt-BR and the knock button is off", async () => {
	const link = await linkOfANewRoom();
	const guest = await meet.person();
	await withoutWebRtc(guest);
	await guest.goto(link);
	const notice = guest.getByTestId("browser-unsupported");
	await notice.waitFor();
	assert.match((await notice.textContent()) ?? "", /não tem WebRTC/);
	assert.match((await notice.textContent()) ?? "", /Chrome, Edge, Firefox ou Safari/);
	await guest.getByTestId("prejoin-name").fill("Bia");
	assert.equal(await guest.getByTestId("knock").isDisabled(), true, "nothing can be sent");
});

test("a browser mediasoup-client has no handler for: told in English, on the pre-join screen and the home page", async () => {
	const link = await linkOfANewRoom();
	const guest = await meet.person({ locale: "en-US" });
	await asOldFirefox(guest);
	await guest.goto(link);
	const notice = guest.getByTestId("browser-unsupported");
	await notice.waitFor();
	assert.match((await notice.textContent()) ?? "", /This version of the browser does not work/);
	assert.equal(await guest.getByTestId("knock").isDisabled(), true);

	await guest.goto(meet.stack.url);
	await guest.getByTestId("browser-unsupported").waitFor();
	assert.equal(
		await guest.getByTestId("create-room").isDisabled(),
		true,
		"no room is created for a call that cannot work",
	);
});

test("a supported browser sees no notice and can knock", async () => {
	const link = await linkOfANewRoom();
	const guest = await meet.person();
	await guest.goto(link);
	await guest.getByTestId("prejoin-name").fill("Caio");
	// The form says when the check has run, and what it found.
	await guest.locator('form[data-browser-support="supported"]').waitFor();
	assert.equal(await guest.getByTestId("browser-unsupported").count(), 0);
	assert.equal(await guest.getByTestId("knock").isDisabled(), false);
});
