/**
 * A Redis restart loses nothing that matters (issue 8): the stack's
 * redis-server is shut down with SHUTDOWN NOSAVE (every key gone) and a
 * fresh one starts on the same port, mid-call. The call and chat go on; the
 * SFU re-asserts the room (record, host, presence, revocations), so a new
 * guest can knock within seconds; a guest kicked before the restart who
 * kept their token is still refused.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { openChat, sendChat, waitForChatMessage } from "@mindmeet/testing/chat";
import { answerKnock, knock, tile, toast } from "@mindmeet/testing/flows";
import { type Catalogue, loadCatalogues } from "@mindmeet/testing/i18n";
import {
	credentialsKey,
	decidedSignalingAnswer,
	knockWhenRoomIsBack,
	oneTileEach,
	remoteVideoAdvancing,
	roomIdOf,
	startCall,
	storedCredentials,
	tokenOf,
} from "@mindmeet/testing/recovery";
import { watchSelector } from "@mindmeet/testing/watch";
import { e2e } from "./harness.ts";

const meet = e2e({ env: { KNOCK_RATE_LIMIT: "1000" } });
const person = () => meet.person();
let pt: Catalogue;

before(async () => {
	pt = (await loadCatalogues())["pt-BR"];
});

test("Redis SHUTDOWN NOSAVE and restart mid-call: the call goes on, a new guest is admitted, a kicked token stays refused", {
	timeout: 300_000,
}, async () => {
	const host = await person();
	const guest = await person();
	const kicked = await person();
	const link = await startCall(host, "Ana", guest, "Bia", meet.stack.url);
	const roomId = roomIdOf(link);
	await knock(kicked, link, "Caio");
	await answerKnock(host, "Caio", "admit");
	await remoteVideoAdvancing(host, "Caio");
	const kept = await storedCredentials(kicked, roomId);
	assert.ok(kept, "the admitted guest holds credentials");

	await host.getByTestId("participants-toggle").click();
	await host.locator('[data-testid="participant"][data-peer-name="Caio"]').getByTestId("kick").click();
	await toast(kicked, pt["call.kicked"] ?? "");
	await tile(host, "Caio").waitFor({ state: "detached" });
	// Before the restart the kept token is refused: the same check afterwards can fail.
	assert.deepEqual(await decidedSignalingAnswer(meet.stack.url, roomId, tokenOf(kept)), {
		kind: "refused",
		reason: "token-revoked",
	});

	await meet.stack.restartRedis();

	// The call goes on: media, tiles and chat.
	await Promise.all([remoteVideoAdvancing(host, "Bia"), remoteVideoAdvancing(guest, "Ana")]);
	await oneTileEach(host, ["Ana", "Bia"]);
	await oneTileEach(guest, ["Ana", "Bia"]);
	await openChat(host);
	await openChat(guest);
	const after = "Redis reiniciou e a conversa continua — ótimo! 🚀";
	await sendChat(guest, after);
	await waitForChatMessage(host, after, 60_000);

	// A new guest opening the link can knock (once the SFU re-asserted the room) and is admitted.
	const newcomer = await person();
	await knockWhenRoomIsBack(newcomer, link, "Davi", pt["room.notFound"] ?? "");
	await answerKnock(host, "Davi", "admit");
	await tile(newcomer, "Ana").waitFor();
	await remoteVideoAdvancing(newcomer, "Ana");
	await oneTileEach(host, ["Ana", "Bia", "Davi"]);

	// The kicked guest's kept token is still refused, on the wire…
	assert.deepEqual(await decidedSignalingAnswer(meet.stack.url, roomId, tokenOf(kept)), {
		kind: "refused",
		reason: "token-revoked",
	});
	// …and in the browser: the credentials put back by hand and the tab reloaded.
	const caioOnHost = await watchSelector(host, '[data-testid="tile"][data-peer-name="Caio"]');
	await kicked.goto(link);
	await kicked.evaluate(([key, value]) => sessionStorage.setItem(key, value), [credentialsKey(roomId), kept] as const);
	await kicked.reload();
	await toast(kicked, pt["call.kicked"] ?? "");
	assert.equal(await tile(kicked, "Caio", true).count(), 0, "the kicked guest is not in the call");
	assert.equal(await caioOnHost.everMatched(), false, "the kicked guest never appeared on the host's screen");
});
