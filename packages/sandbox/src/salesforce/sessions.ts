import { randomBytes } from 'node:crypto';

/** Access tokens with Salesforce's inactivity timeout: each use pushes the expiry back. */
export class Sessions {
  private readonly tokens = new Map<string, number>();
  private readonly refreshTokens = new Set<string>();

  constructor(
    private readonly organizationId: string,
    private ttlMs: number,
  ) {}

  /** A new access token, shaped like Salesforce's (`00D…!A…`, never a JWT). */
  issue(): string {
    const token = `${this.organizationId.slice(0, 15)}!AQ${randomBytes(48).toString('base64url')}`;
    this.tokens.set(token, Date.now() + this.ttlMs);
    return token;
  }

  /** True while the token is live; using it extends its life. */
  check(token: string | undefined): boolean {
    if (!token) return false;
    const expiresAt = this.tokens.get(token);
    if (expiresAt === undefined) return false;
    if (expiresAt <= Date.now()) {
      this.tokens.delete(token);
      return false;
    }
    this.tokens.set(token, Date.now() + this.ttlMs);
    return true;
  }

  /** Ends one session (OAuth revoke). */
  revoke(token: string): void {
    this.tokens.delete(token);
    this.refreshTokens.delete(token);
  }

  /** A refresh token the refresh_token grant accepts (Salesforce issues them only in the web-server flow). */
  issueRefreshToken(): string {
    const token = `5Aep${randomBytes(48).toString('base64url')}`;
    this.refreshTokens.add(token);
    return token;
  }

  /** True for a refresh token this org issued. */
  isRefreshToken(token: string | undefined): boolean {
    return token !== undefined && this.refreshTokens.has(token);
  }

  /** Every access token stops working now (refresh tokens stay valid, as in Salesforce). */
  expireAll(): void {
    this.tokens.clear();
  }

  /** Forgets every token, refresh tokens included. */
  clear(): void {
    this.tokens.clear();
    this.refreshTokens.clear();
  }
}
