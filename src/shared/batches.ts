// How the sync cuts a user's memberships into Salesforce work, shared by the workflow that cuts and the
// activities that apply each part (workflow code may import this file: it has no I/O).

/**
 * Memberships written in the Contact's own composite call (25 subrequests: 5, or 7 with a link, per membership
 * beside the Contact's own): a sign-up with few memberships stays one Salesforce call.
 */
export const MEMBERSHIPS_WITH_CONTACT = 2;

/**
 * Memberships per `syncMemberships` activity after those: one sObject Collection of each kind, two calls, a few
 * seconds even on a slow org — well inside the activity's timeout.
 */
export const MEMBERSHIP_BATCH = 200;

/**
 * Organizations of one user that a `user.created` takes: the list travels in the workflow's history (~450 bytes a
 * membership), and Temporal refuses a payload over 2 MB. A user in more fails at once, saying so, instead of an
 * activity whose result Temporal keeps refusing.
 */
export const MAX_USER_MEMBERSHIPS = 4000;
