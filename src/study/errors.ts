/** A study or scoring set-up that cannot work as given (the message says what to change). */
export class SetupError extends Error {
  override name = 'SetupError';
}
