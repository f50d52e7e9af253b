/**
 * A real two-person call through the whole stack: redis-server, the SFU and
 * API processes as `npm start` runs them, and two Chromium contexts with
 * fake camera and microphone.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { expectMediaFlowing } from "@mindmeet/testing/browser";
import { answerKnock, createRoom, firstFrame, knock, tile, toast } from "@mindmeet/testing/flows";
import { recordToasts } from "@mindmeet/testing/watch";
import { e2e } from "./harness.ts";

const meet = e2e();

test("host creates a room in the UI, a guest knocks by the link and is admitted, both see and hear each other, then one leaves", async () => {
	const host = await meet.person();
	const guest = await meet.person();
	const link = await createRoom(host, meet.stack.url, "Ana");
	await knock(guest, link, "Bia");
	await answerKnock(host, "Bia", "admit");

	const biaOnHost = tile(host, "Bia");
	for (const [page, other] of [
		[host, "Bia"],
		[guest, "Ana"],
	] as const) {
		await firstFrame(page, other);
		const width = await tile(page, other)
			.locator("video")
			.evaluate((video: HTMLVideoElement) => video.videoWidth);
		assert.ok(width > 0, "remote video has frames");
		const { first, last } = await expectMediaFlowing(page, { audio: true, video: true });
		assert.ok(last.framesDecoded > first.framesDecoded, "video frames keep being decoded");
		assert.ok(last.audioBytes > first.audioBytes, "audio bytes keep arriving");
	}

	await guest.getByTestId("leave").click();
	await biaOnHost.waitFor({ state: "detached" });
	assert.equal(await host.locator('[data-testid="tile"]').count(), 1, "only the host's own tile is left");
});

test("a guest who reloads is back without the host hearing they left or joined; leaving with the button is announced", async () => {
	const host = await meet.person();
	const guest = await meet.person();
	const link = await createRoom(host, meet.stack.url, "Rui");
	await knock(guest, link, "Sol");
	await answerKnock(host, "Sol", "admit");
	await firstFrame(host, "Sol");

	const toasts = await recordToasts(host);
	await guest.reload();
	await tile(guest, "Sol", true).waitFor();
	await firstFrame(host, "Sol");
	await firstFrame(guest, "Rui");
	// Past the client's hold on "left" notices (6 s), so a held one would have come out by now.
	await host.waitForTimeout(7_000);
	const afterReload = await toasts.texts();
	assert.ok(
		!afterReload.some((text) => /Sol (saiu|entrou)/.test(text)),
		`no leave or join notice for a reload, saw: ${JSON.stringify(afterReload)}`,
	);

	await guest.getByTestId("leave").click();
	await toast(host, "Sol saiu da sala");
	await tile(host, "Sol").waitFor({ state: "detached" });
});
