/** Errors a user can fix: printed as one line (no stack unless --debug), exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Error classes whose message is written for the user. */
const USER_ERROR_NAMES = new Set([
  'UsageError',
  'SetupError',
  'DistributedError',
  'SpaceError',
  'ProxyError',
  'GradUnsupportedError',
  'HdaError',
  'DataError',
  'BenchmarkError',
  'IRError',
  'OnnxImportError',
  'ProtoError',
]);

export function isUserError(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  return USER_ERROR_NAMES.has(e.name) || USER_ERROR_NAMES.has(e.constructor.name);
}
