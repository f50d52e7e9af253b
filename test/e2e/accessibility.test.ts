/**
 * axe-core (the repo's pinned copy) on the real screens in real Chromium, at
 * desktop and phone sizes. Violations of impact "serious" or "critical" fail
 * the test, all of them listed with the elements they concern.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { openChat, sendChat, waitForChatMessage } from "@mindmeet/testing/chat";
import { answerKnock, createRoom, knock, tile } from "@mindmeet/testing/flows";
import { animationsSettled } from "@mindmeet/testing/watch";
import type { AxeResults } from "axe-core";
import type { Page } from "playwright-core";
import { repoRoot } from "../../scripts/stack.ts";
import { e2e } from "./harness.ts";

const axeSource = readFileSync(join(repoRoot, "node_modules/axe-core/axe.min.js"), "utf8");
const viewports = {
	desktop: { width: 1280, height: 800 },
	phone: { width: 390, height: 844 },
} as const;

const meet = e2e();
const person = (viewport: { width: number; height: number }) => meet.person({ viewport });

/** Serious and critical axe violations on the page as it is now, one line per rule. */
async function axeProblems(page: Page, screen: string): Promise<string[]> {
	await animationsSettled(page);
	// Evaluated, not added as an inline <script>: the API's CSP (script-src 'self') blocks those, as it should.
	if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(axeSource);
	const violations = await page.evaluate(async () => {
		const axe = (window as unknown as { axe: { run: (context: Document, options: object) => Promise<AxeResults> } })
			.axe;
		const results = await axe.run(document, { resultTypes: ["violations"] });
		const rulesRun =
			results.passes.length + results.violations.length + results.incomplete.length + results.inapplicable.length;
		if (rulesRun < 20) throw new Error(`axe ran only ${rulesRun} rules`);
		return results.violations
			.filter((violation) => violation.impact === "serious" || violation.impact === "critical")
			.map((violation) => ({
				id: violation.id,
				impact: violation.impact,
				help: violation.help,
				nodes: violation.nodes.map((node) => `${node.target.join(" ")} — ${node.failureSummary ?? ""}`.trim()),
			}));
	});
	return violations.map(
		(violation) =>
			`[${screen}] ${violation.impact} ${violation.id}: ${violation.help}\n      ${violation.nodes.slice(0, 6).join("\n      ")}`,
	);
}

function assertClean(problems: string[]): void {
	assert.equal(problems.length, 0, `axe found serious/critical violations:\n  ${problems.join("\n  ")}`);
}

for (const [size, viewport] of Object.entries(viewports)) {
	test(`${size}: home, pre-join and waiting`, { timeout: 300_000 }, async () => {
		const host = await person(viewport);
		const guest = await person(viewport);
		const problems: string[] = [];

		await host.goto(meet.stack.url);
		await host.getByTestId("create-room").waitFor();
		problems.push(...(await axeProblems(host, "home")));

		const link = await createRoom(host, meet.stack.url, "Ana");
		await guest.goto(link);
		await guest.getByTestId("knock").waitFor();
		problems.push(...(await axeProblems(guest, "pre-join")));

		await knock(guest, link, "Bia");
		problems.push(...(await axeProblems(guest, "waiting")));
		assertClean(problems);
	});

	test(`${size}: call screen — alone panel, knock modal, two people, participants and invite panels`, {
		timeout: 300_000,
	}, async () => {
		const host = await person(viewport);
		const guest = await person(viewport);
		const problems: string[] = [];

		const link = await createRoom(host, meet.stack.url, "Caio");
		await host.getByTestId("alone-panel").waitFor();
		problems.push(...(await axeProblems(host, "call, alone panel")));

		await knock(guest, link, "Duda");
		await host.getByTestId("knock-modal").waitFor();
		problems.push(...(await axeProblems(host, "call, knock modal")));

		await answerKnock(host, "Duda", "admit");
		await tile(host, "Duda").waitFor();
		await tile(guest, "Caio").waitFor();
		problems.push(...(await axeProblems(host, "call, host with a guest")));
		problems.push(...(await axeProblems(guest, "call, guest")));

		await host.getByTestId("participants-toggle").click();
		await host.getByTestId("participant").first().waitFor();
		problems.push(...(await axeProblems(host, "call, participants panel")));
		await host.getByTestId("participants-toggle").click();

		await guest.getByTestId("invite").click();
		await guest.getByTestId("invite-link").waitFor();
		problems.push(...(await axeProblems(guest, "call, invite panel")));
		assertClean(problems);
	});

	test(`${size}: call screen with the chat open`, { timeout: 300_000 }, async () => {
		const host = await person(viewport);
		const guest = await person(viewport);
		const link = await createRoom(host, meet.stack.url, "Edu");
		await knock(guest, link, "Fabi");
		await answerKnock(host, "Fabi", "admit");
		await tile(guest, "Edu").waitFor();

		await openChat(guest);
		await sendChat(guest, "Oi, Edu!");
		await openChat(host);
		await waitForChatMessage(host, "Oi, Edu!");
		assertClean([...(await axeProblems(host, "chat, receiver")), ...(await axeProblems(guest, "chat, sender"))]);
	});
}
