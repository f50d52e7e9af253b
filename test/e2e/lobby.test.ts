/**
 * The lobby, kick, host handover, room lifetime and admin endpoints, through
 * the real processes and real Chromium, with one browser context per person.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { expectMediaFlowing } from "@mindmeet/testing/browser";
import { answerKnock, createRoom, firstFrame, knock, tile, toast } from "@mindmeet/testing/flows";
import { e2e } from "./harness.ts";

const adminToken = "e2e-admin-token-0123456789";
const meet = e2e({ env: { ROOM_GRACE_SECONDS: "2", HOST_HANDOVER_GRACE_SECONDS: "2", ADMIN_TOKEN: adminToken } });
const person = () => meet.person();

function roomIdOf(link: string): string {
	return new URL(link).pathname.split("/").pop() ?? "";
}

async function admin(method: string, path: string, token = adminToken): Promise<Response> {
	return fetch(`${meet.stack.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
}

test("knock, the host sees the name, admits, and both see and hear each other", async () => {
	const host = await person();
	const guest = await person();
	const link = await createRoom(host, meet.stack.url, "Ana");
	await host.getByTestId("alone-panel").waitFor();
	assert.equal(
		(await host.getByTestId("invite-link").textContent())?.trim() ||
			(await host.getByTestId("invite-link").inputValue()),
		link,
	);
	await knock(guest, link, "Bia <b>");
	await answerKnock(host, "Bia <b>", "admit");
	await firstFrame(guest, "Ana");
	await firstFrame(host, "Bia <b>");
	await expectMediaFlowing(guest, { audio: true, video: true });
	await expectMediaFlowing(host, { audio: true, video: true });
	await host.getByTestId("alone-panel").waitFor({ state: "detached" });
});

test("deny: the guest is told and may knock again; two knocks at once get two decisions", async () => {
	const host = await person();
	const first = await person();
	const second = await person();
	const link = await createRoom(host, meet.stack.url, "Caio");
	await knock(first, link, "Duda");
	await answerKnock(host, "Duda", "deny");
	await first.getByTestId("knock").waitFor();
	await toast(first, "recusou");

	await Promise.all([knock(first, link, "Duda"), knock(second, link, "Edu")]);
	// Knocks are shown one at a time in arrival order, and either may arrive first.
	for (let decided = 0; decided < 2; decided++) {
		const modal = host.getByTestId("knock-modal");
		await modal.waitFor();
		const text = (await modal.textContent()) ?? "";
		await answerKnock(host, text.includes("Duda") ? "Duda" : "Edu", text.includes("Duda") ? "admit" : "deny");
	}
	await tile(first, "Caio").waitFor();
	await second.getByTestId("knock").waitFor();
	await tile(host, "Duda").waitFor();
	assert.equal(await tile(host, "Edu").count(), 0);
});

test("kick: toast, media gone, the old token is refused, and knocking again works", async () => {
	const host = await person();
	const guest = await person();
	const link = await createRoom(host, meet.stack.url, "Fabi");
	await knock(guest, link, "Gil");
	await answerKnock(host, "Gil", "admit");
	await firstFrame(host, "Gil");
	const roomId = roomIdOf(link);
	const stored = await guest.evaluate((id) => sessionStorage.getItem(`mindmeet:credentials:${id}`), roomId);
	assert.ok(stored, "the admitted guest holds credentials");

	await host.getByTestId("participants-toggle").click();
	await host.locator('[data-testid="participant"][data-peer-name="Gil"]').getByTestId("kick").click();
	await toast(guest, "Você foi expulso da sala");
	await tile(host, "Gil").waitFor({ state: "detached" });
	await guest.waitForFunction(() =>
		((window as unknown as { __peerConnections?: RTCPeerConnection[] }).__peerConnections ?? []).every(
			(pc) => pc.connectionState === "closed",
		),
	);

	// The old token, put back by hand, no longer gets in.
	await guest.goto(link);
	await guest.evaluate(
		([id, value]) => sessionStorage.setItem(`mindmeet:credentials:${id}`, value as string),
		[roomId, stored],
	);
	await guest.reload();
	await toast(guest, "Você foi expulso da sala");
	assert.equal(await tile(host, "Gil").count(), 0);

	await knock(guest, link, "Gil");
	await answerKnock(host, "Gil", "admit");
	await tile(host, "Gil").waitFor();
});

test("the host leaves: the longest-present participant becomes host and answers the next knock", async () => {
	const host = await person();
	const early = await person();
	const late = await person();
	const newcomer = await person();
	const link = await createRoom(host, meet.stack.url, "Hugo");
	await knock(early, link, "Iara");
	await answerKnock(host, "Iara", "admit");
	await tile(early, "Hugo").waitFor();
	await knock(late, link, "João");
	await answerKnock(host, "João", "admit");
	await tile(late, "Iara").waitFor();

	await host.getByTestId("leave").click();
	await tile(early, "Hugo").waitFor({ state: "detached" });
	await knock(newcomer, link, "Kai");
	await answerKnock(early, "Kai", "admit");
	await tile(newcomer, "Iara").waitFor();
	assert.equal(await late.getByTestId("knock-modal").count(), 0, "only the new host is asked");
});

test("when the last person leaves the room expires after the grace period and the link shows not-found", async () => {
	const host = await person();
	const link = await createRoom(host, meet.stack.url, "Lia");
	await host.getByTestId("leave").click();
	await host.waitForURL(`${meet.stack.url}/`);
	const roomId = roomIdOf(link);
	let status = 200;
	for (let attempt = 0; attempt < 100 && status === 200; attempt++) {
		await host.waitForTimeout(200);
		status = (await fetch(`${meet.stack.url}/api/rooms/${roomId}`)).status;
	}
	assert.equal(status, 404, "the room is gone after the grace period");
	const visitor = await person();
	await visitor.goto(link);
	await visitor.getByText("Sala não encontrada ou encerrada").waitFor();
});

test("admin: list, inspect, kick and close rooms over HTTP; a wrong token is refused", async () => {
	const host = await person();
	const guest = await person();
	const link = await createRoom(host, meet.stack.url, "Mel");
	await knock(guest, link, "Nina");
	await answerKnock(host, "Nina", "admit");
	// Her camera reaching the host means her producers exist, so presence lists them.
	await firstFrame(host, "Nina");
	const roomId = roomIdOf(link);

	assert.equal((await admin("GET", "/api/admin/rooms", "wrong")).status, 401);
	assert.equal((await fetch(`${meet.stack.url}/api/admin/rooms`)).status, 401);

	const list = (await (await admin("GET", "/api/admin/rooms")).json()) as {
		rooms: { roomId: string; participants: number; hostName: string }[];
	};
	const listed = list.rooms.find((room) => room.roomId === roomId);
	assert.equal(listed?.hostName, "Mel");
	assert.equal(listed?.participants, 2);

	const detail = (await (await admin("GET", `/api/admin/rooms/${roomId}`)).json()) as {
		participants: { peerId: string; name: string; producers: { kind: string }[] }[];
	};
	const nina = detail.participants.find((participant) => participant.name === "Nina");
	assert.ok(nina, "the guest is listed");
	assert.ok(nina.producers.some((producer) => producer.kind === "video"));

	assert.equal((await admin("DELETE", `/api/admin/rooms/${roomId}/peers/${nina.peerId}`)).status, 204);
	await toast(guest, "Você foi expulso da sala");
	await tile(host, "Nina").waitFor({ state: "detached" });

	assert.equal((await admin("DELETE", `/api/admin/rooms/${roomId}`)).status, 204);
	await toast(host, "A sala foi encerrada");
	await host.waitForURL(`${meet.stack.url}/`);
	assert.equal((await fetch(`${meet.stack.url}/api/rooms/${roomId}`)).status, 404);
	assert.equal((await admin("GET", `/api/admin/rooms/${roomId}`)).status, 404);
});

test("a name of only spaces is refused in the browser, on the home page and before knocking; nothing is sent", async () => {
	const host = await person();
	await host.goto(meet.stack.url);
	const requests: string[] = [];
	host.on("request", (request) => {
		if (request.url().includes("/api/")) requests.push(`${request.method()} ${new URL(request.url()).pathname}`);
	});
	await host.getByTestId("create-name").fill("   ");
	await host.getByTestId("create-room").click();
	await toast(host, "Digite seu nome");
	assert.equal(new URL(host.url()).pathname, "/", "still on the home page");
	assert.ok(!requests.some((line) => line === "POST /api/rooms"), `no room was created: ${requests.join(", ")}`);

	const link = await createRoom(host, meet.stack.url, "Nina");
	const guest = await person();
	await guest.goto(link);
	const knocks: string[] = [];
	guest.on("request", (request) => {
		if (request.method() === "POST" && request.url().includes("/knocks")) knocks.push(request.url());
	});
	await guest.getByTestId("prejoin-name").fill("  ");
	await guest.getByTestId("knock").click();
	await toast(guest, "Digite seu nome");
	assert.equal(await guest.getByTestId("waiting").count(), 0, "not waiting: no knock was made");
	assert.deepEqual(knocks, []);
	assert.equal(await host.getByTestId("knock-modal").count(), 0);
});
