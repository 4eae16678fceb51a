/**
 * Maps every test-vector configuration (testdata/README.md, "Configurations") to the public
 * explain() options that reproduce it. Unknown configs return null so a new one is noticed.
 */
import { composites, rules, type ExplainOptions } from '../../src/index.js';

export interface ConfigOptions {
  explain: ExplainOptions;
  /** loadModel({ canonize }) */
  canonize: boolean;
}

const eps = rules.epsilon(1e-6);

export function configOptions(config: string): ConfigOptions | null {
  const canonize = !config.endsWith('_no_canonizer');
  const base = config.replace(/_no_canonizer$/, '');
  const explain = ((): ExplainOptions | null => {
    switch (base) {
      case 'lrp_epsilon_1e-6':
        return { rule: eps };
      case 'lrp_epsilon_0.25':
        return { rule: rules.epsilon(0.25) };
      case 'lrp_gamma_0.25':
        return { rule: rules.gamma(0.25) };
      case 'lrp_alpha1_beta0':
        return { rule: rules.alphaBeta(1, 0) };
      case 'lrp_alpha2_beta1':
        return { rule: rules.alphaBeta(2, 1) };
      case 'lrp_zplus':
        return { rule: rules.zPlus() };
      case 'flat_first_epsilon_rest':
        return { rule: eps, firstRule: rules.flat() };
      case 'wsquare_first_epsilon_rest':
        return { rule: eps, firstRule: rules.wSquare() };
      case 'zbox_first_epsilon_rest':
        return { rule: eps, firstRule: rules.zBox() };
      case 'composite_epsilon_plus':
        return { composite: 'epsilon-plus' };
      case 'composite_epsilon_gamma_box':
        return { composite: 'epsilon-gamma-box' };
      case 'composite_epsilon_alpha2_beta1':
        return { composite: 'epsilon-alpha2-beta1' };
      case 'composite_epsilon_plus_flat':
        return { composite: 'epsilon-plus-flat' };
      case 'lrp_epsilon_1e-6_avgpool_gradient':
        return { composite: composites.custom({ dense: eps, conv: eps, pool: rules.gradient() }) };
      case 'lrp_epsilon_1e-6_add_gradient':
        return { composite: composites.custom({ dense: eps, conv: eps, add: rules.gradient() }) };
      default:
        return null;
    }
  })();
  return explain ? { explain, canonize } : null;
}
