/**
 * Host accounts from the command line, straight in the Redis the API uses
 * (REDIS_URL): works with the API stopped and needs no ADMIN_TOKEN.
 *
 *   ./mindmeet accounts list
 *   ./mindmeet accounts add <name>       asks for the password (or reads one line from stdin)
 *   ./mindmeet accounts passwd <name>    new password; the account's sign-ins end
 *   ./mindmeet accounts remove <name>    the account's sign-ins end at once
 *
 * With compose: docker compose exec api node services/api/src/accounts/cli.ts add ana
 */
import { createClient } from "redis";
import { hostPasswordMinLength } from "../config.ts";
import { AccountStore, accountNameRegExp } from "./store.ts";

const usage = `usage: mindmeet accounts <command> [name]

  list             host accounts (name, created)
  add <name>       create an account; the password is asked for, or read from stdin (one line)
  passwd <name>    set a new password; sign-ins made with the old one stop working
  remove <name>    delete the account; its sign-ins stop working

Accounts are used when the API runs with ROOM_CREATION=accounts. Talks to
REDIS_URL (default redis://127.0.0.1:6379), the Redis the API uses.
Names: lower-case letters, digits, '.', '_', '-' (1-64, starting with a letter or digit).
Passwords: ${hostPasswordMinLength} to 256 characters.`;

class CliError extends Error {}

/** Read one line without echoing it (a terminal), or the first line of stdin (a pipe). */
async function readSecret(prompt: string): Promise<string> {
	const input = process.stdin;
	if (!input.isTTY) {
		let data = "";
		for await (const chunk of input) {
			data += String(chunk);
			if (data.includes("\n")) break;
		}
		return data.split(/\r?\n/)[0] ?? "";
	}
	process.stderr.write(prompt);
	input.setRawMode(true);
	input.resume();
	input.setEncoding("utf8");
	try {
		return await new Promise<string>((resolve, reject) => {
			let line = "";
			const onData = (chunk: string) => {
				for (const char of chunk) {
					if (char === "\r" || char === "\n") {
						input.off("data", onData);
						process.stderr.write("\n");
						resolve(line);
						return;
					}
					if (char === "\u0003") {
						input.off("data", onData);
						process.stderr.write("\n");
						reject(new CliError("cancelled"));
						return;
					}
					if (char === "\u007f" || char === "\b") line = [...line].slice(0, -1).join("");
					else line += char;
				}
			};
			input.on("data", onData);
		});
	} finally {
		input.setRawMode(false);
		input.pause();
	}
}

async function newPassword(): Promise<string> {
	const password = await readSecret("password: ");
	const length = [...password].length;
	if (length < hostPasswordMinLength || length > 256) {
		throw new CliError(`the password must be ${hostPasswordMinLength} to 256 characters`);
	}
	if (process.stdin.isTTY && (await readSecret("again: ")) !== password) {
		throw new CliError("the passwords differ");
	}
	return password;
}

function accountName(raw: string | undefined): string {
	if (raw === undefined) throw new CliError(`a name is required\n\n${usage}`);
	if (!accountNameRegExp.test(raw)) {
		throw new CliError(
			`${JSON.stringify(raw)} is not a valid name: lower-case letters, digits, '.', '_', '-' (1-64, starting with a letter or digit)`,
		);
	}
	return raw;
}

/** Runs one command; returns the exit code. Output goes to the given streams (tests read them). */
export async function runAccountsCli(
	args: string[],
	env: NodeJS.ProcessEnv,
	out: (line: string) => void,
	err: (line: string) => void,
): Promise<number> {
	const [command, rawName, ...extra] = args;
	if (command === undefined || command === "help" || command === "-h" || command === "--help") {
		(command === undefined ? err : out)(usage);
		return command === undefined ? 2 : 0;
	}
	if (!["list", "add", "passwd", "remove"].includes(command) || extra.length > 0) {
		err(`unknown command: ${args.join(" ")}\n\n${usage}`);
		return 2;
	}
	const url = env.REDIS_URL?.trim() || "redis://127.0.0.1:6379";
	if (!/^rediss?:\/\//.test(url)) {
		err("REDIS_URL must start with redis:// or rediss://");
		return 2;
	}
	try {
		const name = command === "list" ? undefined : accountName(rawName);
		if (command === "list" && rawName !== undefined) throw new CliError(`list takes no name\n\n${usage}`);
		const password = command === "add" || command === "passwd" ? await newPassword() : undefined;
		// No retries: an unreachable Redis is reported at once instead of hanging.
		const client = createClient({ url, socket: { connectTimeout: 5_000, reconnectStrategy: false } });
		client.on("error", () => {});
		try {
			await client.connect();
		} catch (error) {
			throw new CliError(`cannot reach Redis at ${url}: ${error instanceof Error ? error.message : String(error)}`);
		}
		try {
			const store = new AccountStore(client);
			if (command === "list") {
				for (const account of await store.list()) out(`${account.name}\t${new Date(account.createdAt).toISOString()}`);
			} else if (command === "add" && name !== undefined && password !== undefined) {
				if (!(await store.create(name, password)).created) throw new CliError(`account ${name} already exists`);
				out(`account ${name} created`);
			} else if (command === "passwd" && name !== undefined && password !== undefined) {
				if (!(await store.setPassword(name, password))) throw new CliError(`no account named ${name}`);
				out(`password of ${name} changed; its sign-ins have ended`);
			} else if (command === "remove" && name !== undefined) {
				if (!(await store.remove(name))) throw new CliError(`no account named ${name}`);
				out(`account ${name} removed`);
			}
		} finally {
			client.destroy();
		}
		return 0;
	} catch (error) {
		if (!(error instanceof CliError)) throw error;
		err(`mindmeet accounts: ${error.message}`);
		return 1;
	}
}

if (import.meta.main) {
	const code = await runAccountsCli(
		process.argv.slice(2),
		process.env,
		(line) => process.stdout.write(`${line}\n`),
		(line) => process.stderr.write(`${line}\n`),
	);
	process.exitCode = code;
}
