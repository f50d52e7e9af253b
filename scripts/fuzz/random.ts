/**
 * A seeded PRNG (mulberry32) and the hostile values both fuzzers draw from,
 * so a failing run is replayed exactly with the seed it printed.
 */
export class Random {
	#state: number;

	constructor(seed: number) {
		this.#state = seed >>> 0;
	}

	/** Uniform in [0, 1). */
	next(): number {
		this.#state = (this.#state + 0x6d2b79f5) >>> 0;
		let t = this.#state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	}

	int(max: number): number {
		return Math.floor(this.next() * max);
	}

	chance(p: number): boolean {
		return this.next() < p;
	}

	pick<T>(items: readonly T[]): T {
		const item = items[this.int(items.length)];
		if (item === undefined) throw new Error("pick from an empty list");
		return item;
	}

	string(length: number): string {
		const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
		let out = "";
		for (let i = 0; i < length; i++) out += alphabet[this.int(alphabet.length)];
		return out;
	}
}

/** JSON nested `depth` levels deep, as objects or arrays. */
export function deepJson(depth: number, asArray: boolean): unknown {
	let value: unknown = 1;
	for (let i = 0; i < depth; i++) value = asArray ? [value] : { a: value };
	return value;
}

/** JSON text nested `depth` levels deep: deeper than JSON.stringify can write from a value. */
export function deepJsonText(depth: number, asArray: boolean): string {
	return asArray ? `${"[".repeat(depth)}1${"]".repeat(depth)}` : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}

/** A value of some other kind than expected: wrong types, extremes, huge and nested. */
export function hostileValue(random: Random): unknown {
	switch (random.int(20)) {
		case 0:
			return null;
		case 1:
			return -1;
		case 2:
			return Number.MAX_SAFE_INTEGER * 1e10;
		case 3:
			return -0;
		case 4:
			return 1.5;
		case 5:
			return "NaN";
		case 6:
			return "Infinity";
		case 7:
			return true;
		case 8:
			return "";
		case 9:
			return "x".repeat(random.pick([300, 5_000, 40_000]));
		case 10:
			return deepJson(random.pick([50, 500, 1_000]), random.chance(0.5));
		case 11:
			return [];
		case 12:
			return [1, "a", null, {}];
		case 13:
			return {};
		case 14:
			return { __proto__: { polluted: true }, constructor: { prototype: { polluted: true } } };
		case 15:
			return "\u0000\u0007\u202e\ud800control";
		case 16:
			return "../../etc/passwd";
		case 17:
			return random.string(random.int(40));
		case 18:
			return 1e308;
		default:
			return { toString: "x", valueOf: 1, length: -1 };
	}
}

/** Change a valid JSON object the ways a hostile client would: drop, add or retype fields, or replace it. */
export function mutateObject(random: Random, valid: unknown): unknown {
	if (valid === null || typeof valid !== "object" || Array.isArray(valid)) {
		return random.chance(0.5) ? hostileValue(random) : valid;
	}
	const object: Record<string, unknown> = { ...(valid as Record<string, unknown>) };
	const keys = Object.keys(object);
	switch (random.int(7)) {
		case 0: {
			if (keys.length > 0) delete object[random.pick(keys)];
			return object;
		}
		case 1:
			object[random.pick(["extra", "__proto__", "constructor", random.string(8)])] = hostileValue(random);
			return object;
		case 2:
			if (keys.length > 0) object[random.pick(keys)] = hostileValue(random);
			return object;
		case 3: {
			if (keys.length > 0) {
				const key = random.pick(keys);
				object[key] = mutateObject(random, object[key]);
			}
			return object;
		}
		case 4:
			return [object];
		case 5:
			return hostileValue(random);
		default:
			for (const key of keys) if (random.chance(0.5)) object[key] = hostileValue(random);
			return object;
	}
}
