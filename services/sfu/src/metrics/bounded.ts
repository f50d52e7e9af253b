/**
 * Run at most `limit` of `tasks`, `concurrency` at a time, and stop waiting
 * at `deadline` (epoch ms). A task that failed, was not started, or had not
 * answered by the deadline gives undefined. Scrapes use it so that asking
 * thousands of mediasoup objects for their stats costs a bounded time and a
 * bounded number of worker requests, however big the node is.
 */
export async function settleBounded<T>(
	tasks: readonly (() => Promise<T>)[],
	options: { limit: number; concurrency: number; deadline: number },
): Promise<(T | undefined)[]> {
	const results: (T | undefined)[] = new Array(tasks.length).fill(undefined);
	const count = Math.min(tasks.length, options.limit);
	let next = 0;
	let timer: NodeJS.Timeout | undefined;
	const expired = new Promise<"expired">((resolve) => {
		timer = setTimeout(() => resolve("expired"), Math.max(0, options.deadline - Date.now()));
	});
	const lane = async () => {
		while (next < count && Date.now() < options.deadline) {
			const index = next++;
			const task = tasks[index];
			if (!task) continue;
			const outcome = await Promise.race([
				task().then(
					(value) => ({ value }),
					() => undefined,
				),
				expired,
			]);
			if (outcome === "expired") return;
			if (outcome) results[index] = outcome.value;
		}
	};
	try {
		await Promise.all(Array.from({ length: Math.min(options.concurrency, count) }, lane));
	} finally {
		clearTimeout(timer);
	}
	return results;
}
