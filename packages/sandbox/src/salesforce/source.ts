import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseXml, toValue } from './xml';

/**
 * The custom objects and fields a non-strict org starts with: those of this repository's `force-app/`, the same
 * Salesforce DX source `clerk-sync salesforce setup` deploys (one source of truth, never a copy here).
 */
export const DEFAULT_SALESFORCE_SOURCE = resolve(__dirname, '../../../../force-app');

/** CustomObject and CustomField metadata as the Metadata API spells it (`fullName` = `Object__c` / `Object.Field__c`). */
export interface SchemaSource {
  objects: Record<string, unknown>[];
  fields: Record<string, unknown>[];
  /** Other components the Metadata API reads back as they were deployed (permission sets). */
  documents?: { type: string; fullName: string; metadata: Record<string, unknown> }[];
}

/** The DX source folders of the other component types the sandbox keeps, and their Metadata API type. */
const DOCUMENT_FOLDERS: Record<string, { type: string; suffix: string }> = {
  permissionsets: { type: 'PermissionSet', suffix: '.permissionset-meta.xml' },
};

const OBJECT_SUFFIX = '.object-meta.xml';
const FIELD_SUFFIX = '.field-meta.xml';

function readComponent(path: string, fullName: string): Record<string, unknown> {
  const value = toValue(parseXml(readFileSync(path, 'utf8')));
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new Error(`${path}: not a metadata component`);
  return { ...value, fullName };
}

/** Every folder named `name` under `dir` (DX source puts them at `<package>/main/default/<name>`). */
function foldersNamed(dir: string, name: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const path = join(dir, entry.name);
    if (entry.name === name) found.push(path);
    else found.push(...foldersNamed(path, name));
  }
  return found;
}

/** Every `objects/<Object>/` folder under `dir`. */
function objectFolders(dir: string): string[] {
  return foldersNamed(dir, 'objects').flatMap((objects) =>
    readdirSync(objects, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => join(objects, entry.name)),
  );
}

/**
 * Reads the custom objects and fields of a Salesforce DX source folder (e.g. `force-app`). A missing folder is an
 * org with no custom schema; a file that does not parse is an error, so a broken source never seeds half a schema.
 */
export function readSchemaSource(dir: string | undefined = DEFAULT_SALESFORCE_SOURCE): SchemaSource {
  const source: SchemaSource = { objects: [], fields: [], documents: [] };
  if (dir === undefined || !existsSync(dir)) return source;
  for (const [folderName, { type, suffix }] of Object.entries(DOCUMENT_FOLDERS)) {
    for (const folder of foldersNamed(dir, folderName).sort()) {
      for (const file of readdirSync(folder).sort()) {
        if (!file.endsWith(suffix)) continue;
        const fullName = file.slice(0, -suffix.length);
        source.documents!.push({ type, fullName, metadata: readComponent(join(folder, file), fullName) });
      }
    }
  }
  for (const folder of objectFolders(dir).sort()) {
    const objectName = basename(folder);
    const objectFile = join(folder, `${objectName}${OBJECT_SUFFIX}`);
    if (objectName.endsWith('__c') && existsSync(objectFile))
      source.objects.push(readComponent(objectFile, objectName));
    const fieldsDir = join(folder, 'fields');
    if (!existsSync(fieldsDir)) continue;
    for (const file of readdirSync(fieldsDir).sort()) {
      if (!file.endsWith(FIELD_SUFFIX)) continue;
      const fieldName = file.slice(0, -FIELD_SUFFIX.length);
      source.fields.push(readComponent(join(fieldsDir, file), `${objectName}.${fieldName}`));
    }
  }
  return source;
}
