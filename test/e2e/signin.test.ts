/**
 * ROOM_CREATION=password through the real processes and real Chromium: the
 * home page asks hosts for the team password before "create a room",
 * remembers the sign-in on the device and can sign out; a guest still joins
 * with nothing but a name.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { answerKnock, firstFrame, knock, tile } from "@mindmeet/testing/flows";
import { e2e } from "./harness.ts";

const password = "team host password";
const meet = e2e({ env: { ROOM_CREATION: "password", ROOM_CREATION_PASSWORD: password } });

test("the home page asks for the host password; after sign-in the host creates a room and a guest joins with a name only", async () => {
	const host = await meet.person();
	await host.goto(meet.stack.url);
	await host.getByTestId("signin-password").waitFor();
	assert.equal(await host.getByTestId("create-room").count(), 0, "no create button before signing in");
	assert.equal(await host.getByTestId("signin-name").count(), 0, "password mode asks for no name");

	await host.getByTestId("signin-password").fill("not the password");
	await host.getByTestId("signin-submit").click();
	await host.getByTestId("signin-error").waitFor();
	assert.equal(await host.getByTestId("create-room").count(), 0);

	await host.getByTestId("signin-password").fill(password);
	await host.getByTestId("signin-submit").click();
	await host.getByTestId("signed-in").waitFor();
	await host.getByTestId("create-name").fill("Ana");
	await host.getByTestId("create-room").click();
	await host.waitForURL(/\/r\/[A-Za-z0-9]+$/);
	await tile(host, "Ana", true).waitFor();
	const link = host.url();

	// The guest: a fresh browser context, no sign-in, only a name.
	const guest = await meet.person();
	await knock(guest, link, "Bia");
	assert.equal(await guest.getByTestId("signin-password").count(), 0);
	await answerKnock(host, "Bia", "admit");
	await firstFrame(guest, "Ana");
	await firstFrame(host, "Bia");
});

test("the sign-in is remembered on the device until sign-out", async () => {
	const host = await meet.person();
	await host.goto(meet.stack.url);
	await host.getByTestId("signin-password").fill(password);
	await host.getByTestId("signin-submit").click();
	await host.getByTestId("signed-in").waitFor();

	await host.reload();
	await host.getByTestId("signed-in").waitFor();
	await host.getByTestId("create-room").waitFor();
	assert.equal(await host.getByTestId("signin-password").count(), 0);

	await host.getByTestId("signout").click();
	await host.getByTestId("signin-password").waitFor();
	assert.equal(await host.evaluate(() => localStorage.getItem("mindmeet:host-session")), null);
	await host.reload();
	await host.getByTestId("signin-password").waitFor();
	assert.equal(await host.getByTestId("create-room").count(), 0);
});
