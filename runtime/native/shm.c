/* forkscope's shared-memory binding, in Node-API (C) so one build serves every Node >= 20.
 * remap(fd, length, view) maps the first `length` bytes of a file MAP_SHARED|MAP_FIXED over the
 * memory of `view`, a Uint8Array over a shared WebAssembly.Memory's buffer that binding.ts created:
 * V8 owns that memory (page-aligned, never moved, never grown: maximum == initial) and munmaps the
 * whole reservation when the last SharedArrayBuffer of it is collected, which removes our mapping
 * with it. Node-API cannot create a SharedArrayBuffer over foreign memory on Node 20/22, hence this.
 * Also flock() for "who still uses this segment". Depends on Node-API and libc only. */
#define NAPI_VERSION 8
#include <node_api.h>

#ifdef FORKSCOPE_NO_SDK
#include "darwin_sys.h"
#else
#include <errno.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

static napi_value throw_error(napi_env env, const char* code, const char* message) {
  napi_throw_error(env, code, message);
  return NULL;
}

static napi_value throw_errno(napi_env env, const char* what, int err) {
  char message[160];
  const char* text = strerror(err);
  size_t n = 0;
  for (const char* p = what; *p && n < sizeof message - 1; p++) message[n++] = *p;
  for (const char* p = ": "; *p && n < sizeof message - 1; p++) message[n++] = *p;
  for (const char* p = text; p && *p && n < sizeof message - 1; p++) message[n++] = *p;
  message[n] = 0;
  return throw_error(env, err == ENOMEM ? "ENOMEM" : "ESHM", message);
}

/* remap(fd, length, view) -> undefined; throws when the view is not page-aligned memory that is
 * large enough, or when mmap fails. Bytes past `length` up to the page end read as the file's. */
static napi_value Remap(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) return throw_error(env, "EINVAL", "remap(fd, length, view): three arguments expected");
  int32_t fd;
  double requested;
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) return throw_error(env, "EINVAL", "remap(fd, length, view): fd must be an int");
  if (napi_get_value_double(env, argv[1], &requested) != napi_ok || !(requested > 0)) return throw_error(env, "EINVAL", "remap(fd, length, view): length must be positive");
  napi_typedarray_type type;
  size_t elements;
  void* data = NULL;
  if (napi_get_typedarray_info(env, argv[2], &type, &elements, &data, NULL, NULL) != napi_ok || type != napi_uint8_array) return throw_error(env, "EINVAL", "remap(fd, length, view): view must be a Uint8Array");
  long page = sysconf(_SC_PAGESIZE);
  if (page <= 0) page = 4096;
  size_t length = (size_t)requested;
  size_t mapped = (length + (size_t)page - 1) / (size_t)page * (size_t)page;
  if ((double)length != requested || mapped > elements || data == NULL || ((size_t)data % (size_t)page) != 0) return throw_error(env, "EINVAL", "remap(fd, length, view): view must be page-aligned and cover length rounded up to a page");
  void* at = mmap(data, mapped, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
  if (at == MAP_FAILED) return throw_errno(env, "mmap", errno);
  if (at != data) return throw_error(env, "ESHM", "mmap placed the mapping elsewhere");
  return NULL;
}

/* flock(fd, mode) -> true when taken, false when it would block; mode 0 shared, 1 exclusive, -1 unlock. */
static napi_value Flock(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  int32_t fd, mode;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_int32(env, argv[1], &mode) != napi_ok) return throw_error(env, "EINVAL", "flock(fd, mode): expected ints");
  int op = mode < 0 ? LOCK_UN : (mode == 0 ? LOCK_SH : LOCK_EX);
  if (mode >= 0) op |= LOCK_NB;
  int rc;
  do {
    rc = flock(fd, op);
  } while (rc != 0 && errno == EINTR);
  napi_value result;
  if (rc == 0 || errno == EWOULDBLOCK) {
    napi_get_boolean(env, rc == 0, &result);
    return result;
  }
  return throw_errno(env, "flock", errno);
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  if (napi_create_function(env, "remap", NAPI_AUTO_LENGTH, Remap, NULL, &fn) != napi_ok || napi_set_named_property(env, exports, "remap", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "flock", NAPI_AUTO_LENGTH, Flock, NULL, &fn) != napi_ok || napi_set_named_property(env, exports, "flock", fn) != napi_ok) return NULL;
  napi_value abi;
  napi_create_uint32(env, 2, &abi);
  napi_set_named_property(env, exports, "abi", abi);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
