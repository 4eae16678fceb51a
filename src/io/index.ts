export { readNpy, writeNpy, type NpyArray } from './npy.js';
export {
  decodeImage,
  imageToTensor,
  resampleWeights,
  resizePlanar,
  type RGBAImage,
  type ImageToTensorOptions,
} from './image.js';
