// Images of the config repository (images/): found, read and checked (a PNG, JPEG or GIF by its
// first bytes, within the size limit), and the checks of what templates and rules do with them:
// every {{image "x"}} names a usable image, a rule's images stay within the limit per message,
// and a rule that hosts images has a base URL to host them under.
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_IMAGE_BYTES, MAX_IMAGES_PER_MESSAGE_BYTES, type ImageAsset } from '../model/index.ts';
import { didYouMean } from '../policy/conditions/values.ts';
import { TOP, type Diagnostics } from './diagnostics.ts';
import { isFileInside } from './discover.ts';
import type { LoadedTemplate } from './templates.ts';
import type { LoadedTenant } from './tenants.ts';

/** An image file name: also what templates write in {{image "…"}}, and part of its Content-ID. */
export const IMAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface LoadedImage {
  readonly name: string;
  readonly file: string;
  readonly size: number;
  /** Present when the image is usable; else `problem` says why not. */
  readonly asset?: ImageAsset;
  readonly problem?: string;
}

type ImageType = ImageAsset['mime'];

/** The type of an image by its first bytes (the file name may say anything). */
export function imageTypeOf(bytes: Uint8Array): ImageType | 'svg' | undefined {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 512));
  if (b.length >= 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  const head = b.toString('latin1');
  if (head.startsWith('GIF87a') || head.startsWith('GIF89a')) return 'image/gif';
  if (/^(\ufeff|\xef\xbb\xbf)?\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!DOCTYPE svg[^>]*>\s*)?<svg[\s>]/i.test(head)) return 'svg';
  return undefined;
}

/** `<sha256 of the bytes, 16 hex>.<name>@sigops`: the same image keeps its Content-ID across messages and config reloads. */
export function contentIdOf(name: string, bytes: Uint8Array): string {
  return `${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}.${name}@sigops`;
}

async function readImage(root: string, name: string, out: Diagnostics): Promise<LoadedImage | undefined> {
  const file = `images/${name}`;
  const abs = join(root, file);
  if (!(await isFileInside(root, abs))) {
    out.warn(file, TOP, 'ignored-file', 'ignored: images/ holds image files only (no folders, no links out of the repository)');
    return undefined;
  }
  if (!IMAGE_NAME.test(name)) {
    out.error(file, TOP, 'invalid-image-name', `image name '${name}' must start with a letter or digit and use only letters, digits, '.', '-' and '_'`);
    return undefined;
  }
  const size = (await stat(abs)).size;
  if (size > MAX_IMAGE_BYTES) {
    const problem = `image '${name}' is ${size} bytes, over the limit of ${MAX_IMAGE_BYTES} bytes per image`;
    out.error(file, TOP, 'image-too-large', `${problem}: make it smaller (a signature logo needs a few KB)`);
    return { name, file, size, problem };
  }
  const data = new Uint8Array(await readFile(abs));
  const type = imageTypeOf(data);
  if (type === 'svg') {
    const problem = `image '${name}' is SVG, which Outlook and Gmail do not show in mail`;
    out.error(file, TOP, 'image-unsupported-type', `${problem}: export it as PNG`);
    return { name, file, size, problem };
  }
  if (type === undefined) {
    const problem = `image '${name}' is not a PNG, JPEG or GIF (judged by its content)`;
    out.error(file, TOP, 'image-unsupported-type', `${problem}: signatures can show PNG, JPEG and GIF images`);
    return { name, file, size, problem };
  }
  const ext = name.slice(name.lastIndexOf('.') + 1).toLowerCase();
  const expected = type === 'image/png' ? ['png'] : type === 'image/gif' ? ['gif'] : ['jpg', 'jpeg'];
  if (!expected.includes(ext)) {
    out.warn(file, TOP, 'image-extension', `image '${name}' is a ${type.slice(6).toUpperCase()} file; name it .${expected[0]} so that whoever saves it from a message can open it`);
  }
  return { name, file, size, asset: Object.freeze({ name, file, mime: type, data, contentId: contentIdOf(name, data) }) };
}

/** Every file under images/ (there may be none, and no folder). */
export async function readImages(root: string, out: Diagnostics): Promise<ReadonlyMap<string, LoadedImage>> {
  let names: string[];
  try {
    names = (await readdir(join(root, 'images'))).filter((n) => !n.startsWith('.')).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return new Map();
    throw err;
  }
  const read = await Promise.all(names.map((n) => readImage(root, n, out)));
  return new Map(read.filter((i): i is LoadedImage => i !== undefined).map((i) => [i.name, i]));
}

/**
 * Each `{{image "x"}}` names an image of images/ that is usable (an error at the call's
 * position, not only at the image); each rule's images (embedded) stay within the limit
 * per message; a rule hosting images has a base URL.
 */
export function checkImages(
  images: ReadonlyMap<string, LoadedImage>,
  templates: ReadonlyMap<string, LoadedTemplate>,
  tenants: readonly LoadedTenant[],
  out: Diagnostics,
): void {
  for (const t of templates.values()) {
    for (const ref of t.images) {
      const image = images.get(ref.name);
      if (!image) {
        out.error(ref.file, ref, 'image-not-found', `image '${ref.name}' not found${didYouMean(ref.name, images.keys())}: add images/${ref.name} or fix the name`);
      } else if (image.problem) {
        out.error(ref.file, ref, image.problem.includes('over the limit') ? 'image-too-large' : 'image-unsupported-type', `${image.problem} (${image.file})`);
      }
    }
  }
  for (const { tenant, yaml, valid } of tenants) {
    if (!valid) continue;
    if (tenant.images?.mode === 'hosted' && tenant.images.baseUrl === undefined) {
      out.error(tenant.file, yaml.positionAt(['images', 'mode']), 'image-base-url-missing', 'images.mode is hosted but images.baseUrl is not set: give the https URL images/ is published under');
    }
    tenant.rules.forEach((rule, i) => {
      const names = new Set<string>();
      for (const role of ['signature', 'banner', 'disclaimer'] as const) {
        const t = rule[role] !== undefined ? templates.get(rule[role]) : undefined;
        for (const ref of t?.images ?? []) if (ref.file === t?.htmlFile) names.add(ref.name);
      }
      if (names.size === 0) return;
      const mode = rule.images ?? tenant.images?.mode ?? 'embedded';
      if (mode === 'hosted') {
        if (tenant.images?.baseUrl === undefined && tenant.images?.mode !== 'hosted') {
          out.error(tenant.file, yaml.positionAt(['rules', i, 'images']), 'image-base-url-missing', `rule '${rule.name}' hosts its images but the tenant has no images.baseUrl: give the https URL images/ is published under`);
        }
        return;
      }
      let total = 0;
      for (const n of names) total += images.get(n)?.asset?.data.byteLength ?? 0;
      if (total > MAX_IMAGES_PER_MESSAGE_BYTES) {
        out.error(tenant.file, yaml.positionAt(['rules', i]), 'images-too-large', `rule '${rule.name}' embeds ${names.size} images of ${total} bytes in all, over the limit of ${MAX_IMAGES_PER_MESSAGE_BYTES} bytes per message: use smaller images, fewer of them, or images: hosted`);
      }
    });
  }
}
