import { createHmac } from 'node:crypto';
import type { Sessions } from './sessions';

/** Who may get a token: the connected app's consumer key and secret, and the integration user's login. */
export interface OAuthClient {
  clientId: string;
  clientSecret: string;
  username: string;
  password: string;
  organizationId: string;
  userId: string;
}

/** An answer of the token endpoint. */
export interface OAuthResponse {
  status: number;
  body: Record<string, string>;
}

function oauthError(error: string, description: string): OAuthResponse {
  return { status: 400, body: { error, error_description: description } };
}

/**
 * `POST /services/oauth2/token`: client_credentials, password and refresh_token grants.
 * No refresh_token in the answer: Salesforce grants one only in the web-server flow (reference §1).
 */
export function requestToken(
  params: URLSearchParams,
  client: OAuthClient,
  sessions: Sessions,
  instanceUrl: string,
): OAuthResponse {
  const grantType = params.get('grant_type');
  const clientId = params.get('client_id');
  if (!grantType) return oauthError('unsupported_grant_type', 'grant type not supported');
  if (!['client_credentials', 'password', 'refresh_token'].includes(grantType)) {
    return oauthError('unsupported_grant_type', 'grant type not supported');
  }
  if (!clientId || clientId !== client.clientId)
    return oauthError('invalid_client_id', 'client identifier invalid');
  const secret = params.get('client_secret');
  if (grantType !== 'refresh_token' || secret !== null) {
    if (secret !== client.clientSecret) return oauthError('invalid_client', 'invalid client credentials');
  }
  if (grantType === 'password') {
    if (params.get('username') !== client.username || params.get('password') !== client.password) {
      return oauthError('invalid_grant', 'authentication failure');
    }
  }
  if (grantType === 'refresh_token' && !sessions.isRefreshToken(params.get('refresh_token') ?? undefined)) {
    return oauthError('invalid_grant', 'expired access/refresh token');
  }
  const issuedAt = String(Date.now());
  const id = `${instanceUrl}/id/${client.organizationId}/${client.userId}`;
  return {
    status: 200,
    body: {
      access_token: sessions.issue(),
      signature: createHmac('sha256', client.clientSecret)
        .update(id + issuedAt)
        .digest('base64'),
      scope: 'api',
      instance_url: instanceUrl,
      id,
      token_type: 'Bearer',
      issued_at: issuedAt,
    },
  };
}
