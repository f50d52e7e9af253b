/**
 * The guest's media device is loaded before admission, with the router
 * capabilities that came with the room's public facts (GET /api/rooms/:id,
 * published by the SFU node), so the call skips `getRouterRtpCapabilities`.
 * Without them, or with ones the browser's device refuses, the call asks the
 * SFU as before and still gets media. The page's own requests to the SFU are
 * read from its WebSocket frames; the room's facts are changed, where a test
 * needs it, on their way from the real API to the page.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { RoomInfo } from "@mindmeet/protocol";
import { expectMediaFlowing } from "@mindmeet/testing/browser";
import { answerKnock, createRoom, firstFrame, knock } from "@mindmeet/testing/flows";
import type { Page } from "playwright-core";
import { e2e } from "./harness.ts";

const meet = e2e();

/** The methods of the protoo requests this page sends on its sockets, from now on. */
function sentMethods(page: Page): string[] {
	const methods: string[] = [];
	page.on("websocket", (socket) => {
		socket.on("framesent", ({ payload }) => {
			try {
				const message = JSON.parse(String(payload)) as { request?: boolean; method?: string };
				if (message.request && message.method) methods.push(message.method);
			} catch {
				// Not JSON (nothing the call sends): not a request.
			}
		});
	});
	return methods;
}

/** Change the room's facts (GET /api/rooms/:id) on their way to this page. */
async function alterRoomInfo(page: Page, alter: (info: RoomInfo) => unknown): Promise<void> {
	await page.route(/\/api\/rooms\/[^/]+$/, async (route) => {
		if (route.request().method() !== "GET") return route.continue();
		const response = await route.fetch();
		await route.fulfill({ response, json: alter((await response.json()) as RoomInfo) });
	});
}

async function guestJoins(guest: Page, name: string): Promise<string[]> {
	const host = await meet.person();
	const link = await createRoom(host, meet.stack.url, "Ana");
	const methods = sentMethods(guest);
	await knock(guest, link, name);
	await answerKnock(host, name, "admit");
	await firstFrame(guest, "Ana");
	await firstFrame(host, name);
	await expectMediaFlowing(guest, { audio: true, video: true });
	return methods;
}

test("the room's facts carry the SFU's capabilities, and an admitted guest joins without asking for them", async () => {
	const response = await fetch(`${meet.stack.url}/api/rooms/${await roomIdOfNewRoom()}`);
	const info = (await response.json()) as RoomInfo;
	assert.ok(info.routerRtpCapabilities?.codecs?.some((codec) => codec.mimeType === "video/VP8"));

	const methods = await guestJoins(await meet.person(), "Bia");
	assert.ok(methods.includes("join"), `the guest joined (${methods.join(", ")})`);
	assert.ok(!methods.includes("getRouterRtpCapabilities"), `sent: ${methods.join(", ")}`);
});

test("without capabilities in the room's facts the guest asks the SFU for them and gets media", async () => {
	const guest = await meet.person();
	await alterRoomInfo(guest, ({ routerRtpCapabilities: _, ...info }) => info);
	const methods = await guestJoins(guest, "Caio");
	assert.ok(methods.includes("getRouterRtpCapabilities"), `sent: ${methods.join(", ")}`);
});

test("capabilities the browser's device refuses: the guest asks the SFU for them and gets media", async () => {
	const guest = await meet.person();
	await alterRoomInfo(guest, (info) => ({
		...info,
		routerRtpCapabilities: {
			...info.routerRtpCapabilities,
			codecs: info.routerRtpCapabilities?.codecs?.map((codec) => ({ ...codec, mimeType: "not a mime type" })),
		},
	}));
	const methods = await guestJoins(guest, "Davi");
	assert.ok(methods.includes("getRouterRtpCapabilities"), `sent: ${methods.join(", ")}`);
});

async function roomIdOfNewRoom(): Promise<string> {
	const response = await fetch(`${meet.stack.url}/api/rooms`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ hostName: "Eva", mode: "video" }),
	});
	assert.equal(response.status, 201);
	return ((await response.json()) as { roomId: string }).roomId;
}
