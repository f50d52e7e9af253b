/**
 * A full room in the lobby, through the real processes and Chromium, with
 * ROOM_MAX_PEERS=2 for both services: a guest knocking on a full room is
 * told so at once (pt-BR and English), the host's admit into a full room is
 * refused with the reason in the knock modal while the guest keeps waiting,
 * and the admission goes through once someone leaves.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { answerKnock, createRoom, knock, tile, toast } from "@mindmeet/testing/flows";
import type { Page } from "playwright-core";
import { e2e } from "./harness.ts";

const meet = e2e({ env: { ROOM_MAX_PEERS: "2" } });

/** Open the link and knock; resolves once the knock's answer is on screen (waiting, or back to the form). */
async function knockOnFullRoom(page: Page, link: string, name: string, expected: string): Promise<void> {
	await page.goto(link);
	await page.getByTestId("prejoin-name").fill(name);
	await page.getByTestId("knock").click();
	await toast(page, expected);
	// Back on the form, free to ask again later; never on the waiting screen.
	await page.getByTestId("knock").waitFor();
	assert.equal(await page.getByTestId("waiting").count(), 0, `${name} is not waiting`);
	assert.ok(((await page.locator("main").textContent()) ?? "").includes(expected), "the form says it too");
}

test("ROOM_MAX_PEERS=2: with the host and a guest inside, a knock is told the room is full and an admit is refused until a place frees", async () => {
	const host = await meet.person();
	const ana = await meet.person();
	const bia = await meet.person();
	const link = await createRoom(host, meet.stack.url, "Host");

	// Two knock while there is one place; the host admits Ana.
	await knock(ana, link, "Ana");
	await knock(bia, link, "Bia");
	await answerKnock(host, "Ana", "admit");
	await tile(host, "Ana").waitFor();
	await tile(ana, "Host").waitFor();

	// Bia's knock is next: admitting her into the full room is refused, the modal says why, Bia keeps waiting.
	const modal = host.getByTestId("knock-modal").filter({ hasText: "Bia" });
	await modal.waitFor();
	await modal.getByTestId("admit").click();
	await modal.filter({ hasText: "A sala está cheia. Aceite Bia quando alguém sair, ou recuse o pedido." }).waitFor();
	assert.equal(await bia.getByTestId("waiting").count(), 1, "Bia is still waiting");
	assert.equal(await tile(host, "Bia").count(), 0);

	// A new guest is told at once that the room is full, in their language.
	const caio = await meet.person();
	await knockOnFullRoom(caio, link, "Caio", "A sala está cheia agora. Peça para entrar de novo quando alguém sair.");
	const dan = await meet.person({ locale: "en" });
	await knockOnFullRoom(dan, link, "Dan", "The room is full right now. Ask to join again when someone leaves.");
	// Neither knock reached the host: Bia's is still the one on screen, nobody else waits behind it.
	assert.equal(await host.getByTestId("knock-modal").count(), 1);
	assert.ok(!((await host.getByTestId("knock-modal").textContent()) ?? "").match(/Caio|Dan/));

	// Ana leaves: the place is free, the host admits Bia, who gets in.
	await ana.getByTestId("leave").click();
	await tile(host, "Ana").waitFor({ state: "detached" });
	await answerKnock(host, "Bia", "admit");
	await tile(bia, "Host").waitFor();
	await tile(host, "Bia").waitFor();
});
