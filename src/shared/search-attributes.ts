import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** The Clerk event type, e.g. `user.created`. */
export const ClerkEventType = defineSearchAttributeKey('ClerkEventType', SearchAttributeType.KEYWORD);
/** The Clerk user (`user_…`) a workflow concerns. */
export const ClerkUserId = defineSearchAttributeKey('ClerkUserId', SearchAttributeType.KEYWORD);
/** The Clerk organization (`org_…`) a workflow concerns. */
export const ClerkOrganizationId = defineSearchAttributeKey(
  'ClerkOrganizationId',
  SearchAttributeType.KEYWORD,
);
/** The Svix message id (`msg_…`) of the delivery that started the workflow. */
export const ClerkMessageId = defineSearchAttributeKey('ClerkMessageId', SearchAttributeType.KEYWORD);

/** Every custom search attribute of SPEC.md; registered on the server before any workflow starts. */
export const SEARCH_ATTRIBUTES = [ClerkEventType, ClerkUserId, ClerkOrganizationId, ClerkMessageId] as const;
