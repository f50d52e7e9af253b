/**
 * Network drops (issue 8): every packet to or from the API's port (pages,
 * signaling through the proxy, the host's lobby socket) and the SFU's media
 * ports (UDP and TCP) is dropped on loopback with nftables — a silent
 * network, as when Wi-Fi goes away, not a closed socket. Chromium's own
 * control channel (a pipe) is not affected.
 *
 * 10 s: "Reconectando…", then the call is back without a click, one tile
 * per person. 60 s: the client gives up ("Você foi desconectado da sala")
 * and offers to join again; once the network is back that button brings the
 * person back with the credentials they still hold, without knocking.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { type CutPorts, cutNetwork, cutNetworkFor } from "@mindmeet/testing/faults";
import { tile } from "@mindmeet/testing/flows";
import { type Catalogue, loadCatalogues } from "@mindmeet/testing/i18n";
import { oneTileEach, rejoinButton, remoteVideoAdvancing, startCall } from "@mindmeet/testing/recovery";
import { recordToasts } from "@mindmeet/testing/watch";
import type { Page } from "playwright-core";
import { e2e } from "./harness.ts";

// Both people drop at once, so the room empties for a while during the long
// cut: its grace period must outlast it for "join again" to find the room.
const meet = e2e({ env: { ROOM_GRACE_SECONDS: "300" } });
const person = () => meet.person();
let pt: Catalogue;

before(async () => {
	pt = (await loadCatalogues())["pt-BR"];
});

function everyPort(): CutPorts {
	const rtc = meet.stack.rtcPorts;
	assert.ok(rtc.length > 0, "the harness gives the SFU fixed media ports");
	return { tcp: [meet.stack.apiPort, ...rtc], udp: [...rtc] };
}

const text = (key: string) => {
	const value = pt[key];
	assert.ok(value, `the catalogue has ${key}`);
	return value;
};

test("a 10 s network drop: 'Reconectando…', then the call is back without a click, one tile per person", {
	timeout: 300_000,
}, async () => {
	const host = await person();
	const guest = await person();
	await startCall(host, "Ana", guest, "Bia", meet.stack.url);
	const hostToasts = await recordToasts(host);
	const guestToasts = await recordToasts(guest);

	await cutNetworkFor(everyPort(), 10_000);

	await Promise.all([remoteVideoAdvancing(host, "Bia"), remoteVideoAdvancing(guest, "Ana")]);
	await oneTileEach(host, ["Ana", "Bia"]);
	await oneTileEach(guest, ["Ana", "Bia"]);
	for (const [who, toasts] of [
		["host", hostToasts],
		["guest", guestToasts],
	] as const) {
		const shown = await toasts.texts();
		assert.ok(
			shown.some((toast) => toast.includes(text("call.reconnecting"))),
			`the ${who} was shown "${text("call.reconnecting")}"; toasts: ${JSON.stringify(shown)}`,
		);
		assert.ok(
			!shown.some((toast) => toast.includes(text("call.disconnected"))),
			`the ${who} was not told the call was lost; toasts: ${JSON.stringify(shown)}`,
		);
	}
	for (const page of [host, guest]) assert.equal(await rejoinButton(page, text("call.rejoin")).count(), 0);
});

/** Wait (while the network is still down) until `page` says the call was lost and offers to join again. */
async function toldDisconnected(page: Page, who: string): Promise<void> {
	try {
		await page.getByText(text("call.disconnected")).first().waitFor({ timeout: 55_000 });
		await rejoinButton(page, text("call.rejoin")).waitFor({ timeout: 5_000 });
	} catch {
		throw new Error(
			`the ${who} was not told "${text("call.disconnected")}" with a "${text("call.rejoin")}" button during a 60 s drop; toasts: ${JSON.stringify(await page.getByTestId("toast").allTextContents())}`,
		);
	}
}

test("a 60 s network drop: 'Você foi desconectado da sala', and once it is back the rejoin button returns without a knock", {
	timeout: 300_000,
}, async () => {
	const host = await person();
	const guest = await person();
	await startCall(host, "Caio", guest, "Duda", meet.stack.url);

	const cut = cutNetwork(everyPort());
	const cutAt = Date.now();
	try {
		await Promise.all([toldDisconnected(host, "host"), toldDisconnected(guest, "guest")]);
		const left = 60_000 - (Date.now() - cutAt);
		if (left > 0) await host.waitForTimeout(left);
	} finally {
		cut.restore();
	}

	for (const [page, name, who] of [
		[host, "Caio", "host"],
		[guest, "Duda", "guest"],
	] as const) {
		const button = rejoinButton(page, text("call.rejoin"));
		assert.ok(
			await button.isVisible(),
			`the ${who}'s "${text("call.rejoin")}" button is still there once the network is back`,
		);
		await button.click();
		const self = tile(page, name, true);
		await self.or(page.getByTestId("prejoin-name")).first().waitFor({ timeout: 90_000 });
		assert.ok(await self.isVisible(), `the ${who} is back in the call, not asked to knock`);
	}
	await Promise.all([remoteVideoAdvancing(host, "Duda"), remoteVideoAdvancing(guest, "Caio")]);
	await oneTileEach(host, ["Caio", "Duda"]);
	await oneTileEach(guest, ["Caio", "Duda"]);
	assert.equal(await host.getByTestId("knock-modal").count(), 0, "nobody had to be let in again");
});
