/*
 * File-backed memory for sealed head chunks (see ../mapped-arena.ts).
 *
 * Node has no mmap, and a sealed chunk must stay readable as plain bytes for the decoders, so
 * this addon maps a segment file shared and read-write and hands the mapping to JavaScript as an
 * external ArrayBuffer. Three calls, each a thin wrapper over one system call:
 *
 *   map(fd, length)              -> ArrayBuffer, unmapped when the buffer is garbage collected
 *   reserve(fd, offset, length)  -> allocates disk blocks before the bytes are written, so a full
 *                                   disk is an error here rather than SIGBUS on a page fault
 *   release(buffer, offset, len) -> drops the pages from this process's page tables; the data
 *                                   stays in the page cache (and the file), as written
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <node_api.h>

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static int get_int64(napi_env env, napi_value v, int64_t *out) {
  return napi_get_value_int64(env, v, out) == napi_ok;
}

static void unmap(napi_env env, void *data, void *hint) {
  (void)env;
  munmap(data, (size_t)(uintptr_t)hint);
}

static napi_value Map(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int64_t fd, length;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || !get_int64(env, argv[0], &fd) || !get_int64(env, argv[1], &length) || length <= 0) {
    napi_throw_type_error(env, NULL, "map(fd, length): fd and a positive length are required");
    return NULL;
  }
  void *p = mmap(NULL, (size_t)length, PROT_READ | PROT_WRITE, MAP_SHARED, (int)fd, 0);
  if (p == MAP_FAILED) return throw_errno(env, "mmap", errno);
  napi_value buf;
  if (napi_create_external_arraybuffer(env, p, (size_t)length, unmap, (void *)(uintptr_t)length, &buf) != napi_ok) {
    munmap(p, (size_t)length);
    napi_throw_error(env, NULL, "cannot wrap the mapping in an ArrayBuffer");
    return NULL;
  }
  return buf;
}

static napi_value Reserve(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int64_t fd, offset, length;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3 || !get_int64(env, argv[0], &fd) || !get_int64(env, argv[1], &offset) || !get_int64(env, argv[2], &length)) {
    napi_throw_type_error(env, NULL, "reserve(fd, offset, length): three integers are required");
    return NULL;
  }
  int err = posix_fallocate((int)fd, (off_t)offset, (off_t)length);
  if (err != 0) return throw_errno(env, "posix_fallocate", err);
  return NULL;
}

static napi_value Release(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  void *data;
  size_t byte_length;
  int64_t offset, length;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 3 || napi_get_arraybuffer_info(env, argv[0], &data, &byte_length) != napi_ok ||
      !get_int64(env, argv[1], &offset) || !get_int64(env, argv[2], &length)) {
    napi_throw_type_error(env, NULL, "release(buffer, offset, length): an ArrayBuffer and two integers are required");
    return NULL;
  }
  long page = sysconf(_SC_PAGESIZE);
  if (offset < 0 || length < 0 || offset % page != 0 || (uint64_t)(offset + length) > byte_length) {
    napi_throw_range_error(env, NULL, "release: offset must be page-aligned and the range inside the buffer");
    return NULL;
  }
  /* On a shared file mapping this only unmaps: dirty pages stay in the page cache and are
     written back to the file, and the next access maps them again. */
  if (length > 0 && madvise((char *)data + offset, (size_t)length, MADV_DONTNEED) != 0) return throw_errno(env, "madvise", errno);
  return NULL;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"map", NULL, Map, NULL, NULL, NULL, napi_default, NULL},
      {"reserve", NULL, Reserve, NULL, NULL, NULL, napi_default, NULL},
      {"release", NULL, Release, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
