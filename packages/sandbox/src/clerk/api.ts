import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { clerkErrorBody } from '../faults';
import { bearerToken, isRecord, readJson, sendJson } from '../wire';
import type { ClerkStore, Page } from './store';
import { ClerkSandboxError } from './store';
import type { ClerkEvent } from './types';

/** What the Backend API handlers need besides the data. */
export interface ClerkApiOptions {
  store: ClerkStore;
  secretKey: string;
  /** Called with the events a Backend API mutation implies, in order (delivered as Clerk would). */
  emit: (events: ClerkEvent[]) => void;
}

/** Koa middleware serving the slice of Clerk's Backend API that @clerk/backend 3.25.0 calls for clerk-sync. */
export function clerkApi({ store, secretKey, emit }: ClerkApiOptions): Middleware {
  const router = new Router();

  router.get('/v1/users/count', (ctx) => {
    sendJson(ctx, 200, { object: 'total_count', total_count: store.countUsers(userQuery(ctx)) });
  });
  router.get('/v1/users', (ctx) => {
    sendJson(ctx, 200, store.listUsers(userQuery(ctx), page(ctx)));
  });
  router.get('/v1/users/:id/organization_memberships', (ctx) => {
    sendJson(ctx, 200, store.listUserMemberships(ctx.params.id!, page(ctx)));
  });
  router.get('/v1/users/:id', (ctx) => {
    sendJson(ctx, 200, store.getUser(ctx.params.id!));
  });
  router.delete('/v1/users/:id', (ctx) => {
    const event = store.deleteUser(ctx.params.id!);
    emit([event]);
    sendJson(ctx, 200, event.data);
  });

  router.get('/v1/organizations', (ctx) => {
    const query = {
      organizationId: list(ctx, 'organization_id'),
      userId: list(ctx, 'user_id'),
      query: one(ctx, 'query'),
    };
    sendJson(ctx, 200, store.listOrganizations(query, page(ctx), flag(ctx, 'include_members_count')));
  });
  router.post('/v1/organizations', async (ctx) => {
    const body = await jsonBody(ctx);
    const created = store.createOrganization({
      name: typeof body.name === 'string' ? body.name : '',
      ...(typeof body.slug === 'string' && { slug: body.slug }),
      ...(typeof body.created_by === 'string' && { createdBy: body.created_by }),
      ...(typeof body.max_allowed_memberships === 'number' && {
        maxAllowedMemberships: body.max_allowed_memberships,
      }),
      ...(isRecord(body.public_metadata) && { publicMetadata: body.public_metadata }),
      ...(isRecord(body.private_metadata) && { privateMetadata: body.private_metadata }),
    });
    const events = [created];
    // Clerk makes the creator an admin member, and sends organizationMembership.created for it.
    if (typeof body.created_by === 'string') {
      events.push(
        store.addMembership({ organizationId: created.data.id, userId: body.created_by, role: 'org:admin' }),
      );
    }
    emit(events);
    sendJson(ctx, 200, created.data);
  });
  router.get('/v1/organizations/:id/memberships', (ctx) => {
    const query = {
      userId: list(ctx, 'user_id'),
      role: list(ctx, 'role'),
      emailAddress: list(ctx, 'email_address'),
      query: one(ctx, 'query'),
    };
    sendJson(ctx, 200, store.listOrganizationMemberships(ctx.params.id!, query, page(ctx)));
  });
  router.post('/v1/organizations/:id/memberships', async (ctx) => {
    const body = await jsonBody(ctx);
    const event = store.addMembership({
      organizationId: ctx.params.id!,
      userId: typeof body.user_id === 'string' ? body.user_id : '',
      role: typeof body.role === 'string' ? body.role : 'org:member',
    });
    emit([event]);
    sendJson(ctx, 200, event.data);
  });
  router.patch('/v1/organizations/:id/memberships/:userId', async (ctx) => {
    const body = await jsonBody(ctx);
    const event = store.updateMembership({
      organizationId: ctx.params.id!,
      userId: ctx.params.userId!,
      ...(typeof body.role === 'string' && { role: body.role }),
    });
    emit([event]);
    sendJson(ctx, 200, event.data);
  });
  router.delete('/v1/organizations/:id/memberships/:userId', (ctx) => {
    const event = store.removeMembership({ organizationId: ctx.params.id!, userId: ctx.params.userId! });
    emit([event]);
    sendJson(ctx, 200, event.data);
  });
  router.patch('/v1/organizations/:id/metadata', async (ctx) => {
    const body = await jsonBody(ctx);
    const event = store.mergeOrganizationMetadata(ctx.params.id!, {
      ...(isRecord(body.public_metadata) && { publicMetadata: body.public_metadata }),
      ...(isRecord(body.private_metadata) && { privateMetadata: body.private_metadata }),
    });
    emit([event]);
    sendJson(ctx, 200, event.data);
  });
  router.get('/v1/organizations/:id', (ctx) => {
    sendJson(ctx, 200, store.getOrganization(ctx.params.id!, flag(ctx, 'include_members_count')));
  });
  router.patch('/v1/organizations/:id', async (ctx) => {
    const body = await jsonBody(ctx);
    const event = store.updateOrganization(ctx.params.id!, {
      ...(typeof body.name === 'string' && { name: body.name }),
      ...(typeof body.slug === 'string' && { slug: body.slug }),
      ...(typeof body.max_allowed_memberships === 'number' && {
        maxAllowedMemberships: body.max_allowed_memberships,
      }),
      ...(typeof body.admin_delete_enabled === 'boolean' && {
        adminDeleteEnabled: body.admin_delete_enabled,
      }),
    });
    emit([event]);
    sendJson(ctx, 200, event.data);
  });
  router.delete('/v1/organizations/:id', (ctx) => {
    const event = store.deleteOrganization(ctx.params.id!);
    emit([event]);
    sendJson(ctx, 200, event.data);
  });

  const routes = router.routes();
  // The Clerk stand-in answers every request under /clerk itself, so there is no `next`.
  return async (ctx: Context) => {
    try {
      authenticate(ctx, secretKey);
      await routes(ctx as Parameters<typeof routes>[0], () => {
        throw new ClerkSandboxError(
          404,
          'resource_not_found',
          'not found',
          `No route matches ${ctx.method} ${ctx.path}.`,
        );
      });
    } catch (err) {
      if (!(err instanceof ClerkSandboxError)) throw err;
      sendJson(ctx, err.status, clerkErrorBody(err.code, err.message, err.longMessage, err.meta));
    }
  };
}

function authenticate(ctx: Context, secretKey: string): void {
  const token = bearerToken(ctx);
  if (token === undefined) {
    throw new ClerkSandboxError(
      401,
      'authorization_header_format_invalid',
      'Invalid Authorization header format',
      "Invalid Authorization header format. Must be 'Bearer <YOUR_API_KEY>'",
    );
  }
  if (token !== secretKey) {
    throw new ClerkSandboxError(
      401,
      'clerk_key_invalid',
      'Secret key invalid',
      'The provided Clerk Secret Key is invalid. Make sure that your Clerk Secret Key is correct.',
    );
  }
}

async function jsonBody(ctx: Context): Promise<Record<string, unknown>> {
  const body = await readJson(ctx);
  if (body === undefined) return {};
  if (!isRecord(body)) {
    throw new ClerkSandboxError(
      400,
      'malformed_request',
      'malformed request',
      'The request body must be a JSON object.',
    );
  }
  return body;
}

/** A repeated query parameter; the SDK sends `user_id=a&user_id=b`, other clients `user_id[]=…`. */
function list(ctx: Context, name: string): string[] | undefined {
  const values = [ctx.query[name], ctx.query[`${name}[]`]]
    .flat()
    .filter((v): v is string => typeof v === 'string');
  return values.length ? values : undefined;
}

function one(ctx: Context, name: string): string | undefined {
  const v = ctx.query[name];
  return Array.isArray(v) ? v[0] : v;
}

function flag(ctx: Context, name: string): boolean {
  return one(ctx, name) === 'true';
}

function integer(ctx: Context, name: string, fallback: number, min: number, max: number): number {
  const raw = one(ctx, name);
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ClerkSandboxError(
      422,
      'form_param_value_invalid',
      'is invalid',
      `${name} must be between ${min} and ${max}`,
      {
        param_name: name,
      },
    );
  }
  return n;
}

function page(ctx: Context): Page {
  return {
    limit: integer(ctx, 'limit', 10, 1, 500),
    offset: integer(ctx, 'offset', 0, 0, Number.MAX_SAFE_INTEGER),
    orderBy: one(ctx, 'order_by'),
  };
}

function userQuery(ctx: Context) {
  return {
    userId: list(ctx, 'user_id'),
    emailAddress: list(ctx, 'email_address'),
    phoneNumber: list(ctx, 'phone_number'),
    username: list(ctx, 'username'),
    externalId: list(ctx, 'external_id'),
    organizationId: list(ctx, 'organization_id'),
    query: one(ctx, 'query'),
  };
}
