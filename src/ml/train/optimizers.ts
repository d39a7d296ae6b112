// Adam and SGD with momentum over tf.Variables, written out so the learning rate can change at
// every step (schedules) and the arithmetic is the same on every backend. PyTorch conventions:
// Adam with bias correction; SGD momentum buffer b ← μ·b + g, w ← w − lr·b. Where the backend has
// the fused Adam kernel (cpu, wasm) one kernel does each variable's update, with identical results.
import * as tf from '@tensorflow/tfjs';
import { ADAM_UPDATE } from './adam-update.js';

export interface Optimizer {
  /** One update; grads[i] belongs to vars[i] (null: the variable got no gradient this step). */
  step(vars: tf.Variable[], grads: (tf.Tensor | null)[], lr: number): void;
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

function slots(map: Map<tf.Variable, tf.Variable>, v: tf.Variable): tf.Variable {
  let s = map.get(v);
  if (!s) {
    s = tf.variable(tf.zerosLike(v), false);
    map.set(v, s);
  }
  return s;
}

export function adam(beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8): Optimizer {
  const m = new Map<tf.Variable, tf.Variable>();
  const s = new Map<tf.Variable, tf.Variable>();
  let t = 0;
  return {
    step(vars, grads, lr) {
      t++;
      const c1 = 1 - beta1 ** t;
      const c2 = 1 - beta2 ** t;
      const fused = tf.getKernel(ADAM_UPDATE, tf.getBackend()) !== undefined;
      tf.tidy(() => {
        vars.forEach((v, i) => {
          const g = grads[i];
          if (!g) return;
          const mv = slots(m, v);
          const sv = slots(s, v);
          if (fused && v.dtype === 'float32') {
            // One kernel for the whole update, the same arithmetic as the ops below.
            const attrs = { beta1, beta2, c1, c2, epsilon, lr };
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
    step(vars, grads, lr) {
      tf.tidy(() => {
        vars.forEach((v, i) => {
          const g = grads[i];
          if (!g) return;
          let d: tf.Tensor = g;
          if (momentum > 0) {
            const fresh = !buf.has(v);
            const b = slots(buf, v);
            b.assign(fresh ? g : tf.add(tf.mul(b, momentum), g));
            d = b;
          }
          v.assign(tf.sub(v, tf.mul(d, lr)));
        });
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
