/**
 * A crash is a blip (issue 8): a mediasoup worker SIGKILLed mid-call, the
 * SFU process SIGKILLed, the API process SIGKILLed. The stack restarts
 * crashed processes as `./mindmeet start` does; the SFU replaces a dead
 * worker itself. What is checked is what the two people see: each other's
 * video advancing again, one tile per person, the chat as it was, no
 * join/leave notices, and the host still running the lobby. Nobody clicks
 * anything to get back.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { openChat, sendChat, waitForChatMessage } from "@mindmeet/testing/chat";
import { killMediasoupWorkers } from "@mindmeet/testing/faults";
import { answerKnock, knock, tile } from "@mindmeet/testing/flows";
import { type Catalogue, loadCatalogues, message } from "@mindmeet/testing/i18n";
import { chatCount, oneTileEach, remoteVideoAdvancing, startCall } from "@mindmeet/testing/recovery";
import { recordToasts } from "@mindmeet/testing/watch";
import type { Page } from "playwright-core";
import { e2e } from "./harness.ts";

const meet = e2e();
const person = () => meet.person();
let pt: Catalogue;

before(async () => {
	pt = (await loadCatalogues())["pt-BR"];
});

/** Every "X entrou/saiu da sala" notice among `texts`, for any of `names`. */
function joinLeaveNotices(texts: string[], names: string[]): string[] {
	const notices = names.flatMap((name) => [
		message(pt, "call.peerJoined", { name }),
		message(pt, "call.peerLeft", { name }),
	]);
	return texts.filter((text) => notices.some((notice) => text.includes(notice)));
}

/**
 * `from` sends `text` and it shows on `to`'s screen: signaling works end to
 * end. A message typed while the client is still reconnecting may be lost,
 * so the person tries again a few times, as anyone would.
 */
async function chatGetsThrough(from: Page, to: Page, text: string): Promise<void> {
	await openChat(from);
	await openChat(to);
	for (let attempt = 1; ; attempt++) {
		const numbered = `${text} (${attempt})`;
		await sendChat(from, numbered);
		try {
			await waitForChatMessage(to, numbered, 15_000);
			return;
		} catch (error) {
			if (attempt === 4) throw error;
		}
	}
}

test("a mediasoup worker SIGKILLed mid-call: both see each other again, the chat once, no notices, the host still admits", {
	timeout: 300_000,
}, async () => {
	const host = await person();
	const guest = await person();
	await startCall(host, "Ana", guest, "Bia", meet.stack.url);
	const earlier = "Mensagem de antes da queda: olá, está me ouvindo? 🎧";
	await openChat(host);
	await openChat(guest);
	await sendChat(host, earlier);
	await waitForChatMessage(guest, earlier);
	const hostToasts = await recordToasts(host);
	const guestToasts = await recordToasts(guest);

	const sfu = meet.stack.pid("sfu");
	assert.ok(sfu, "the SFU runs");
	const killed = await killMediasoupWorkers(sfu);
	assert.ok(killed.length > 0);

	await Promise.all([remoteVideoAdvancing(host, "Bia"), remoteVideoAdvancing(guest, "Ana")]);
	await oneTileEach(host, ["Ana", "Bia"]);
	await oneTileEach(guest, ["Ana", "Bia"]);
	assert.equal(meet.stack.pid("sfu"), sfu, "the SFU process itself did not restart: the room moved workers");
	for (const page of [host, guest]) {
		await openChat(page);
		await waitForChatMessage(page, earlier);
		assert.equal(await chatCount(page, earlier), 1, "the earlier message is shown once");
	}
	// Past the client's hold on "left" notices (6 s), so a held one would have come out by now.
	await host.waitForTimeout(7_000);
	assert.deepEqual(joinLeaveNotices(await hostToasts.texts(), ["Bia"]), [], "the host heard of no join or leave");
	assert.deepEqual(joinLeaveNotices(await guestToasts.texts(), ["Ana"]), [], "the guest heard of no join or leave");
	await oneTileEach(host, ["Ana", "Bia"]);

	// The host still runs the lobby.
	const newcomer = await person();
	await knock(newcomer, host.url(), "Caio");
	await answerKnock(host, "Caio", "admit");
	await tile(newcomer, "Ana").waitFor();
	await remoteVideoAdvancing(newcomer, "Ana");
	await oneTileEach(host, ["Ana", "Bia", "Caio"]);
});

test("the SFU process SIGKILLed and restarted by the stack: the call comes back on both sides without a click", {
	timeout: 300_000,
}, async () => {
	const host = await person();
	const guest = await person();
	await startCall(host, "Davi", guest, "Eva", meet.stack.url);

	const killed = meet.stack.kill("sfu", "SIGKILL");
	await meet.stack.whenHealthy("sfu", { replacing: killed });

	await Promise.all([remoteVideoAdvancing(host, "Eva"), remoteVideoAdvancing(guest, "Davi")]);
	await oneTileEach(host, ["Davi", "Eva"]);
	await oneTileEach(guest, ["Davi", "Eva"]);
	assert.equal(await host.getByText(pt["call.disconnected"] ?? "").count(), 0, "the host was not told the call ended");
	assert.equal(
		await guest.getByText(pt["call.disconnected"] ?? "").count(),
		0,
		"the guest was not told the call ended",
	);
	await chatGetsThrough(guest, host, "E o SFU também reiniciou, né? 🙂");
});

test("the API process SIGKILLed and restarted by the stack: the call comes back on both sides without a click", {
	timeout: 300_000,
}, async () => {
	const host = await person();
	const guest = await person();
	await startCall(host, "Fabi", guest, "Gil", meet.stack.url);

	const killed = meet.stack.kill("api", "SIGKILL");
	await meet.stack.whenHealthy("api", { replacing: killed });

	await Promise.all([remoteVideoAdvancing(host, "Gil"), remoteVideoAdvancing(guest, "Fabi")]);
	await oneTileEach(host, ["Fabi", "Gil"]);
	await oneTileEach(guest, ["Fabi", "Gil"]);
	assert.equal(await host.getByText(pt["call.disconnected"] ?? "").count(), 0, "the host was not told the call ended");
	assert.equal(
		await guest.getByText(pt["call.disconnected"] ?? "").count(),
		0,
		"the guest was not told the call ended",
	);
	// Media flows straight to the SFU and may never have stopped: the chat
	// proves the signaling through the new API process is back too.
	await chatGetsThrough(host, guest, "Voltou? A API reiniciou agora há pouco. ✅");

	// The lobby works through the new API process too.
	const newcomer = await person();
	await knock(newcomer, host.url(), "Hugo");
	await answerKnock(host, "Hugo", "admit");
	await remoteVideoAdvancing(newcomer, "Fabi");
});
