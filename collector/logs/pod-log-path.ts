/**
 * What the kubelet's log path says about a container log file.
 *
 * The kubelet writes `<root>/<namespace>_<pod>_<podUID>/<container>/<restartCount>.log`; rotation
 * renames the live file to `<n>.log.<YYYYMMDD-hhmmss>` and a later rotation gzips it to
 * `….gz`. Namespace and pod names are DNS names, so `_` separates them unambiguously; the
 * root is configurable, so only the last three path segments are read.
 */

export interface PodLogPathMeta {
  namespace: string;
  pod: string;
  /** The directory's UID: the pod UID, or the `kubernetes.io/config.hash` of a static pod. */
  podUid: string;
  container: string;
  /** The `<n>` of `<n>.log`: the container's restart count. */
  restart: number;
  /** A renamed copy (`<n>.log.<timestamp>`, gzipped or not), no longer written to. */
  rotated: boolean;
  compressed: boolean;
}

/** kubelet's rotation suffix, Go layout `20060102-150405`. */
const ROTATION_STAMP = /^\d{8}-\d{6}$/;

/** `/var/log/pods/<ns>_<pod>_<uid>/<container>/<n>.log`, also `<n>.log.20060102-150405` and `…gz`; undefined if not such a path. */
export function parsePodLogPath(path: string): PodLogPathMeta | undefined {
  const fileStart = path.lastIndexOf('/');
  if (fileStart < 0) return undefined;
  const containerStart = path.lastIndexOf('/', fileStart - 1);
  if (containerStart < 0) return undefined;
  const podDirStart = path.lastIndexOf('/', containerStart - 1);
  // A relative path may begin with the pod directory itself.
  const podDir = path.slice(podDirStart + 1, containerStart);
  const container = path.slice(containerStart + 1, fileStart);
  const file = path.slice(fileStart + 1);

  const parts = podDir.split('_');
  if (parts.length !== 3) return undefined;
  const [namespace, pod, podUid] = parts as [string, string, string];
  if (namespace === '' || pod === '' || podUid === '' || container === '') return undefined;

  const logAt = file.indexOf('.log');
  if (logAt <= 0) return undefined;
  const restartText = file.slice(0, logAt);
  if (!isDigits(restartText)) return undefined;
  const restart = Number(restartText);
  if (!Number.isSafeInteger(restart)) return undefined;

  const suffix = file.slice(logAt + 4);
  if (suffix === '') return { namespace, pod, podUid, container, restart, rotated: false, compressed: false };
  if (suffix[0] !== '.') return undefined;
  const compressed = suffix.endsWith('.gz');
  const stamp = suffix.slice(1, compressed ? -3 : undefined);
  if (!ROTATION_STAMP.test(stamp)) return undefined;
  return { namespace, pod, podUid, container, restart, rotated: true, compressed };
}

function isDigits(s: string): boolean {
  if (s === '') return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}
