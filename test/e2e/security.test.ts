/**
 * The security headers in real Chromium, against the real processes: a whole
 * call works under the Content-Security-Policy with no violation reported,
 * and another site framing the app gets nothing. Also text hygiene as the
 * host sees it: a guest whose name carries a bidi override shows up in the
 * knock modal without it.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { test } from "node:test";
import { limits } from "@mindmeet/protocol";
import { expectMediaFlowing } from "@mindmeet/testing/browser";
import { openChat, sendChat, waitForChatMessage } from "@mindmeet/testing/chat";
import { answerKnock, createRoom, firstFrame, knock, tile } from "@mindmeet/testing/flows";
import type { Page } from "playwright-core";
import { freePort } from "../../scripts/stack.ts";
import { e2e } from "./harness.ts";

const meet = e2e();
const person = () => meet.person();

/**
 * Everything on a page that would tell of a policy getting in the way: each
 * `securitypolicyviolation` event (reported through the console by an init
 * script, so it survives navigations), console errors and uncaught errors.
 */
async function watchProblems(page: Page): Promise<string[]> {
	const problems: string[] = [];
	await page.context().addInitScript(() => {
		document.addEventListener("securitypolicyviolation", (event) => {
			console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "(inline)"}`);
		});
	});
	page.on("console", (message) => {
		if (message.type() === "error") problems.push(`console: ${message.text()}`);
	});
	page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
	return problems;
}

/**
 * The app as reached at 127.0.0.1 while its public URL says localhost: the
 * CSP's explicit ws: origin (from PUBLIC_URL) then does not match, so the
 * signaling and lobby WebSockets only connect if `connect-src 'self'` covers
 * same-origin ws: — which is what this shows.
 */
function selfOnlyOrigin(): string {
	const url = new URL(meet.stack.url);
	assert.equal(url.hostname, "localhost", "the stack's public URL is on localhost");
	return `http://127.0.0.1:${url.port}`;
}

test("a whole call works under the CSP: knock, admit, video both ways, chat, QR code; no violation", async () => {
	const host = await person();
	const guest = await person();
	const hostProblems = await watchProblems(host);
	const guestProblems = await watchProblems(guest);
	const origin = selfOnlyOrigin();
	// What the host's client puts on the wire: it cleans chat text itself, before the SFU does.
	const sentFrames: string[] = [];
	host.on("websocket", (socket) => {
		socket.on("framesent", ({ payload }) => {
			if (typeof payload === "string") sentFrames.push(payload);
		});
	});

	const page = await host.goto(origin);
	const csp = page?.headers()["content-security-policy"] ?? "";
	assert.match(csp, /default-src 'self'/);
	assert.match(csp, /frame-ancestors 'none'/);
	assert.doesNotMatch(csp, /127\.0\.0\.1|unsafe-inline/, "only 'self' lets this page reach its own ws:");

	const link = await createRoom(host, origin, "Ana");
	assert.ok(link.startsWith(origin), link);
	// The QR code is drawn as an inline SVG by script; it must be there, not blocked.
	await host.getByTestId("alone-panel").getByTestId("qr-code").locator("svg path").waitFor();
	const qrPath = await host.getByTestId("qr-code").locator("svg path").first().getAttribute("d");
	assert.ok((qrPath ?? "").length > 100, "the QR code has modules");

	// A spoofing name: the override is gone by the time the host is asked.
	await knock(guest, link, "Bia\u202Egnp.exe");
	await answerKnock(host, "Biagnp.exe", "admit");
	await tile(host, "Biagnp.exe").waitFor();
	await firstFrame(guest, "Ana");
	await firstFrame(host, "Biagnp.exe");
	await expectMediaFlowing(guest, { audio: true, video: true });
	await expectMediaFlowing(host, { audio: true, video: true });

	await openChat(host);
	await sendChat(host, "oi\u0007 sob a CSP\u202E!");
	await openChat(guest);
	for (const page of [host, guest]) {
		const shown = await waitForChatMessage(page, "oi sob a CSP!");
		assert.equal(shown.text, "oi sob a CSP!");
	}

	const sentTexts = sentFrames
		.map((frame) => JSON.parse(frame) as { method?: string; data?: { text?: string } })
		.filter((message) => message.method === "sendChat")
		.map((message) => message.data?.text);
	assert.deepEqual(sentTexts, ["oi sob a CSP!"], "the client sent the text already cleaned");

	// The client's own checks, with the same function: a draft of only invisible characters
	// cannot be sent, and the limit is in code points as the SFU counts it (2000 emoji are
	// 4000 UTF-16 units, which a maxlength attribute would have cut in half).
	const input = host.getByTestId("chat-input");
	await input.fill("\u202E\u200B\u0007 \n");
	assert.equal(await host.getByTestId("chat-send").isDisabled(), true);
	const emoji = "\u{1F600}";
	await input.fill(emoji.repeat(limits.chatMaxLength + 1));
	assert.equal(await input.inputValue(), emoji.repeat(limits.chatMaxLength), "cut at the limit, by code points");
	await host.getByTestId("chat-send").click();
	await waitForChatMessage(guest, emoji.repeat(limits.chatMaxLength));

	assert.deepEqual(hostProblems, [], "nothing reported on the host's page");
	assert.deepEqual(guestProblems, [], "nothing reported on the guest's page");
});

test("another site framing the app gets nothing; a page without the header frames fine", async () => {
	const visitor = await person();
	const consoleLines: string[] = [];
	visitor.on("console", (message) => consoleLines.push(message.text()));
	const port = await freePort();
	const app = meet.stack.url;
	const other = `http://127.0.0.1:${port}`;
	// Another origin (another port): a page that frames the app, and a plain page as the control.
	const server: Server = createServer((request, response) => {
		response.setHeader("content-type", "text/html; charset=utf-8");
		if (request.url === "/plain") {
			response.end("<!doctype html><p id=plain>plain page</p>");
			return;
		}
		response.end(
			`<!doctype html><iframe id=app src="${app}/"></iframe><iframe id=plain src="${other}/plain"></iframe>`,
		);
	});
	await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
	try {
		await visitor.goto(`${other}/`);
		const plain = visitor.frameLocator("#plain").locator("#plain");
		await plain.waitFor();
		assert.equal(await plain.textContent(), "plain page", "framing itself works here");

		// The app's frame ends on Chromium's error page, never on the app.
		const appFrame = await waitForFrame(visitor, (url) => url.startsWith("chrome-error:") || url.startsWith(app));
		assert.match(appFrame.url(), /^chrome-error:/, "the framed app is refused");
		assert.equal(await appFrame.locator('[data-testid="create-name"]').count(), 0);
		assert.ok(
			consoleLines.some((line) => /Refused to frame|frame-ancestors/.test(line)),
			`Chromium says why: ${JSON.stringify(consoleLines)}`,
		);
	} finally {
		await new Promise<void>((resolve) => server.close(() => resolve()));
	}
});

/** The page's child frame whose URL satisfies `match`, once it has one (bounded tries). */
async function waitForFrame(page: Page, match: (url: string) => boolean) {
	for (let tries = 0; tries < 200; tries++) {
		const frame = page.frames().find((candidate) => candidate !== page.mainFrame() && match(candidate.url()));
		if (frame) return frame;
		await page.waitForTimeout(50);
	}
	throw new Error(`no frame matched; frames: ${page.frames().map((frame) => frame.url())}`);
}

test("a name field keeps as many characters as the server counts: 40 emoji type in full, a 41st is not kept", async () => {
	const page = await person();
	await page.goto(meet.stack.url);
	const field = page.getByTestId("create-name");
	// Each of these is one character to a person and to the server, two UTF-16 units to the browser.
	await field.pressSequentially("😀".repeat(limits.nameMaxLength + 1));
	assert.equal(Array.from(await field.inputValue()).length, limits.nameMaxLength);
	await page.getByTestId("create-room").click();
	await page.waitForURL(/\/r\/[A-Za-z0-9]+$/);
	await tile(page, "😀".repeat(limits.nameMaxLength), true).waitFor();
});
