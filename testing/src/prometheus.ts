/**
 * Reading Prometheus text format in tests: just enough of the exposition
 * format (https://prometheus.io/docs/instrumenting/exposition_formats/) to
 * look up a sample by name and labels. Comments and TYPE lines are kept
 * apart so a test can check a metric's declared type.
 */
export interface Sample {
	name: string;
	labels: Record<string, string>;
	value: number;
}

export interface Scrape {
	samples: Sample[];
	/** Metric name → declared type (counter, gauge, histogram…). */
	types: Map<string, string>;
	text: string;
}

const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parsePrometheus(text: string): Scrape {
	const samples: Sample[] = [];
	const types = new Map<string, string>();
	for (const line of text.split("\n")) {
		if (line.startsWith("# TYPE ")) {
			const [name, type] = line.slice("# TYPE ".length).split(" ");
			if (name && type) types.set(name, type);
			continue;
		}
		if (line.startsWith("#") || line.trim() === "") continue;
		const match = sampleLine.exec(line);
		if (!match) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
		const labels: Record<string, string> = {};
		for (const pair of (match[2] ?? "").matchAll(labelPair)) labels[pair[1] as string] = pair[2] as string;
		samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
	}
	return { samples, types, text };
}

/** The samples of `name` whose labels include `labels`. */
export function samplesOf(scrape: Scrape, name: string, labels: Record<string, string> = {}): Sample[] {
	return scrape.samples.filter(
		(sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
	);
}

/** The sum of the matching samples; throws if there is none (a missing metric is a failure, not a zero). */
export function metricValue(scrape: Scrape, name: string, labels: Record<string, string> = {}): number {
	const found = samplesOf(scrape, name, labels);
	if (found.length === 0) throw new Error(`no sample ${name}${JSON.stringify(labels)} in the scrape`);
	return found.reduce((sum, sample) => sum + sample.value, 0);
}

/** GET a /metrics URL (with a bearer token if given) and parse it; throws on anything but 200. */
export async function scrape(url: string, token?: string): Promise<Scrape> {
	const response = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
	const text = await response.text();
	if (response.status !== 200) throw new Error(`${url} answered ${response.status}: ${text.slice(0, 200)}`);
	const type = response.headers.get("content-type") ?? "";
	if (!type.startsWith("text/plain")) throw new Error(`${url} answered content-type ${type}`);
	return parsePrometheus(text);
}
