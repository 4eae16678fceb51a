export { parseVocabulary, loadVocabulary, type Vocabulary, type TokenizationRule, type SequenceSide } from './vocabulary.js';
export { tokenize, tokenizeBatch, splitTokens, detokenize, type TokenizedText, type TextPiece, type TokenizedBatch } from './tokenize.js';
