// forkscope's shared-memory binding: maps a file descriptor (a /dev/shm or tmpfs file the runtime
// opened with Node's fs) MAP_SHARED and hands it to JavaScript as a real SharedArrayBuffer, so
// typed arrays and Atomics work across processes. Also flock() for "who still uses this segment".
// Depends on V8/Node headers only; all naming, sizing and lifetime policy lives in TypeScript.
#include <node.h>
#include <v8.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <sys/file.h>
#include <sys/mman.h>

namespace {

using v8::ArrayBuffer;
using v8::BackingStore;
using v8::Context;
using v8::FunctionCallbackInfo;
using v8::Isolate;
using v8::Local;
using v8::Object;
using v8::SharedArrayBuffer;
using v8::String;
using v8::Value;

void Throw(Isolate* isolate, const std::string& message) {
  isolate->ThrowException(v8::Exception::Error(String::NewFromUtf8(isolate, message.c_str()).ToLocalChecked()));
}

// The mapping lives as long as the SharedArrayBuffer's backing store: V8 calls this when the last
// JavaScript reference (in any thread of this process) is gone. The fd may be closed long before.
void Unmap(void* data, size_t length, void* /*deleter_data*/) {
  if (data != nullptr && length > 0) munmap(data, length);
}

// map(fd, length) -> SharedArrayBuffer over the file's first `length` bytes.
void Map(const FunctionCallbackInfo<Value>& info) {
  Isolate* isolate = info.GetIsolate();
  if (info.Length() < 2 || !info[0]->IsInt32() || !info[1]->IsNumber()) {
    Throw(isolate, "map(fd, length): expected an int fd and a length");
    return;
  }
  int fd = info[0].As<v8::Int32>()->Value();
  double requested = info[1].As<v8::Number>()->Value();
  if (!(requested > 0) || requested > 1099511627776.0) {
    Throw(isolate, "map(fd, length): length must be positive");
    return;
  }
  size_t length = static_cast<size_t>(requested);
  void* data = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED) {
    Throw(isolate, std::string("mmap failed: ") + std::strerror(errno));
    return;
  }
  std::unique_ptr<BackingStore> store = SharedArrayBuffer::NewBackingStore(data, length, Unmap, nullptr);
  info.GetReturnValue().Set(SharedArrayBuffer::New(isolate, std::move(store)));
}

// flock(fd, exclusive, block) -> true when taken, false when it would block; unlock with flock(fd, -1).
void Flock(const FunctionCallbackInfo<Value>& info) {
  Isolate* isolate = info.GetIsolate();
  if (info.Length() < 2 || !info[0]->IsInt32() || !info[1]->IsInt32()) {
    Throw(isolate, "flock(fd, mode): expected ints");
    return;
  }
  int fd = info[0].As<v8::Int32>()->Value();
  int mode = info[1].As<v8::Int32>()->Value();
  int op = mode < 0 ? LOCK_UN : (mode == 0 ? LOCK_SH : LOCK_EX);
  if (mode >= 0) op |= LOCK_NB;
  int rc;
  do {
    rc = flock(fd, op);
  } while (rc != 0 && errno == EINTR);
  if (rc == 0) {
    info.GetReturnValue().Set(true);
  } else if (errno == EWOULDBLOCK) {
    info.GetReturnValue().Set(false);
  } else {
    Throw(isolate, std::string("flock failed: ") + std::strerror(errno));
  }
}

}  // namespace

NODE_MODULE_INIT(/* exports, module, context */) {
  Isolate* isolate = context->GetIsolate();
  NODE_SET_METHOD(exports, "map", Map);
  NODE_SET_METHOD(exports, "flock", Flock);
  (void)module;
  (void)isolate;
}
