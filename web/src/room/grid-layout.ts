/** How a tile grid is laid out: this many columns of tiles this wide (16:9, so the height follows). */
export interface GridFit {
	columns: number;
	tileWidth: number;
}

export const tileAspect = 16 / 9;
export const tileGap = 8;
/** Below this a face is hard to make out: rather scroll than shrink tiles further. */
const minTileWidth = 140;
/** Boxes narrower than this are phones (or a side strip): one or two columns, scrolling when needed. */
const narrowBox = 560;

/**
 * The column count that shows `count` tiles as large as possible inside a
 * box, all at once (no scrolling), trying every count of columns: a wide
 * stage ends up with rows of tiles, a tall one with a column. When even the
 * best fit makes tiles too small to see, tiles keep a usable width instead
 * and the box scrolls.
 */
export function fitGrid(count: number, width: number, height: number): GridFit {
	const tiles = Math.max(1, count);
	const maxColumns = Math.min(tiles, width < narrowBox ? 2 : 6);
	let best: GridFit = { columns: 1, tileWidth: 0 };
	// On a phone, one column is kept only while its tiles span the whole
	// width. Once the height squeezes them (four people and more), one column
	// of narrow tiles would win by a few pixels and leave half the screen
	// empty: two columns use the whole width instead.
	const oneColumnWidth = ((height - tileGap * (tiles - 1)) / tiles) * tileAspect;
	const firstColumns = width > 0 && width < narrowBox && tiles >= 3 && oneColumnWidth < width ? 2 : 1;
	for (let columns = firstColumns; columns <= maxColumns; columns++) {
		const rows = Math.ceil(tiles / columns);
		const byWidth = (width - tileGap * (columns - 1)) / columns;
		const byHeight = ((height - tileGap * (rows - 1)) / rows) * tileAspect;
		const tileWidth = Math.floor(Math.min(byWidth, byHeight));
		if (tileWidth > best.tileWidth) best = { columns, tileWidth };
	}
	if (best.tileWidth >= minTileWidth || width <= 0)
		return { columns: best.columns, tileWidth: Math.max(0, best.tileWidth) };
	const columns = Math.max(1, Math.min(maxColumns, Math.floor((width + tileGap) / (minTileWidth + tileGap))));
	return { columns, tileWidth: Math.floor((width - tileGap * (columns - 1)) / columns) };
}
