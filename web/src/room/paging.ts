/**
 * Which tiles the grid shows: a page at a time (16 on a desktop, 6 on a
 * phone), ourselves first, whoever speaks brought onto the first page. Pure,
 * so the rules are tested without a browser (web/test/paging.test.ts).
 */

export const desktopPageSize = 16;
export const phonePageSize = 6;
/** Grid boxes narrower than this are phones (see grid-layout.ts, which uses two columns there). */
export const phoneBoxWidth = 560;

export function pageSizeFor(boxWidth: number): number {
	return boxWidth > 0 && boxWidth < phoneBoxWidth ? phonePageSize : desktopPageSize;
}

export function pageCount(tiles: number, pageSize: number): number {
	return Math.max(1, Math.ceil(tiles / pageSize));
}

/** A page number that exists (the last one when people left and it shrank). */
export function clampPage(page: number, tiles: number, pageSize: number): number {
	return Math.min(Math.max(0, page), pageCount(tiles, pageSize) - 1);
}

/**
 * The order of the tiles: `ids` as they come (ourselves first), except that
 * each id in `promoted` (recent speakers, oldest first) that would fall
 * beyond the first page swaps places with the last tile of the first page
 * that is neither the first tile nor promoted itself. Swapping, rather than
 * moving everyone along, changes only two tiles per speaker.
 */
export function arrangeTiles(ids: readonly string[], promoted: readonly string[], pageSize: number): string[] {
	const order = [...ids];
	const pinned = new Set(promoted);
	for (const id of promoted) {
		const from = order.indexOf(id);
		if (from < pageSize) continue;
		for (let slot = Math.min(pageSize, order.length) - 1; slot >= 1; slot--) {
			const displaced = order[slot];
			if (displaced === undefined || pinned.has(displaced)) continue;
			order[slot] = id;
			order[from] = displaced;
			break;
		}
	}
	return order;
}

/** The tiles of one page of an arrangement. */
export function pageOf<T>(order: readonly T[], page: number, pageSize: number): T[] {
	const current = clampPage(page, order.length, pageSize);
	return order.slice(current * pageSize, (current + 1) * pageSize);
}

/**
 * Recent speakers, so that a speaker brought forward stays there for a while
 * instead of tiles swapping back and forth on every breath.
 */
export interface Promotions {
	/** By id, when the promotion ends (epoch ms). */
	readonly until: ReadonlyMap<string, number>;
}

export const promotionHoldMs = 8_000;

/**
 * Promotions after `speaking` were heard at `now`: each speaker's hold is
 * renewed, new speakers are added (oldest first, at most pageSize - 1 of
 * them: the first tile is ours), expired ones dropped. A speaker already on
 * the first page needs no promotion (`onFirstPage`).
 */
export function promote(
	current: Promotions,
	speaking: readonly string[],
	onFirstPage: (id: string) => boolean,
	now: number,
	pageSize: number,
): Promotions {
	const until = new Map<string, number>();
	for (const [id, end] of current.until) if (end > now) until.set(id, end);
	for (const id of speaking) {
		if (until.has(id)) {
			// Renewed, keeping its place in the order (delete would move it last).
			until.set(id, now + promotionHoldMs);
		} else if (!onFirstPage(id)) {
			until.set(id, now + promotionHoldMs);
		}
	}
	const ids = [...until.keys()];
	for (const id of ids.slice(0, Math.max(0, ids.length - (pageSize - 1)))) until.delete(id);
	return { until };
}

/** The promoted ids, oldest first, as arrangeTiles takes them. */
export function promotedIds(promotions: Promotions): string[] {
	return [...promotions.until.keys()];
}
