/** A model file we cannot import: the message is one line naming the file, the node and the problem. */
export class OnnxImportError extends Error {
  override name = 'OnnxImportError';
}
