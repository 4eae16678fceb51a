// Every LRP case of the dense test models (Zennit vectors), both start modes, WASM backend.
import { describeModelCases } from './helpers/run-cases.js';

describeModelCases('mlp');
describeModelCases('mlp_deep');
describeModelCases('mlp', { backend: 'reference' });
