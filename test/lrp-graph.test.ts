// Graph models (residual adds, concat, forks) and TF.js LayersModels (NHWC), every LRP case.
import { describeModelCases } from './helpers/run-cases.js';

describeModelCases('resnet_mini', { layers: true });
describeModelCases('concat_net', { layers: true });
describeModelCases('tfjs_cnn', { file: 'tfjs/model.json', layers: true });
describeModelCases('tfjs_mlp', { file: 'tfjs/model.json', layers: true });
describeModelCases('tfjs_residual', { file: 'tfjs/model.json', layers: true });
