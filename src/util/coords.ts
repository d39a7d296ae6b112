// One readable rendering of a cell's sweep coordinates for terminals: lists print as their items
// (a class subset of 200 names must not flood a progress line), long values are shortened with a
// count of what was left out.

const MAX_VALUE_CHARS = 48;

function renderValue(v: unknown): string[] {
  if (Array.isArray(v)) return v.flatMap(renderValue);
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>);
    // A one-key object such as { names: [...] } or { random: 5 } reads best as its key's value.
    if (entries.length === 1) {
      const [k, inner] = entries[0]!;
      return k === 'names' ? renderValue(inner) : [`${k}:${renderValue(inner).join(',')}`];
    }
    return entries.map(([k, inner]) => `${k}:${renderValue(inner).join(',')}`);
  }
  return [String(v)];
}

/** `cut=block3_pool dataset.classes=disk,square,triangle,…(+7)` */
export function formatCoords(coords: Record<string, unknown>, maxValueChars = MAX_VALUE_CHARS): string {
  return Object.entries(coords)
    .map(([k, v]) => `${k}=${shorten(renderValue(v), maxValueChars)}`)
    .join(' ');
}

function shorten(items: string[], max: number): string {
  const all = items.join(',');
  if (all.length <= max) return all;
  let out = '';
  let used = 0;
  for (const item of items) {
    const next = out ? `${out},${item}` : item;
    if (next.length > max) break;
    out = next;
    used++;
  }
  if (used === 0) return `${items[0]!.slice(0, max)}…`;
  return `${out},…(+${items.length - used})`;
}
