// A dataset preprocessed into the store (by the prepare-dataset stage) as compact uint8 tensors,
// read back lazily: a 100,000-image dataset is never a float32 copy in memory.

export interface PreparedSplit {
  count: number;
  /** Class index of each image, re-indexed to the dataset's (sub)set of classes. */
  labels: Int32Array;
  /** Images at the given indices, concatenated, each height×width×channels uint8 in HWC order. */
  readImages(indices: ArrayLike<number>): Uint8Array;
}

export interface PreparedDataset {
  classes: string[];
  height: number;
  width: number;
  channels: number;
  splits: { train: PreparedSplit; val?: PreparedSplit; test: PreparedSplit };
  close(): void;
}
