// Tiny-ImageNet-200 (cs231n): train/<wnid>/images/*.JPEG, val/images + val/val_annotations.txt,
// class names from words.txt. The test labels are not public, so the official val split is our test.
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { UsageError } from '../../util/errors.js';
import { collectImages, countFiles, isDir, isFile, isImageName, isMetadataName, readDirSorted, requireDatasetDir } from '../files.js';
import { SkipLog, type Item, type Listing } from '../listing.js';

const LAYOUT = 'wnids.txt, words.txt, train/<wnid>/images/*.JPEG and val/val_annotations.txt with val/images/ (tiny-imagenet-200/)';
const WNID = /^n\d{8}$/;

function hasLayout(dir: string): boolean {
  return isFile(join(dir, 'wnids.txt')) && isDir(join(dir, 'train'));
}

/** wnid → first name of words.txt ("n02085620\tChihuahua" → "Chihuahua"); names made unique. */
export function readWords(file: string, wnids: readonly string[]): string[] {
  const names = new Map<string, string>();
  if (existsSync(file)) {
    const wanted = new Set(wnids);
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const tab = line.indexOf('\t');
      if (tab < 0) continue;
      const id = line.slice(0, tab).trim();
      if (wanted.has(id)) names.set(id, line.slice(tab + 1).split(',')[0]!.trim() || id);
    }
  }
  const raw = wnids.map((w) => names.get(w) ?? w);
  // Two synsets can share a first name ("crane" the bird and the machine): keep both apart.
  return raw.map((n, i) => (raw.indexOf(n) !== raw.lastIndexOf(n) ? `${n} (${wnids[i]})` : n));
}

/** The dataset root: `given`, or the nested tiny-imagenet-200/ an archive unpacked into. */
function locateTinyRoot(given: string, notes: string[]): string {
  let root = given;
  if (!hasLayout(root)) {
    // Same rules as the other kinds: follow a nested copy, refuse a parent or a sub-folder.
    if (isDir(join(root, 'tiny-imagenet-200')) && hasLayout(join(root, 'tiny-imagenet-200'))) {
      if (root.replace(/\/+$/, '').endsWith('tiny-imagenet-200')) {
        root = join(root, 'tiny-imagenet-200');
        notes.push('the dataset is in the nested folder tiny-imagenet-200/ (archive unpacked one level deep)');
      } else {
        throw new UsageError(`${given} is not the tiny-imagenet-200 folder but holds one: pass ${join(given, 'tiny-imagenet-200')} instead`);
      }
    } else if (isDir(join(root, '..')) && hasLayout(join(root, '..'))) {
      throw new UsageError(`${given} is a sub-folder of the tiny-imagenet-200 dataset: pass its parent ${join(given, '..')} instead (expected ${LAYOUT})`);
    } else {
      const missing = ['wnids.txt', 'train/'].filter((f) => !existsSync(join(root, f)));
      throw new UsageError(`${given} does not look like tiny-imagenet-200: missing ${missing.join(' and ')} (expected ${LAYOUT})`);
    }
  }
  return root;
}

function readWnids(wnidsFile: string): string[] {
  const wnids: string[] = [];
  readFileSync(wnidsFile, 'utf8').split('\n').forEach((line, i) => {
    const w = line.trim();
    if (w === '') return;
    if (!WNID.test(w)) throw new UsageError(`${wnidsFile}:${i + 1}: "${w}" is not a WordNet id (expected n followed by 8 digits, e.g. n01443537)`);
    if (wnids.includes(w)) throw new UsageError(`${wnidsFile}:${i + 1}: ${w} is listed twice`);
    wnids.push(w);
  });
  if (wnids.length < 2) throw new UsageError(`${wnidsFile} lists ${wnids.length} class(es); expected one WordNet id a line (200 in the published set)`);
  return wnids;
}

/** Class names (words.txt) and ids (wnids.txt) from the two text files alone: no image is read. */
export function tinyImageNetClasses(path: string): { classes: string[]; classIds: string[] } {
  const root = locateTinyRoot(path, []);
  const wnids = readWnids(join(root, 'wnids.txt'));
  return { classes: readWords(join(root, 'words.txt'), wnids), classIds: wnids };
}

export function listTinyImageNet(path: string | undefined): Listing {
  const given = requireDatasetDir(path, 'tiny-imagenet-200', LAYOUT);
  const notes: string[] = [];
  const root = locateTinyRoot(given, notes);
  const skips = new SkipLog();
  const { classes, classIds: wnids } = tinyImageNetClasses(root);
  if (!existsSync(join(root, 'words.txt'))) notes.push('words.txt missing: classes are named by their WordNet ids');
  const label = new Map(wnids.map((w, i) => [w, i]));

  for (const e of readDirSorted(root)) {
    if (['wnids.txt', 'words.txt', 'train', 'val', 'test'].includes(e.name)) continue;
    const full = join(root, e.name);
    if (isMetadataName(e.name)) skips.add(e.name, e.isDirectory() ? `operating-system metadata folder (${countFiles(full)} files)` : 'operating-system metadata file');
    else if (e.isDirectory() && hasLayout(full)) skips.add(e.name, `nested duplicate of the dataset folder, ignored (${countFiles(full)} files)`);
    else skips.add(e.name, e.isDirectory() ? `unexpected folder (${countFiles(full)} files)` : 'unexpected file');
  }

  // Train: train/<wnid>/images/*; <wnid>_boxes.txt is expected and unused.
  const train: Item[] = [];
  const trainDir = join(root, 'train');
  for (const e of readDirSorted(trainDir)) {
    const full = join(trainDir, e.name);
    const rel = relative(root, full);
    if (label.has(e.name) && e.isDirectory()) continue;
    if (isMetadataName(e.name)) skips.add(rel, e.isDirectory() ? `operating-system metadata folder (${countFiles(full)} files)` : 'operating-system metadata file');
    else skips.add(rel, e.isDirectory() ? `class folder not listed in wnids.txt (${countFiles(full)} files)` : 'file outside the class folders');
  }
  for (const w of wnids) {
    const classDir = join(trainDir, w);
    const imagesDir = join(classDir, 'images');
    if (!isDir(imagesDir)) throw new UsageError(`missing ${relative(root, imagesDir)}/: every WordNet id of wnids.txt needs train/<wnid>/images/ (expected ${LAYOUT})`);
    for (const e of readDirSorted(classDir)) {
      if (e.name === 'images' || e.name === `${w}_boxes.txt`) continue;
      const rel = relative(root, join(classDir, e.name));
      skips.add(rel, isMetadataName(e.name) ? 'operating-system metadata file' : 'unexpected entry in a class folder');
    }
    const files = collectImages(imagesDir, root, skips);
    if (files.length === 0) throw new UsageError(`class folder ${relative(root, imagesDir)}/ holds no images (expected ${w}_<k>.JPEG files)`);
    for (const file of files) train.push({ label: label.get(w)!, file });
  }

  // Val: labelled by val_annotations.txt (file, wnid, box), or already sorted into
  // val/<wnid>/[images/] folders by a common post-download script.
  let test: Item[] | undefined;
  const valDir = join(root, 'val');
  const annFile = join(valDir, 'val_annotations.txt');
  const sortedVal = isDir(valDir) && !isDir(join(valDir, 'images')) && wnids.some((w) => isDir(join(valDir, w)));
  if (sortedVal) {
    test = [];
    for (const e of readDirSorted(valDir)) {
      const full = join(valDir, e.name);
      if (e.name === 'val_annotations.txt' || (label.has(e.name) && e.isDirectory())) continue;
      skips.add(relative(root, full), isMetadataName(e.name) ? 'operating-system metadata file' : e.isDirectory() ? `class folder not listed in wnids.txt (${countFiles(full)} files)` : 'file outside the class folders');
    }
    for (const w of wnids) {
      const classDir = isDir(join(valDir, w, 'images')) ? join(valDir, w, 'images') : join(valDir, w);
      if (!isDir(classDir)) continue;
      for (const file of collectImages(classDir, root, skips, { recursive: true })) test.push({ label: label.get(w)!, file });
    }
    if (test.length === 0) throw new UsageError(`${valDir}: the val/<wnid>/ folders hold no images`);
    notes.push('test: the official val split (sorted into val/<wnid>/ folders; test/ labels are not public)');
  } else if (isFile(annFile)) {
    test = [];
    const valImages = join(valDir, 'images');
    if (!isDir(valImages)) throw new UsageError(`missing val/images/ next to ${annFile}`);
    const onDisk = new Set(collectImages(valImages, root, skips).map((f) => relative(valImages, f)));
    const annotated = new Set<string>();
    readFileSync(annFile, 'utf8').split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      const fields = line.split('\t');
      const where = `${relative(root, annFile)}:${i + 1}`;
      if (fields.length < 2) throw new UsageError(`${where}: expected "<file> TAB <wnid> TAB x0 TAB y0 TAB x1 TAB y1", got "${line.slice(0, 80)}"`);
      const [file, wnid] = [fields[0]!.trim(), fields[1]!.trim()];
      annotated.add(file);
      const rel = join('val', 'images', file);
      if (!label.has(wnid)) { skips.add(rel, `annotation names ${wnid}, not in wnids.txt (${where})`); return; }
      if (!isImageName(file)) { skips.add(rel, `annotation names a file that is not an image (${where})`); return; }
      if (!onDisk.has(file)) { skips.add(rel, `annotated file missing (${where})`); return; }
      test!.push({ label: label.get(wnid)!, file: join(valImages, file) });
    });
    for (const f of onDisk) if (!annotated.has(f)) skips.add(join('val', 'images', f), 'image not listed in val_annotations.txt');
    if (test.length === 0) throw new UsageError(`${annFile} labels no image present in val/images/ (expected lines "<file> TAB <wnid> …" naming files there)`);
    notes.push('test: the official val split (test/ labels are not public)');
  } else if (isDir(valDir)) {
    throw new UsageError(`missing ${annFile}: the val split needs its annotation file (file TAB wnid TAB box)`);
  } else {
    notes.push('no val/ folder: a test split is carved out of train');
  }
  if (isDir(join(root, 'test'))) notes.push('test/ folder ignored (unlabelled)');
  return { kind: 'tiny-imagenet-200', root, classes, classIds: wnids, skipped: skips.entries, notes, splits: { train, test } };
}
