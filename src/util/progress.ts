// What a running computation reports while it works (shown live by `sei run`): a stage's
// progress events, and the training loop's per batch and epoch.
export interface ProgressEvent {
  phase?: string;
  epoch?: number;
  epochs?: number;
  batch?: number;
  batches?: number;
  loss?: number;
  accuracy?: number;
  message?: string;
}
