// Embedding lookup: token ids (float32 values, exact integers below 2^24) select rows of a constant table.

/**
 * y[t, :] = table[ids[t], :] for `count` ids, table [vocab, dim]. Every id is checked before anything is written:
 * the index of the first id that is not an integer in [0, vocab) (NaN and infinities included) is returned and y
 * is left untouched; -1 means every row was copied. The table is never read outside its vocab rows.
 */
export function embedding_forward_f32(ids: usize, table: usize, y: usize, count: i32, vocab: i32, dim: i32): i32 {
  for (let t = 0; t < count; t++) {
    const v = <f64>load<f32>(ids + (<usize>t << 2));
    if (!(v >= 0 && v < <f64>vocab && v == Math.floor(v))) return t;
  }
  const row = <usize>dim << 2;
  for (let t = 0; t < count; t++) {
    const id = <usize><i32>load<f32>(ids + (<usize>t << 2));
    memory.copy(y + <usize>t * row, table + id * row, row);
  }
  return -1;
}
