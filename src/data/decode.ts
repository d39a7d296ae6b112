// Decoding and resizing through sharp (libvips): any format it reads, any size, grayscale,
// CMYK or 16-bit input, to uint8 HWC at the target size and channel count.
import { statSync } from 'node:fs';
import sharp from 'sharp';
type Sharp = ReturnType<typeof sharp>;
import type { RawImage } from './listing.js';
import { resample } from './resample.js';

// Each image is touched once: libvips' operation cache would only hold memory.
sharp.cache(false);

export interface Target { width: number; height: number; channels: 1 | 3; fit: 'fill' | 'cover' }

export class DecodeError extends Error {
  constructor(readonly reason: string) { super(reason); }
}

/** A skip reason for a file sharp refused: "zero-length file", "truncated or corrupt image (…)" … */
export function reasonFor(file: string, e: unknown): string {
  try {
    if (statSync(file).size === 0) return 'zero-length file';
  } catch {
    return 'file vanished or unreadable';
  }
  let msg = String((e as Error)?.message ?? e).split('\n')[0]!.trim();
  // libvips sometimes reports only that a warning was fatal, not which one.
  if (/warning treated as error/i.test(msg)) msg = 'the decoder warned of damaged or incomplete data';
  if (/unsupported image format|not a known file format|bad seek|no loader/i.test(msg)) return `not a decodable image (${msg})`;
  if (/premature end|truncat|short read|unexpected end|out of data|end of file|corrupt|incomplete|read error|damaged|invalid|bad huffman/i.test(msg)) return `truncated or corrupt image (${msg})`;
  return `unreadable image (${msg})`;
}

/** Converts uint8 HWC pixels between 1 and 3 channels (ITU-R 601 luma for colour → gray). */
export function convertChannels(data: Uint8Array, pixels: number, from: number, to: number): Uint8Array {
  if (from === to) return data;
  const out = new Uint8Array(pixels * to);
  if (to === 3 && from === 1) {
    for (let i = 0, o = 0; i < pixels; i++, o += 3) { const v = data[i]!; out[o] = v; out[o + 1] = v; out[o + 2] = v; }
  } else if (to === 1 && from >= 3) {
    for (let i = 0, j = 0; i < pixels; i++, j += from) out[i] = Math.round(0.299 * data[j]! + 0.587 * data[j + 1]! + 0.114 * data[j + 2]!);
  } else if (to === 3 && from === 2) { // gray + alpha
    for (let i = 0, o = 0; i < pixels; i++, o += 3) { const v = data[2 * i]!; out[o] = v; out[o + 1] = v; out[o + 2] = v; }
  } else if (to === 3 && from === 4) {
    for (let i = 0, o = 0; i < pixels; i++, o += 3) { out[o] = data[4 * i]!; out[o + 1] = data[4 * i + 1]!; out[o + 2] = data[4 * i + 2]!; }
  } else if (to === 1 && from === 2) {
    for (let i = 0; i < pixels; i++) out[i] = data[2 * i]!;
  } else {
    throw new Error(`cannot convert ${from} channels to ${to}`);
  }
  return out;
}

// Transparent pixels over black; then the colour space the channel count asks for (libvips
// converts CMYK through its ICC profile and scales 16-bit samples to 8 bits).
function colour(img: Sharp, t: Target): Sharp {
  return img.flatten({ background: '#000000' }).toColourspace(t.channels === 1 ? 'b-w' : 'srgb');
}

async function rawPixels(img: Sharp, t: Target): Promise<{ data: Uint8Array; width: number; height: number }> {
  const { data, info } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (data.length !== info.width * info.height * info.channels) throw new DecodeError(`decoder returned ${data.length} bytes for ${info.width}×${info.height}×${info.channels}`);
  const px = convertChannels(new Uint8Array(data.buffer, data.byteOffset, data.length), info.width * info.height, info.channels, t.channels);
  return { data: px, width: info.width, height: info.height };
}

/** Source images up to this many pixels are decoded whole and resampled in JavaScript. */
export function smallImagePixels(t: Target): number {
  return Math.max(4 * t.width * t.height, 128 * 128);
}

/** Decodes an image file to the target; a file that isn't a readable image throws DecodeError with a reason. */
export async function decodeFile(file: string, t: Target): Promise<Uint8Array> {
  // autoOrient: a photo's EXIF orientation is applied, as every viewer shows it.
  const options = { failOn: 'warning' as const, sequentialRead: true, autoOrient: true };
  try {
    // Small images (the usual case: 28×28 … 64×64 datasets): one decode, JS resampling. Larger
    // ones exceed the pixel limit at the header and take sharp's resize with shrink-on-load.
    try {
      const r = await rawPixels(colour(sharp(file, { ...options, limitInputPixels: smallImagePixels(t) }), t), t);
      return resample(r.data, r.width, r.height, t.channels, t.width, t.height, t.fit);
    } catch (e) {
      if (!/pixel limit/i.test(String((e as Error)?.message))) throw e;
    }
    const r = await rawPixels(colour(sharp(file, options).resize(t.width, t.height, { fit: t.fit, position: 'centre' }), t), t);
    if (r.width !== t.width || r.height !== t.height) throw new DecodeError(`resize gave ${r.width}×${r.height}, expected ${t.width}×${t.height}`);
    return r.data;
  } catch (e) {
    if (e instanceof DecodeError) throw e;
    throw new DecodeError(reasonFor(file, e));
  }
}

/** Brings in-memory pixels (IDX records, drawings: small) to the target size and channels. */
export async function convertRaw(raw: RawImage, t: Target): Promise<Uint8Array> {
  const px = convertChannels(raw.data, raw.width * raw.height, raw.channels, t.channels);
  return resample(px, raw.width, raw.height, t.channels, t.width, t.height, t.fit);
}

/** Header facts for inspection: size, channels, format, bit depth, colour space. */
export async function probeFile(file: string): Promise<{ width: number; height: number; channels: number; format: string; depth: string; space: string }> {
  const img = sharp(file, { failOn: 'warning' });
  try {
    const m = await img.metadata();
    // A full decode: truncated files often have a sound header.
    await img.raw().toBuffer();
    return { width: m.width ?? 0, height: m.height ?? 0, channels: m.channels ?? 0, format: m.format ?? '?', depth: String(m.depth ?? '?'), space: String(m.space ?? '?') };
  } catch (e) {
    throw new DecodeError(reasonFor(file, e));
  }
}
