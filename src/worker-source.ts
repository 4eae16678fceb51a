/**
 * A model source as a worker can take it: workers receive it by structured clone, and a relative
 * URL must mean what it means to the caller (the page), not to the worker script's location.
 */
import { platform } from '#platform';
import { locate } from './import/location.js';
import { openSource, type ModelSource } from './import/source.js';

export async function toWorkerSource(source: ModelSource): Promise<ModelSource> {
  if (typeof source === 'string') return platform.kind === 'node' ? source : (locate(source) as { href: string }).href;
  if (source instanceof URL) return source.href;
  if (source instanceof Uint8Array || source instanceof ArrayBuffer || typeof source !== 'object' || source === null) return source;
  const obj = source as unknown as Record<string, unknown>;
  // Responses do not clone, and tf.LayersModels live on this thread: open them here
  if (typeof obj.save === 'function' || (typeof obj.ok === 'boolean' && typeof obj.arrayBuffer === 'function')) {
    const opened = await openSource(source);
    if (opened.kind === 'tfjs') return { modelJson: opened.modelJson, weights: opened.weights };
    if (typeof obj.url === 'string' && obj.url) return obj.url; // a Response: its files sit next to its URL
    return opened.bytes;
  }
  return source;
}
