// Adam and SGD with momentum over tf.Variables, written out so the learning rate can change at
// every step (schedules) and the arithmetic is the same on every backend. PyTorch conventions:
// Adam with bias correction; SGD momentum buffer b ← μ·b + g, w ← w − lr·b. On cpu and wasm each
// variable's update is written in place (in-place.ts: the fused Adam kernel on w, m and s where they
// lie), with results identical to the op sequence below, which other backends run.
import * as tf from '@tensorflow/tfjs';
import { ADAM_UPDATE } from './adam-update.js';
import { adamInPlace, sgdInPlace } from './in-place.js';

export interface Optimizer {
  /**
   * One update; grads[i] belongs to vars[i] (null: the variable got no gradient this step). With
   * `release`, each gradient is disposed as soon as its variable is updated, so a step never holds
   * more than the gradients still to apply.
   */
  step(vars: tf.Variable[], grads: (tf.Tensor | null)[], lr: number, release?: boolean): void;
  dispose(): void;
  /** Step count and slot values per variable (null: no slot yet), for a training checkpoint. */
  exportState(vars: tf.Variable[]): OptimizerState;
  /** Restores what exportState gave, so training continues exactly where it was saved. */
  importState(vars: tf.Variable[], state: OptimizerState): void;
}

export interface OptimizerState {
  step: number;
  /** slots[k][i]: the k-th slot of vars[i] (Adam: m, s; SGD: the momentum buffer). */
  slots: (Float32Array | null)[][];
}

function exportSlots(map: Map<tf.Variable, tf.Variable>, vars: tf.Variable[]): (Float32Array | null)[] {
  return vars.map((v) => {
    const s = map.get(v);
    return s ? Float32Array.from(s.dataSync() as Float32Array) : null;
  });
}

function importSlots(map: Map<tf.Variable, tf.Variable>, vars: tf.Variable[], values: (Float32Array | null)[] | undefined): void {
  vars.forEach((v, i) => {
    const data = values?.[i];
    if (!data) return;
    slots(map, v).assign(tf.tensor(data, v.shape, 'float32'));
  });
}

/** The optimizer's state variable for `v` (zeros on first use), made outside any tidy so that it
 *  is the only holder of its storage and can be updated in place. */
function slots(map: Map<tf.Variable, tf.Variable>, v: tf.Variable): tf.Variable {
  let s = map.get(v);
  if (!s) {
    const zeros = tf.zerosLike(v);
    s = tf.variable(zeros, false);
    zeros.dispose();
    map.set(v, s);
  }
  return s;
}

export function adam(beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8): Optimizer {
  const m = new Map<tf.Variable, tf.Variable>();
  const s = new Map<tf.Variable, tf.Variable>();
  let t = 0;
  return {
    step(vars, grads, lr, release = false) {
      t++;
      const c1 = 1 - beta1 ** t;
      const c2 = 1 - beta2 ** t;
      const fused = tf.getKernel(ADAM_UPDATE, tf.getBackend()) !== undefined;
      const attrs = { beta1, beta2, c1, c2, epsilon, lr };
      vars.forEach((v, i) => {
        const g = grads[i];
        if (!g) return;
        const mv = slots(m, v);
        const sv = slots(s, v);
        // In place where the backend allows (cpu, wasm): no new weight- or moment-sized tensor.
        if (!(fused && adamInPlace(v, g, mv, sv, attrs))) {
          tf.tidy(() => {
            if (fused && v.dtype === 'float32') {
              const [w2, m2, s2] = tf.engine().runKernel(ADAM_UPDATE, { w: v, g, m: mv, s: sv }, attrs as never) as unknown as tf.Tensor[];
              mv.assign(m2!);
              sv.assign(s2!);
              v.assign(w2!);
              return;
            }
            mv.assign(tf.add(tf.mul(mv, beta1), tf.mul(g, 1 - beta1)));
            sv.assign(tf.add(tf.mul(sv, beta2), tf.mul(tf.square(g), 1 - beta2)));
            const update = tf.div(tf.div(mv, c1), tf.add(tf.sqrt(tf.div(sv, c2)), epsilon));
            v.assign(tf.sub(v, tf.mul(update, lr)));
          });
        }
        if (release) g.dispose();
      });
    },
    dispose() {
      for (const x of [...m.values(), ...s.values()]) x.dispose();
      m.clear();
      s.clear();
    },
    exportState(vars) {
      return { step: t, slots: [exportSlots(m, vars), exportSlots(s, vars)] };
    },
    importState(vars, state) {
      t = state.step;
      tf.tidy(() => {
        importSlots(m, vars, state.slots[0]);
        importSlots(s, vars, state.slots[1]);
      });
    },
  };
}

export function sgd(momentum = 0.9): Optimizer {
  const buf = new Map<tf.Variable, tf.Variable>();
  return {
    step(vars, grads, lr, release = false) {
      vars.forEach((v, i) => {
        const g = grads[i];
        if (!g) return;
        const fresh = !buf.has(v);
        const b = momentum > 0 ? slots(buf, v) : undefined;
        if (!sgdInPlace(v, g, b, momentum, fresh, lr)) {
          tf.tidy(() => {
            let d: tf.Tensor = g;
            if (b) {
              b.assign(fresh ? g : tf.add(tf.mul(b, momentum), g));
              d = b;
            }
            v.assign(tf.sub(v, tf.mul(d, lr)));
          });
        }
        if (release) g.dispose();
      });
    },
    dispose() {
      for (const x of buf.values()) x.dispose();
      buf.clear();
    },
    exportState(vars) {
      return { step: 0, slots: [exportSlots(buf, vars)] };
    },
    importState(vars, state) {
      tf.tidy(() => importSlots(buf, vars, state.slots[0]));
    },
  };
}
