/**
 * Finding the log files to tail.
 *
 * Under the pods log root, `<root>/<ns>_<pod>_<uid>/<container>/`: the live `<n>.log` files and
 * their rotations `<n>.log.<stamp>` and `<n>.log.<stamp>.gz` (kubelet's `.tmp` leftovers are
 * ignored). Rotations are listed so that content the collector had not finished when it was
 * rotated (and possibly gzipped) can still be read to its end; the caller decides by fileKey and
 * checkpoint whether a rotation needs reading at all.
 *
 * `extra_globs` name further files, e.g. written by containers to hostPath or emptyDir volumes.
 * Their metadata comes from the path: if some ancestor directory is a pod log directory
 * (`…/<ns>_<pod>_<uid>/<container>/…`) that gives namespace, pod, UID and container; otherwise
 * the convention is `…/<namespace>/<pod>/<file>`: the file's grandparent directory names the
 * namespace, its parent the pod, and the file name without rotation suffix and `.log` the container. Matched
 * files are followed as live files, except rotated names (`app.log.1`, `app.log-20240101`,
 * `….gz`), which are read once to their end (and only if their content was not read before).
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { expandGlob, type CompiledGlob } from './glob.js';
import { parsePodLogPath } from './pod-log-path.js';

export interface FileMeta {
  readonly namespace: string;
  readonly pod: string;
  readonly podUid: string;
  readonly container: string;
  readonly restart: number;
}

export interface FileCandidate {
  readonly path: string;
  readonly meta: FileMeta;
  /** Written to by a runtime: followed at its end. Rotations are only read to their end. */
  readonly live: boolean;
  readonly compressed: boolean;
  /** Mixed into the fileKey (see fingerprint.ts); set for files from `extra_globs`. */
  readonly scope?: string;
}

export interface Discovery {
  readonly files: FileCandidate[];
  /** False when the root could not be listed (missing, not mounted yet): absent files prove nothing. */
  readonly complete: boolean;
  /** Directories worth watching for changes: the root, pod and container directories. */
  readonly dirs: string[];
}

async function subdirs(dir: string): Promise<string[] | undefined> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return undefined; // gone or unreadable: the next scan looks again
  }
}

async function fileNames(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries.filter((e) => e.isFile() || e.isSymbolicLink()).map((e) => e.name);
  } catch {
    return [];
  }
}

export async function discoverPodLogs(root: string): Promise<Discovery> {
  const files: FileCandidate[] = [];
  const dirs: string[] = [root];
  const pods = await subdirs(root);
  if (pods === undefined) return { files, dirs, complete: false };
  for (const podDir of pods) {
    const podPath = path.join(root, podDir);
    dirs.push(podPath);
    for (const container of (await subdirs(podPath)) ?? []) {
      const containerPath = path.join(podPath, container);
      dirs.push(containerPath);
      for (const name of await fileNames(containerPath)) {
        if (name.endsWith('.tmp')) continue;
        const file = path.join(containerPath, name);
        const meta = parsePodLogPath(file);
        if (meta === undefined) continue;
        files.push({
          path: file,
          meta: { namespace: meta.namespace, pod: meta.pod, podUid: meta.podUid, container: meta.container, restart: meta.restart },
          live: !meta.rotated && !meta.compressed,
          compressed: meta.compressed,
        });
      }
    }
  }
  return { files, dirs, complete: true };
}

export async function discoverGlobFiles(globs: readonly CompiledGlob[]): Promise<Discovery> {
  const files: FileCandidate[] = [];
  const dirs = new Set<string>();
  const seen = new Set<string>();
  for (const glob of globs) {
    for (const file of await expandGlob(glob)) {
      if (seen.has(file) || file.endsWith('.tmp')) continue;
      seen.add(file);
      const compressed = file.endsWith('.gz');
      dirs.add(path.dirname(file));
      files.push({ path: file, meta: metaFromExtraPath(file), live: !compressed && !ROTATED_NAME.test(file), compressed, scope: rotationFamily(file) });
    }
  }
  return { files, dirs: [...dirs], complete: true };
}

/** logrotate's and kubelet's rotated names: `.1`, `-20240101`, `.20240101-150405`, optionally `.gz`. */
const ROTATED_NAME = /(\.\d+|[.-]\d{8}(-\d{6})?)(\.gz)?$/;

/**
 * The path a file and its rotations share: the path without a rotation suffix (`app.log`,
 * `app.log.1`, `app.log-20240101.gz` → `app.log`). Files from `extra_globs` are fingerprinted
 * within this scope, so two files with the same first line ("starting") are told apart while a
 * rotated copy still matches its original.
 */
export function rotationFamily(file: string): string {
  return file.replace(ROTATED_NAME, '').replace(/\.gz$/, '');
}

/** Metadata of a file outside the pods log root; see the module comment for the convention. */
export function metaFromExtraPath(file: string): FileMeta {
  const normalized = path.resolve(file);
  // Nearest ancestor that is a pod log directory's container directory.
  for (let dir = path.dirname(normalized); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const meta = parsePodLogPath(path.join(dir, '0.log'));
    if (meta !== undefined) {
      return { namespace: meta.namespace, pod: meta.pod, podUid: meta.podUid, container: meta.container, restart: 0 };
    }
  }
  const parent = path.dirname(normalized);
  const grandparent = path.dirname(parent);
  return {
    namespace: parent === grandparent ? '' : path.basename(grandparent),
    pod: path.basename(parent),
    podUid: '',
    container: path.basename(rotationFamily(normalized)).replace(/\.log$/, ''),
    restart: 0,
  };
}
