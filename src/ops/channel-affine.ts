/**
 * y = x·scale[c] + shift[c] over the channel axis (axis 0 of the per-sample shape): the kernels
 * and rules shared by an unfolded batch norm and a constant affine op.
 */
import type { ForwardStep, RelevanceStep, RuleFn } from './spec.js';

export interface ChannelAffineState {
  /** Float32 per channel, in linear memory */
  scale: number;
  shift: number;
}

export function channelAffineForward({ k, ins, out, n, state }: ForwardStep<unknown, ChannelAffineState>): void {
  const x = ins[0];
  k.channelAffine(x.act, state.scale, state.shift, out.act, n, x.shape[0], x.size / x.shape[0]);
}

export const channelAffineRules: Record<'pass' | 'gradient', RuleFn<unknown, ChannelAffineState>> = {
  pass: (s) => s.put(s.ins[0], s.out.rel),
  gradient(s: RelevanceStep<unknown, ChannelAffineState>) {
    const x = s.ins[0];
    const target = s.target(x, s.ws.scratchOut[0]);
    s.k.channelScale(s.out.rel, s.state.scale, target, s.n, x.shape[0], x.size / x.shape[0]);
    s.commit(x, target);
  },
};
