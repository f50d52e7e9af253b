import assert from "node:assert/strict";
import { test } from "node:test";
import { fitGrid, tileGap } from "../src/room/grid-layout.ts";
import {
	arrangeTiles,
	clampPage,
	desktopPageSize,
	pageCount,
	pageOf,
	pageSizeFor,
	phonePageSize,
	promote,
	promotedIds,
	promotionHoldMs,
} from "../src/room/paging.ts";

const people = (n: number) => ["self", ...Array.from({ length: n - 1 }, (_, i) => `p${i + 1}`)];

test("16 tiles a page on a desktop box, 6 on a phone-sized one", () => {
	assert.equal(pageSizeFor(1200), desktopPageSize);
	assert.equal(pageSizeFor(390), phonePageSize);
	// Not measured yet: the desktop size, so nothing is hidden by a zero-width first pass.
	assert.equal(pageSizeFor(0), desktopPageSize);
	assert.equal(desktopPageSize, 16);
	assert.equal(phonePageSize, 6);
});

test("pages cover everyone once, ourselves first; a page that no longer exists becomes the last", () => {
	const ids = people(20);
	assert.equal(pageCount(20, 16), 2);
	assert.equal(pageCount(16, 16), 1);
	assert.equal(pageCount(0, 16), 1);
	const first = pageOf(ids, 0, 16);
	const second = pageOf(ids, 1, 16);
	assert.equal(first.length, 16);
	assert.equal(second.length, 4);
	assert.equal(first[0], "self");
	assert.deepEqual([...first, ...second], ids);
	assert.equal(clampPage(5, 20, 16), 1);
	assert.equal(clampPage(-1, 20, 16), 0);
	assert.deepEqual(pageOf(ids, 7, 16), second);
	assert.deepEqual(pageOf(people(13), 2, 6), ["p12"]);
});

test("a speaker beyond the first page swaps with the last tile of the first page", () => {
	const ids = people(20);
	const order = arrangeTiles(ids, ["p18"], 16);
	assert.equal(order[15], "p18");
	assert.equal(order[18], "p15", "the displaced tile takes the speaker's place");
	assert.deepEqual([...order].sort(), [...ids].sort(), "nobody lost or doubled");
	// Two speakers: the second takes the next slot, the first keeps its own.
	const two = arrangeTiles(ids, ["p18", "p17"], 16);
	assert.equal(two[15], "p18");
	assert.equal(two[14], "p17");
	assert.equal(two[0], "self");
	// On the first page already, or gone: nothing moves.
	assert.deepEqual(arrangeTiles(ids, ["p3", "gone"], 16), ids);
	// Never our own tile, even with a tiny page.
	assert.deepEqual(arrangeTiles(["self", "a", "b"], ["b"], 1), ["self", "a", "b"]);
});

test("promotions last a while after the last word, renew while speaking, and are bounded", () => {
	const firstPage = new Set(["self", "p1", "p2"]);
	const onFirstPage = (id: string) => firstPage.has(id);
	let promotions = promote({ until: new Map() }, ["p9", "p1"], onFirstPage, 1000, 6);
	assert.deepEqual(promotedIds(promotions), ["p9"], "a speaker already on the first page stays put");
	promotions = promote(promotions, ["p7"], onFirstPage, 2000, 6);
	assert.deepEqual(promotedIds(promotions), ["p9", "p7"]);
	// p9 speaks again: renewed in place, not moved behind p7 (which would reshuffle the tiles).
	promotions = promote(promotions, ["p9"], onFirstPage, 1000 + promotionHoldMs - 1, 6);
	assert.deepEqual(promotedIds(promotions), ["p9", "p7"]);
	promotions = promote(promotions, [], onFirstPage, 2000 + promotionHoldMs, 6);
	assert.deepEqual(promotedIds(promotions), ["p9"], "p7 expired");
	promotions = promote(promotions, [], onFirstPage, 1000 + 2 * promotionHoldMs, 6);
	assert.deepEqual(promotedIds(promotions), []);
	// At most pageSize - 1, the oldest dropped first.
	promotions = promote({ until: new Map() }, ["a", "b", "c", "d"], onFirstPage, 0, 3);
	assert.deepEqual(promotedIds(promotions), ["c", "d"]);
});

test("a phone's page of people uses both columns once one column would not span the width", () => {
	// A phone in portrait: 390 wide, about 600 tall for the grid.
	const six = fitGrid(6, 390, 600);
	assert.equal(six.columns, 2);
	assert.ok(six.tileWidth * 2 + tileGap <= 390 && six.tileWidth > 150, `tile width ${six.tileWidth}`);
	// One column of narrow tiles would be a few pixels larger, and leave half the width empty.
	assert.equal(fitGrid(4, 390, 600).columns, 2);
	assert.equal(fitGrid(5, 390, 600).columns, 2);
	// While one column spans the whole width, it stays.
	assert.deepEqual(fitGrid(3, 390, 700), { columns: 1, tileWidth: 390 });
	assert.equal(fitGrid(2, 390, 600).columns, 1);
	// A desktop's full page: every tile at once, in rows.
	const sixteen = fitGrid(16, 1280, 700);
	assert.equal(sixteen.columns, 4);
	assert.ok(sixteen.tileWidth >= 140);
});
