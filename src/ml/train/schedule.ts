// Learning rate per epoch (1-based): constant, step decay or cosine, with optional linear warm-up.
import type { Schedule } from '../spec.js';

export function learningRateAt(epoch: number, epochs: number, base: number, schedule?: Schedule): number {
  const s = schedule ?? { kind: 'constant' as const };
  const warm = s.warmupEpochs ?? 0;
  if (epoch <= warm) return (base * epoch) / (warm + 1);
  const e = epoch - 1 - warm; // epochs since warm-up, from 0
  const span = Math.max(epochs - warm, 1);
  switch (s.kind) {
    case 'constant':
      return base;
    case 'step':
      return base * (s.gamma ?? 0.1) ** Math.floor(e / (s.stepEpochs ?? Math.max(1, Math.ceil(span / 3))));
    case 'cosine': {
      const min = s.minLearningRate ?? 0;
      return min + ((base - min) * (1 + Math.cos((Math.PI * e) / span))) / 2;
    }
  }
}
