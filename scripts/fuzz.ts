/**
 * `npm run fuzz`: the full fuzz run (issue 9) against real processes, at
 * least 10,000 protoo frames and 10,000 HTTP requests. Prints the figures and
 * writes them to docs/RELIABILITY.md; exits 1 on any failure.
 *
 *   FUZZ_SEED=<n>        replay a run (the seed is printed at the start)
 *   FUZZ_PROTOO=<n>      protoo frames (default 10000)
 *   FUZZ_HTTP=<n>        HTTP requests (default 10000)
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fuzzTables, runFuzz } from "./fuzz/run.ts";
import { repoRoot } from "./stack.ts";

const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const protooMessages = Number(process.env.FUZZ_PROTOO ?? 10_000);
const httpRequests = Number(process.env.FUZZ_HTTP ?? 10_000);

console.log(`fuzz: seed ${seed} (replay with FUZZ_SEED=${seed} npm run fuzz)`);
const report = await runFuzz({
	seed,
	protooMessages,
	protooConnections: 12,
	httpRequests,
	log: (line) => console.log(line),
});
const tables = fuzzTables(report);
console.log(`\n${tables}\n`);
for (const failure of report.failures) console.log(`FAILURE: ${failure}`);
const listed = report.failures.slice(0, 50).map((failure) => `- ${failure.replaceAll("\n", " ")}`);
if (report.failures.length > listed.length) listed.push(`- … and ${report.failures.length - listed.length} more`);

const document = `# Reliability: fuzzing

Hostile clients must neither take Mindmeet down nor change anything they are
refused (issue 9). \`npm run fuzz\` checks it against the real processes:
\`scripts/stack.ts\` starts redis-server, the SFU (with its mediasoup worker)
and the API, exactly as \`npm start\` does, and two seeded fuzzers attack them.

## What is sent

- **protoo** (\`scripts/fuzz/protoo.ts\`): peers admitted through the real
  lobby (knock, host admits) open raw WebSockets with the \`protoo\`
  subprotocol through the API's \`/sfu/<node>\` proxy and send: valid requests
  for every method of \`clientRequestSchemas\`, the same requests mutated
  (fields dropped, added or retyped, huge strings, negative and NaN-like
  numbers, deeply nested JSON, arrays where objects go), unknown methods
  (\`__proto__\`, \`constructor\`…), malformed envelopes (no id, string ids,
  numeric methods), responses and notifications sent by the client, non-JSON
  text, binary frames, frames just under and over the 64 KiB limit, and
  out-of-order requests (produce before join, connect an unknown transport).
  Each connection is paced under the SFU's request limit (burst 50, 20/s);
  a connection the server closes (an oversize frame, flooding) is replaced
  by a freshly admitted peer: being cut is a correct outcome. A control peer
  (the host) in the same room pings every half second throughout.
- **HTTP** (\`scripts/fuzz/http.ts\`): every operation in the API's own
  \`GET /api/openapi.json\`, with path parameters mutated (real ids, empty,
  \`%00\`, traversal, 5,000 characters, bidi), queries, headers (missing,
  garbage, forged JWTs with \`alg: none\`, real tokens with one character
  changed, 7 KB tokens, Basic auth, forged \`X-Forwarded-For\`) and bodies
  built from the route's schema then mutated (wrong types, missing and extra
  fields, huge and deeply nested, not JSON, binary, over the 16 KiB limit,
  wrong content types). Requests go in batches of 20; every other batch
  carries no real credential, and when all its writes were refused (4xx),
  every \`mm:*\` key in Redis (type and value; not the SFU heartbeat
  \`mm:sfu:nodes\`, the signing keys \`mm:token-key:*\` or the admin command
  streams, which change by themselves) must be exactly as before it.

## What must hold

The SFU and the API never exit or restart (same pids, no restarts); no 5xx;
no protoo answer with an \`internal\` error; the control peer answers every
ping; a fresh peer joins the room afterwards; no state change on refusal.
Resident memory of both processes is reported (a growth beyond 3× fails).

The stack runs with the per-address limits (room creation, knocks, sign-in)
raised, because all fuzz traffic comes from one address and those limits
have tests of their own; and with \`ROOM_MAX_PEERS=500\` so the peers replaced
after being cut fit in the one fuzzed room.

## What it found

The first full run (seed 20261130) took the SFU down 12 times: a text frame
holding just \`null\` passed protoo-server's object check (\`typeof null\` is
"object") and the next line threw inside the WebSocket's message handler,
an uncaught exception that ended the process and every call on it. Any
admitted guest could send it. \`services/sfu/src/signaling/null-frame-guard.ts\`
now drops such frames, and \`services/sfu/test/hostile-frames.test.ts\` sends
it with eleven other hostile frames on an admitted socket.

## Last full run

${tables}

Failures: ${report.failures.length === 0 ? "none." : `\n\n${listed.join("\n")}`}

## Rerun

    npm run fuzz                      # full run, a new random seed, rewrites this file
    FUZZ_SEED=${seed} npm run fuzz    # replay this run
    FUZZ_PROTOO=2000 FUZZ_HTTP=2000 npm run fuzz   # a smaller run

A short run (500 frames + 500 requests, fixed seed) is part of
\`./mindmeet test\`: \`test/fuzz.test.ts\`.
`;
writeFileSync(join(repoRoot, "docs/RELIABILITY.md"), document);
console.log("wrote docs/RELIABILITY.md");
process.exit(report.failures.length === 0 ? 0 : 1);
