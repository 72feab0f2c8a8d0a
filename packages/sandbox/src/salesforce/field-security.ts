import type { FieldDef, SObjectDef } from './schema';

/** What the integration user may do with a field (field-level security); edit implies read. */
export interface FieldAccess {
  readable: boolean;
  editable: boolean;
}

const OPEN: FieldAccess = { readable: true, editable: true };
const CLOSED: FieldAccess = { readable: false, editable: false };

/**
 * Field-level security as the org's permission sets grant it (reference §6). The integration user holds every one
 * of them: the sandbox has no PermissionSetAssignment, so a deployed permission set is an assigned one.
 */
export class FieldSecurity {
  /** `Object.Field__c` (lower case) → what the permission sets grant on it, together. */
  private readonly grants = new Map<string, FieldAccess>();

  /** Replaces the grants with those of `sets` (PermissionSet metadata, `fieldPermissions` as deployed). */
  setPermissionSets(sets: readonly Record<string, unknown>[]): void {
    this.grants.clear();
    for (const set of sets) {
      // One entry arrives as an object, several as an array.
      for (const entry of [set.fieldPermissions ?? []].flat()) {
        const perm = entry as Record<string, unknown>;
        const key = typeof perm.field === 'string' ? perm.field.toLowerCase() : '';
        if (!key) continue;
        const editable = isTrue(perm.editable);
        const held = this.grants.get(key) ?? CLOSED;
        this.grants.set(key, {
          readable: held.readable || editable || isTrue(perm.readable),
          editable: held.editable || editable,
        });
      }
    }
  }

  /**
   * Standard fields are the profile's, which grants them all; so are required custom fields (Salesforce allows no
   * FLS on those) and untyped ones (nothing defines them). A custom field is what the permission sets grant: as in
   * Salesforce, nothing when none names it, a field just created through the Metadata API included. A non-strict
   * org is lenient there too: a field no permission set names is open, so a test may create one and use it at once.
   */
  access(obj: SObjectDef, field: FieldDef, strict: boolean): FieldAccess {
    if (!field.custom || field.origin === 'dynamic' || field.required) return OPEN;
    return this.grants.get(`${obj.name}.${field.name}`.toLowerCase()) ?? (strict ? CLOSED : OPEN);
  }
}

/** Metadata booleans arrive as `true` (jsforce) or `'true'` (XML source). */
function isTrue(value: unknown): boolean {
  return value === true || value === 'true';
}
