/**
 * Chat in a real call: real processes (redis-server, SFU, API), real
 * Chromium, people admitted through the real lobby. The SFU stamps sender
 * and time; each browser shows the time as its own local HH:mm.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { limits } from "@mindmeet/protocol";
import {
	chatMessages,
	chatToggleText,
	localClockAround,
	openChat,
	sendChat,
	waitForChatMessage,
	waitForChatToggle,
} from "@mindmeet/testing/chat";
import { answerKnock, createRoom, knock, tile, toast } from "@mindmeet/testing/flows";
import { type Catalogue, loadCatalogues, message } from "@mindmeet/testing/i18n";
import { knockOverHttp, SignalingPeer } from "@mindmeet/testing/signaling-peer";
import type { Page } from "playwright-core";
import { e2e } from "./harness.ts";

const meet = e2e();
let pt: Catalogue;
const peers: SignalingPeer[] = [];

before(async () => {
	pt = (await loadCatalogues())["pt-BR"];
});

after(() => {
	for (const peer of peers) peer.close();
});

/**
 * One person in their own context. The time zone is set on purpose away from
 * the machine's (usually UTC), so a client that formats UTC instead of local
 * time is caught.
 */
const person = (timezoneId = "America/Sao_Paulo") => meet.person({ timezoneId });

function roomIdOf(link: string): string {
	return new URL(link).pathname.split("/").pop() ?? "";
}

/** Host creates a room, each guest knocks and is admitted; everyone sees the host. */
async function call(host: Page, hostName: string, guests: [Page, string][]): Promise<string> {
	const link = await createRoom(host, meet.stack.url, hostName);
	for (const [guest, name] of guests) {
		await knock(guest, link, name);
		await answerKnock(host, name, "admit");
		await tile(guest, hostName).waitFor();
		await tile(host, name).waitFor();
	}
	return link;
}

async function assertLocalTime(page: Page, time: string, what: string): Promise<void> {
	assert.match(time, /^\d{2}:\d{2}$/, `${what}: chat-time is HH:mm`);
	const around = await localClockAround(page);
	assert.ok(around.includes(time), `${what}: ${time} is the browser's local time (one of ${around.join(", ")})`);
}

/** Wait until the chat toggle's visible text shows `count` (the unread badge). */
async function waitForUnread(page: Page, count: number): Promise<void> {
	if (await waitForChatToggle(page, new RegExp(`(^|\\D)${count}(\\D|$)`))) return;
	assert.fail(
		`chat-toggle shows no unread count of ${count}; its visible text is ${JSON.stringify(await chatToggleText(page))}`,
	);
}

test("a message shows on both sides with author, text and local HH:mm; a closed panel gets a toast and an unread count", {
	timeout: 300_000,
}, async () => {
	const host = await person("America/Sao_Paulo");
	const guest = await person("Asia/Tokyo");
	await call(host, "Ana", [[guest, "Bia"]]);

	assert.doesNotMatch(await chatToggleText(guest), /\d/, "no unread count before any message");
	await openChat(host);
	const first = "Olá, Bia! Tudo bem?";
	await sendChat(host, first);

	const onHost = await waitForChatMessage(host, first);
	assert.equal(onHost.author, "Ana");
	await assertLocalTime(host, onHost.time, "sender");

	// The guest's panel is closed: a toast and an unread badge tell her.
	await toast(guest, first);
	await waitForUnread(guest, 1);
	const second = "Você está me ouvindo?";
	await sendChat(host, second);
	await waitForChatMessage(host, second);
	await waitForUnread(guest, 2);

	await openChat(guest);
	const onGuest = await waitForChatMessage(guest, first);
	assert.equal(onGuest.author, "Ana");
	await assertLocalTime(guest, onGuest.time, "receiver in another time zone");
	assert.deepEqual(
		(await chatMessages(guest)).map((shown) => shown.text),
		[first, second],
		"both messages, oldest first",
	);
	assert.ok(await waitForChatToggle(guest, /^\D*$/), "opening the panel clears the unread count");

	const reply = "Tudo ótimo, Ana!";
	await sendChat(guest, reply);
	const replyOnHost = await waitForChatMessage(host, reply);
	assert.equal(replyOnHost.author, "Bia");
	await assertLocalTime(host, replyOnHost.time, "reply on the host");
	assert.equal((await waitForChatMessage(guest, reply)).author, "Bia");
});

test("someone admitted later sees the earlier messages with names and times, oldest first", {
	timeout: 300_000,
}, async () => {
	const host = await person();
	const guest = await person();
	const late = await person();
	const link = await call(host, "Caio", [[guest, "Duda"]]);

	await openChat(host);
	await openChat(guest);
	await sendChat(host, "primeira mensagem");
	await waitForChatMessage(guest, "primeira mensagem");
	await sendChat(guest, "segunda mensagem");
	await waitForChatMessage(host, "segunda mensagem");
	const shownToHost = await chatMessages(host);

	await knock(late, link, "Edu");
	await answerKnock(host, "Edu", "admit");
	await tile(late, "Caio").waitFor();
	await openChat(late);
	await waitForChatMessage(late, "segunda mensagem");
	const history = await chatMessages(late);
	assert.deepEqual(
		history.map(({ author, text }) => ({ author, text })),
		[
			{ author: "Caio", text: "primeira mensagem" },
			{ author: "Duda", text: "segunda mensagem" },
		],
	);
	// Same time zone as the host: the same clock times.
	assert.deepEqual(
		history.map((shown) => shown.time),
		shownToHost.map((shown) => shown.time),
	);
	for (const shown of history) await assertLocalTime(late, shown.time, `history message ${shown.text}`);

	// And the late joiner takes part like anyone else.
	await sendChat(late, "cheguei!");
	assert.equal((await waitForChatMessage(host, "cheguei!")).author, "Edu");
	assert.equal((await waitForChatMessage(guest, "cheguei!")).author, "Edu");
});

test("HTML in a message is shown as text and never runs, in the panel and in the toast", {
	timeout: 300_000,
}, async () => {
	const host = await person();
	const guest = await person();
	await call(host, "Fabi", [[guest, "Gil"]]);
	const payload = `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>`;

	await openChat(host);
	await sendChat(host, payload);
	// The guest's panel is closed, so the message reaches her first as a toast.
	await guest.getByTestId("toast").filter({ hasText: "<img" }).first().waitFor();
	await openChat(guest);
	for (const page of [host, guest]) {
		const shown = await waitForChatMessage(page, payload);
		assert.equal(shown.text, payload, "chat-text textContent is the payload, literally");
		assert.equal(shown.author, "Fabi");
	}
	// Give a broken image time to fail and its handler time to run, were it an element.
	await host.waitForTimeout(1000);
	for (const page of [host, guest]) {
		const found = await page.evaluate(() => ({
			xss: (window as unknown as { __xss?: unknown }).__xss,
			injected: document.querySelectorAll(
				'[data-testid="chat-message"] img, [data-testid="toast"] img, [data-testid="chat-message"] script, [data-testid="toast"] script',
			).length,
		}));
		assert.equal(found.xss, undefined, "window.__xss stays undefined");
		assert.equal(found.injected, 0, "no element was made from the message");
	}
});

test("flooding from the UI is refused with a toast while the others' chat keeps working", {
	timeout: 300_000,
}, async () => {
	const host = await person();
	const guest = await person();
	await call(host, "Hugo", [[guest, "Iara"]]);
	await openChat(host);
	await openChat(guest);
	// Let join toasts go away, so the next toast on the host is about the flood.
	await host.getByTestId("toast").first().waitFor({ state: "detached", timeout: 30_000 });

	const burst = 8;
	await host.evaluate(async (count) => {
		const waitEnabled = async (button: HTMLButtonElement) => {
			for (let i = 0; i < 600 && button.disabled; i++) await new Promise((resolve) => setTimeout(resolve, 5));
		};
		for (let i = 0; i < count; i++) {
			const input = document.querySelector<HTMLInputElement | HTMLTextAreaElement>('[data-testid="chat-input"]');
			const button = document.querySelector<HTMLButtonElement>('[data-testid="chat-send"]');
			if (!input || !button) throw new Error("chat-input or chat-send is missing");
			const setter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(input), "value")?.set;
			setter?.call(input, `rajada ${i}`);
			input.dispatchEvent(new Event("input", { bubbles: true }));
			await waitEnabled(button);
			button.click();
		}
	}, burst);

	await host
		.getByTestId("toast")
		.filter({ hasText: message(pt, "chat.rateLimited") })
		.first()
		.waitFor({ timeout: 30_000 })
		.catch(async () =>
			assert.fail(
				`no "sending too fast" toast; toasts: ${JSON.stringify(await host.getByTestId("toast").allTextContents())}`,
			),
		);

	// Iara's chat works on: her message reaches Hugo, and it comes after whatever of the burst got through.
	await sendChat(guest, "ainda funciona?");
	assert.equal((await waitForChatMessage(host, "ainda funciona?")).author, "Iara");
	await waitForChatMessage(guest, "ainda funciona?");
	const received = (await chatMessages(guest)).filter((shown) => shown.text.startsWith("rajada "));
	assert.ok(received.length >= 1, "the first messages of the burst got through");
	assert.ok(received.length < burst, `not all ${burst} got through (${received.length} did)`);

	// The limit is a window, not a ban.
	await host.waitForTimeout(1500);
	await sendChat(host, "passou a rajada");
	assert.equal((await waitForChatMessage(guest, "passou a rajada")).author, "Hugo");
});

test("at the SFU: a flood gets rate-limited errors, bad messages get bad-request, and the room carries on", {
	timeout: 300_000,
}, async () => {
	const host = await person();
	const guest = await person();
	const link = await call(host, "João", [[guest, "Kai"]]);
	await openChat(host);
	await openChat(guest);

	// A third participant without a browser, let in through the real lobby by the host.
	const roomId = roomIdOf(link);
	const pending = await knockOverHttp(meet.stack.url, roomId, "Robô");
	await answerKnock(host, "Robô", "admit");
	const credentials = await pending.admitted;
	const robot = await SignalingPeer.connect(meet.stack.url, roomId, credentials.token);
	peers.push(robot);
	const joined = await robot.join();
	assert.equal(joined.self.name, "Robô");
	await tile(host, "Robô").waitFor();

	const burst = 8;
	const results = await Promise.allSettled(
		Array.from({ length: burst }, (_, i) => robot.request("sendChat", { text: `robô ${i}` })),
	);
	const accepted = results.flatMap((result) => (result.status === "fulfilled" ? [result.value.message] : []));
	const refused = results.flatMap((result) => (result.status === "rejected" ? [String(result.reason)] : []));
	assert.ok(accepted.length >= 1, "the first messages are accepted");
	assert.ok(accepted.length <= burst - 1 && refused.length >= 1, `some of ${burst} are refused: ${refused.join("; ")}`);
	for (const reason of refused) assert.match(reason, /rate-limited/, "refusals say rate-limited");
	for (const sent of accepted) {
		assert.equal(sent.name, "Robô", "the SFU stamps the sender's name");
		assert.equal(sent.peerId, credentials.peerId);
	}

	// The others carry on: Kai's message reaches João and the robot, after the accepted burst.
	await sendChat(guest, "depois da rajada");
	assert.equal((await waitForChatMessage(host, "depois da rajada")).author, "Kai");
	await robot.notification("chatMessage", (data) => data.text === "depois da rajada");
	const robotOnHost = (await chatMessages(host)).filter((shown) => shown.author === "Robô").map((shown) => shown.text);
	assert.deepEqual(
		robotOnHost,
		accepted.map((sent) => sent.text),
		"exactly the accepted messages reached the host",
	);

	// After the window, the robot may speak again.
	await host.waitForTimeout(1500);
	const later = await robot.request("sendChat", { text: "de novo" });
	assert.equal(later.message.text, "de novo");
	await waitForChatMessage(guest, "de novo");

	// Bad messages: a clear error each, nothing shown, the room stays up.
	await host.waitForTimeout(1500);
	const bad: [string, unknown][] = [
		["only spaces", { text: "    " }],
		["too long", { text: "x".repeat(limits.chatMaxLength + 1) }],
		["not a string", { text: 42 }],
	];
	for (const [what, data] of bad) {
		await assert.rejects(robot.client.request("sendChat", data), /bad-request/, what);
	}
	await sendChat(host, "sala de pé");
	await waitForChatMessage(guest, "sala de pé");
	await robot.notification("chatMessage", (data) => data.text === "sala de pé");
	assert.equal((await chatMessages(guest)).filter((shown) => shown.text.trim() === "").length, 0);
});
