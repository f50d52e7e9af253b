import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { missingPlatformEntries } from "../scripts/lock-platforms.ts";
import { repoRoot } from "../scripts/stack.ts";

test("package-lock.json lists biome's binaries for every platform, so npm ci accepts it anywhere", () => {
	const lock = JSON.parse(readFileSync(join(repoRoot, "package-lock.json"), "utf8"));
	assert.deepEqual(missingPlatformEntries(lock), [], "run: node scripts/lock-platforms.ts");
});
