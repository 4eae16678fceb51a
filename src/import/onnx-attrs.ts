/** Typed access to the attributes of an ONNX node, with defaults and clear errors. */
import { ModelFormatError } from '../errors.js';
import { constFromProto, toNum, type ConstTensor, type onnx } from './onnx-tensor.js';

/** onnx.AttributeProto.AttributeType numbers. */
const AT = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

const textDecoder = new TextDecoder();

export class Attrs {
  private readonly map = new Map<string, onnx.IAttributeProto>();

  constructor(
    node: onnx.INodeProto,
    private readonly where: string,
  ) {
    for (const a of node.attribute ?? []) {
      if (a.name) this.map.set(a.name, a);
    }
  }

  has(name: string): boolean {
    return this.map.has(name);
  }

  names(): string[] {
    return [...this.map.keys()];
  }

  private get(name: string, type: number): onnx.IAttributeProto | undefined {
    const a = this.map.get(name);
    // type 0 (UNDEFINED) appears in hand-written files: trust the populated field then.
    if (a && a.type && a.type !== type) {
      throw new ModelFormatError(`${this.where}: attribute '${name}' has type ${a.type}, expected ${type}`);
    }
    return a;
  }

  int(name: string, def: number): number {
    const a = this.get(name, AT.INT);
    return a ? toNum(a.i ?? 0, `${this.where} attribute '${name}'`) : def;
  }

  ints(name: string, def: number[]): number[];
  ints(name: string): number[] | undefined;
  ints(name: string, def?: number[]): number[] | undefined {
    const a = this.get(name, AT.INTS);
    return a ? (a.ints ?? []).map((v) => toNum(v, `${this.where} attribute '${name}'`)) : def;
  }

  float(name: string, def: number): number {
    const a = this.get(name, AT.FLOAT);
    return a ? (a.f ?? 0) : def;
  }

  floats(name: string): number[] | undefined {
    const a = this.get(name, AT.FLOATS);
    return a ? (a.floats ?? []).slice() : undefined;
  }

  string(name: string, def: string): string {
    const a = this.get(name, AT.STRING);
    return a ? textDecoder.decode(a.s ?? new Uint8Array(0)) : def;
  }

  tensor(name: string, fallbackName: string): ConstTensor | undefined {
    const a = this.get(name, AT.TENSOR);
    return a?.t ? constFromProto(a.t, fallbackName) : undefined;
  }
}
