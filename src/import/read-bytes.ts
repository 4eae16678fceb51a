/**
 * Reads the bytes of a model file from a location string: fetch for URLs, node:fs (through the
 * platform module, so that browser bundles never see it) for paths in Node.
 */
import { locate, readLocation } from './location.js';

/** `what` names the file in the not-found message, e.g. "TF.js model not found: …". */
export function readBytes(location: string, what = 'file'): Promise<Uint8Array> {
  return readLocation(locate(location), what);
}
