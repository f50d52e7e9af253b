/**
 * The verifier remembers good tokens (those it checked, and those this
 * instance signed) so a host's token costs one Ed25519 check, or none. These
 * tests pin down what remembering must not change: expiry, forgeries,
 * immutable claims, and a bounded memory that falls back to the real check.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
	type PublicKeyStore,
	redisPublicKeyStore,
	TokenError,
	TokenSigner,
	TokenVerifier,
} from "@mindmeet/protocol/token-keys";
import { type RedisServer, startRedis } from "@mindmeet/testing/redis";
import { createClient } from "redis";

type Client = ReturnType<typeof createClient>;

/** The real Redis-backed store, counting how often the verifier has to look a key up. */
function countingStore(client: Client): PublicKeyStore & { lookups: number } {
	const store = redisPublicKeyStore(client);
	const counted = {
		lookups: 0,
		get: (kid: string) => {
			counted.lookups += 1;
			return store.get(kid);
		},
		set: store.set,
	};
	return counted;
}

const request = { room: "abcdefghjk", peerId: "peer-1", name: "Ana", role: "host" as const, ttlSeconds: 600 };

async function refusal(promise: Promise<unknown>): Promise<string> {
	try {
		await promise;
	} catch (error) {
		assert.ok(error instanceof TokenError, `expected a TokenError, got ${String(error)}`);
		return error.reason;
	}
	assert.fail("the token was accepted");
}

describe("remembered tokens", () => {
	let redisServer: RedisServer;
	let client: Client;
	let signer: TokenSigner;

	before(async () => {
		redisServer = await startRedis();
		client = createClient({ url: redisServer.url });
		await client.connect();
		signer = await TokenSigner.create(redisPublicKeyStore(client), 3600);
	});
	after(async () => {
		client?.destroy();
		await redisServer?.stop();
	});

	test("a token this instance signed is accepted without a key lookup or signature check", async () => {
		const store = countingStore(client);
		const verifier = new TokenVerifier(store);
		const { token, claims } = await signer.sign(request);
		verifier.remember(token, claims);
		assert.deepEqual(await verifier.verify(token), claims);
		assert.equal(store.lookups, 0);
	});

	test("a checked token is remembered: the second presentation gets the same claims back, not a new check", async () => {
		const verifier = new TokenVerifier(countingStore(client));
		const { token, claims } = await signer.sign(request);
		const first = await verifier.verify(token);
		assert.deepEqual(first, claims);
		assert.equal(await verifier.verify(token), first, "the very object remembered from the first check");
	});

	test("a remembered token past its expiry is refused as expired", async () => {
		const verifier = new TokenVerifier(countingStore(client));
		const { token, claims } = await signer.sign(request);
		verifier.remember(token, { ...claims, exp: Math.floor(Date.now() / 1000) - 1 });
		assert.equal(await refusal(verifier.verify(token)), "token-expired");
	});

	test("a token one character away from a remembered one still gets its signature checked", async () => {
		const verifier = new TokenVerifier(countingStore(client));
		const { token, claims } = await signer.sign(request);
		verifier.remember(token, claims);
		const [header, payload, signature] = token.split(".") as [string, string, string];
		const flipped = `${signature.slice(0, -2)}${signature.at(-2) === "A" ? "B" : "A"}${signature.at(-1)}`;
		assert.equal(await refusal(verifier.verify(`${header}.${payload}.${flipped}`)), "token-invalid");
		const otherClaims = Buffer.from(JSON.stringify({ ...claims, role: "admin" })).toString("base64url");
		assert.equal(await refusal(verifier.verify(`${header}.${otherClaims}.${signature}`)), "token-invalid");
	});

	test("remembered claims cannot be changed by one caller for the next", async () => {
		const verifier = new TokenVerifier(countingStore(client));
		const { token, claims } = await signer.sign(request);
		verifier.remember(token, claims);
		const first = await verifier.verify(token);
		assert.throws(() => {
			(first as { role: string }).role = "guest";
		}, TypeError);
		assert.equal((await verifier.verify(token)).role, "host");
	});

	test("memory is bounded: a forgotten token is checked again, and still accepted", async () => {
		const store = countingStore(client);
		const verifier = new TokenVerifier(store, { knownTokens: 2 });
		const tokens = await Promise.all([1, 2, 3].map((n) => signer.sign({ ...request, peerId: `peer-${n}` })));
		for (const { token, claims } of tokens) verifier.remember(token, claims);
		const [oldest] = tokens;
		assert.ok(oldest);
		assert.deepEqual(await verifier.verify(oldest.token), oldest.claims);
		assert.equal(store.lookups, 1, "the oldest token was dropped, so its key had to be looked up");
	});
});
