// Every model.onnx of the test vectors: logits and every LRP case, same tolerance as model.json.
import { describeModelCases } from './helpers/run-cases.js';

for (const m of ['mlp', 'mlp_deep', 'cnn', 'cnn_bn', 'cnn_strided', 'resnet_mini', 'concat_net'])
  describeModelCases(m, { file: 'model.onnx' });
