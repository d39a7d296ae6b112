// The store's public face: open it, read cells, and (for the orchestrator) record state changes.
export { openStore, storeExists, Store, StoreError, DB_FILE, isProcessAlive, isLockStale, describeLock } from './store.js';
export type { CellDetail, StoredState, AttemptRecord, RunAttempt, LockInfo, RunRecord, SlotRecord, CellFilter, OpenStoreOptions, AcquireResult } from './store.js';
export { takeManifest, verifyManifest, hashFile } from './manifest.js';
export type { Manifest, ManifestEntry, VerifyResult } from './manifest.js';
export type { CellRecord, CellState } from './types.js';
