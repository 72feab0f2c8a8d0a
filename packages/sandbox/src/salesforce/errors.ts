/** Salesforce's REST error body: `[{message, errorCode, fields}]`. */
export interface ApiErrorBody {
  message: string;
  errorCode: string;
  fields?: string[];
}

/** A failure with the HTTP status and error code Salesforce would answer. */
export class SalesforceError extends Error {
  override readonly name = 'SalesforceError';

  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly fields: string[] = [],
  ) {
    super(message);
  }

  /** The REST body for this error (one element, as Salesforce answers a single failure). */
  toBody(): ApiErrorBody[] {
    return [{ message: this.message, errorCode: this.errorCode, fields: this.fields }];
  }

  /** The SaveResult error item used by sObject Collections (`statusCode`, not `errorCode`). */
  toSaveError(): { statusCode: string; message: string; fields: string[] } {
    return { statusCode: this.errorCode, message: this.message, fields: this.fields };
  }
}

/** 404 for any URL or record the org does not have. */
export function notFound(message = 'The requested resource does not exist'): SalesforceError {
  return new SalesforceError(404, 'NOT_FOUND', message);
}

/** 400 MALFORMED_QUERY / INVALID_FIELD and friends from the SOQL parser. */
export function badRequest(errorCode: string, message: string, fields: string[] = []): SalesforceError {
  return new SalesforceError(400, errorCode, message, fields);
}
