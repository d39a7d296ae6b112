// The `executor:` block of a pipeline (or a named config under configs/executors/): where cells
// run. `local` is the process pool on this machine; `slurm` submits cells as batch jobs. Kept
// apart from the cell keys: where a cell ran never changes what it computes.
import { Type, type Static } from '@sinclair/typebox';

/** What one Slurm job asks for; every field maps to one sbatch option. */
export const SlurmResources = Type.Object({
  partition: Type.Optional(Type.String({ minLength: 1 })),
  account: Type.Optional(Type.String({ minLength: 1 })),
  qos: Type.Optional(Type.String({ minLength: 1 })),
  /** Slurm time format: minutes, min:sec, h:min:sec, days-h, days-h:min, days-h:min:sec. */
  time: Type.Optional(Type.String({ minLength: 1 })),
  cpus: Type.Optional(Type.Integer({ minimum: 1 })),
  /** Memory per job, e.g. 4G or 2048M (sbatch --mem). */
  mem: Type.Optional(Type.String({ pattern: '^[0-9]+[KMGTkmgt]?$' })),
  /** Generic resources, e.g. gpu:1; "none" drops a default GPU request. */
  gres: Type.Optional(Type.String({ minLength: 1 })),
  /** Further sbatch options, passed as given (e.g. ["--constraint=avx2"]). */
  sbatchArgs: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
}, { additionalProperties: false });
export type SlurmResources = Static<typeof SlurmResources>;

export const ExecutorObject = Type.Object({
  kind: Type.Union([Type.Literal('local'), Type.Literal('slurm')]),
  description: Type.Optional(Type.String()),
  // ---- defaults for every Slurm job ----
  partition: Type.Optional(Type.String({ minLength: 1 })),
  account: Type.Optional(Type.String({ minLength: 1 })),
  qos: Type.Optional(Type.String({ minLength: 1 })),
  time: Type.Optional(Type.String({ minLength: 1 })),
  cpus: Type.Optional(Type.Integer({ minimum: 1 })),
  mem: Type.Optional(Type.String({ pattern: '^[0-9]+[KMGTkmgt]?$' })),
  gres: Type.Optional(Type.String({ minLength: 1 })),
  sbatchArgs: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  /** Per stage type or stage instance name (the instance wins), over the defaults above. */
  stages: Type.Optional(Type.Record(Type.String(), SlurmResources)),
  /** Stage types run on the submit host instead of the cluster (cheap ones). */
  localStages: Type.Optional(Type.Array(Type.String())),
  /** Most jobs (array elements count one each) in the queue at once. */
  maxQueued: Type.Optional(Type.Integer({ minimum: 1 })),
  /** Seconds between two status queries (one query covers every job of the run). */
  pollSec: Type.Optional(Type.Number({ minimum: 0.1 })),
  /** Seconds to wait for a finished job's result to appear on the shared filesystem. */
  latencyWaitSec: Type.Optional(Type.Number({ minimum: 0 })),
  /** A job still pending after this many seconds is cancelled and its cell fails (0: wait forever). */
  maxPendingSec: Type.Optional(Type.Number({ minimum: 0 })),
  /** Times a job that hit its time limit or was preempted is requeued (it resumes from its checkpoint). */
  maxRequeues: Type.Optional(Type.Integer({ minimum: 0 })),
  /** Submit several ready cells of one stage as one job array (default true). */
  arrays: Type.Optional(Type.Boolean()),
  /** Node.js on the compute nodes (default: the one running sei). */
  node: Type.Optional(Type.String({ minLength: 1 })),
}, { additionalProperties: false });
export type ExecutorObject = Static<typeof ExecutorObject>;

/** `executor: slurm`, `executor: local`, or the full block. */
export const ExecutorBlock = Type.Union([Type.Literal('local'), Type.Literal('slurm'), ExecutorObject]);
export type ExecutorBlock = Static<typeof ExecutorBlock>;
