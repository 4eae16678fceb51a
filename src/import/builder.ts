/** Shared by the importers: collects nodes in topological order and keeps names unique. */
import { MODEL_INPUT, type GraphNode } from '../graph/ir.js';
import { specOf } from '../ops/registry.js';

export class GraphBuilder {
  readonly nodes: GraphNode[] = [];
  private readonly byName = new Map<string, GraphNode>();
  private readonly taken = new Set<string>([MODEL_INPUT]);

  /** Reserves and returns `base`, or `base_1`, `base_2`, … if it is taken (MODEL_INPUT is always taken). */
  unique(base: string): string {
    const stem = base.length > 0 ? base : 'node';
    if (!this.taken.has(stem)) {
      this.taken.add(stem);
      return stem;
    }
    for (let i = 1; ; i++) {
      const name = `${stem}_${i}`;
      if (!this.taken.has(name)) {
        this.taken.add(name);
        return name;
      }
    }
  }

  /** Appends a node whose name was obtained from unique(). */
  add<T extends GraphNode>(node: T): T {
    this.nodes.push(node);
    this.byName.set(node.name, node);
    return node;
  }

  get(name: string): GraphNode | undefined {
    return this.byName.get(name);
  }

  /** True if the tensor named `name` is known to be ≥ 0 (each op module says when its output is). */
  nonNegative(name: string): boolean {
    const node = this.byName.get(name);
    if (!node) return false;
    const rule = specOf(node).nonNegative;
    return rule ? rule(node, node.inputs.map((i) => this.nonNegative(i))) : false;
  }
}
