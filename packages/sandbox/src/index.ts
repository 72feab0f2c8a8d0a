// The sandbox's public surface: what `npm start`, the product's tests and the bench use. Everything else in this
// package is its own business (its tests import the modules directly).
export * from './server';
export * from './deliver';
export * from './faults';
export * from './scenarios';
export * from './call-log';
export type * from './types';
export type * from './clerk/types';
export type { ClerkService, ClerkServiceOptions } from './clerk';
export { DEFAULT_CLERK_SEED, loadClerkSeed } from './clerk';
export type {
  SalesforceRecord,
  SalesforceSandboxOptions,
  SalesforceService,
  SalesforceSnapshot,
} from './salesforce';
export { toId18 } from './salesforce/ids';
export { parseXml, type XmlElement } from './salesforce/xml';
