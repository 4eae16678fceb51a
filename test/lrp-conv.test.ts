// Every LRP case of the conv test models (Zennit vectors), both start modes, per-layer relevance.
import { describeModelCases } from './helpers/run-cases.js';

describeModelCases('cnn', { layers: true });
describeModelCases('cnn_bn', { layers: true });
describeModelCases('cnn_strided', { layers: true });
