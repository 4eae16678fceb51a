/**
 * Every error the library throws on bad input is an LrpError subclass with a stable `code`
 * and a message that names what was wrong (shape, node, op, file).
 */
export class LrpError extends Error {
  /** A stable identifier of the problem, e.g. `E_INPUT`, `E_PIXELS`, `E_MODEL`. */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    // subclasses set their name as a literal: bundlers' minifiers rename classes
    this.name = 'LrpError';
  }
}

/** The caller's input array or option is wrong (length, NaN, target out of range, ...). */
export class InputError extends LrpError {
  constructor(message: string, code = 'E_INPUT') {
    super(code, message);
    this.name = 'InputError';
  }
}

/** A rule or composite specification is unknown or has invalid hyper-parameters. */
export class RuleError extends LrpError {
  constructor(message: string, code = 'E_RULE') {
    super(code, message);
    this.name = 'RuleError';
  }
}

/** A model file is missing, malformed, truncated, or inconsistent (shapes, parameter sizes). */
export class ModelFormatError extends LrpError {
  constructor(message: string, code = 'E_MODEL') {
    super(code, message);
    this.name = 'ModelFormatError';
  }
}

/** A model uses an operation or attribute this library does not support. */
export class UnsupportedError extends LrpError {
  constructor(message: string, code = 'E_UNSUPPORTED') {
    super(code, message);
    this.name = 'UnsupportedError';
  }
}

/** A layer's hyper-parameters or shapes do not fit together. */
export class ShapeError extends LrpError {
  constructor(message: string, code = 'E_SHAPE') {
    super(code, message);
    this.name = 'ShapeError';
  }
}

/**
 * A computation overflowed float32: the logits or the relevance hold NaN or ±Infinity although
 * the inputs and weights were finite (values too large for the model, e.g. inputs near 3e38 or
 * weights near 1e37). The message names the sample and the layer where it first happened.
 */
export class NumericError extends LrpError {
  constructor(message: string, code = 'E_NONFINITE') {
    super(code, message);
  }
}

/** The model was used after dispose(). */
export class DisposedError extends LrpError {
  constructor(message = 'model has been disposed') {
    super('E_DISPOSED', message);
    this.name = 'DisposedError';
  }
}

/** A worker could not be started or stopped working: wrong or missing script URL, crash. */
export class WorkerError extends LrpError {
  constructor(message: string, code = 'E_WORKER') {
    super(code, message);
    this.name = 'WorkerError';
  }
}
