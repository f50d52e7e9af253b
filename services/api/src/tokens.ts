import type { TokenClaims } from "@mindmeet/protocol";
import type { TokenRequest, TokenSigner, TokenVerifier } from "@mindmeet/protocol/token-keys";

/** Sign a token and return it (claims stay inside the token). */
export type MintToken = (request: TokenRequest) => Promise<string>;

/** Sign a token and return it with its claims (for answers that state the expiry). */
export type IssueToken = (request: TokenRequest) => Promise<{ token: string; claims: TokenClaims }>;

/** Signs with `signer`; `verifier` remembers each token as good, so this instance never re-checks its own signature. */
export function tokenIssuer(signer: TokenSigner, verifier: TokenVerifier): IssueToken {
	return async (request) => {
		const { token, claims } = await signer.sign(request);
		verifier.remember(token, claims);
		return { token, claims };
	};
}

/** The same, for callers that need only the token. */
export function tokenMinter(issue: IssueToken): MintToken {
	return async (request) => (await issue(request)).token;
}
