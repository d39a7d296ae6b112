// Slurm's time formats (sbatch --time), checked before anything is submitted: a typo must be a
// config error naming the field, not a storm of refused submissions.

const FORMATS = 'minutes, minutes:seconds, hours:minutes:seconds, days-hours, days-hours:minutes or days-hours:minutes:seconds';

/** Seconds of a Slurm time limit ('UNLIMITED'/'INFINITE' → Infinity); throws on anything else. */
export function parseSlurmTime(text: string): number {
  const s = text.trim();
  if (/^(UNLIMITED|INFINITE)$/i.test(s)) return Infinity;
  const n = (x: string | undefined): number => Number(x ?? 0);
  let m: RegExpMatchArray | null;
  if ((m = s.match(/^(\d+)-(\d+)(?::(\d+)(?::(\d+))?)?$/))) {
    return n(m[1]) * 86400 + n(m[2]) * 3600 + n(m[3]) * 60 + n(m[4]);
  }
  if ((m = s.match(/^(\d+):(\d+):(\d+)$/))) return n(m[1]) * 3600 + n(m[2]) * 60 + n(m[3]);
  if ((m = s.match(/^(\d+):(\d+)$/))) return n(m[1]) * 60 + n(m[2]);
  if ((m = s.match(/^(\d+)$/))) return n(m[1]) * 60;
  throw new Error(`"${text}" is not a Slurm time (expected ${FORMATS})`);
}

/** A number of seconds as a Slurm time limit, rounded up to whole minutes (Slurm's unit). */
export function formatSlurmTime(seconds: number): string {
  const minutes = Math.max(1, Math.ceil(seconds / 60));
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  const hm = `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:00`;
  return d > 0 ? `${d}-${hm}` : hm;
}
