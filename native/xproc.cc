// xproc: the few cross-process primitives Node cannot do itself, for ring 0 as a service (rawpci serve) and its VM clients.
//
// memfd_create with seals, mmap of an fd into a SharedArrayBuffer (a V8 BackingStore whose
// deleter munmaps, so the worker threads of a process share the views), non-private futex
// wait/wake on a word of that memory (Atomics.wait/notify do not cross processes), futex_waitv
// on two words, a robust futex held by a thread of its own (the VM's liveness lock), eventfd,
// file descriptors over a unix socket (SCM_RIGHTS) and the socket's peer credentials
// (SO_PEERCRED). The typed wrapper with units and errors is shared/xproc.ts.
//
// Node-API has no way to make a SharedArrayBuffer over external memory in Node 20, so this
// addon uses V8's API (node.h); it is context-aware (NODE_MODULE_INIT) and loads in worker
// threads. Every function throws an Error whose `code` is the errno name and whose message
// names the call; none blocks except futexWait and futexWaitEither (bounded by their timeouts),
// pollFd, and lifeLockStart (until its thread holds the lock).

#include <node.h>
#include <v8.h>

#include <cerrno>
#include <cstring>
#include <climits>
#include <string>

#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif
#ifndef FUTEX2_SIZE_U32
#define FUTEX2_SIZE_U32 0x02
#endif

#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001U
#endif
#ifndef MFD_ALLOW_SEALING
#define MFD_ALLOW_SEALING 0x0002U
#endif

namespace {

using v8::Array;
using v8::BackingStore;
using v8::Context;
using v8::FunctionCallbackInfo;
using v8::Int32Array;
using v8::Integer;
using v8::Isolate;
using v8::Local;
using v8::Number;
using v8::Object;
using v8::SharedArrayBuffer;
using v8::String;
using v8::Uint8Array;
using v8::Value;

/** Most fds one message may carry (both directions). */
constexpr int kMaxFds = 16;

Local<String> Str(Isolate* iso, const char* s) { return String::NewFromUtf8(iso, s).ToLocalChecked(); }

/** Throws Error(`${what}: ${strerror}`) with .code = errno name and .errno = errno. */
void ThrowErrno(Isolate* iso, const char* what, int err) {
  std::string msg = std::string(what) + ": " + strerror(err);
  Local<Value> e = v8::Exception::Error(Str(iso, msg.c_str()));
  Local<Context> ctx = iso->GetCurrentContext();
  const char* name = strerrorname_np(err);
  e.As<Object>()->Set(ctx, Str(iso, "code"), Str(iso, name ? name : "EUNKNOWN")).Check();
  e.As<Object>()->Set(ctx, Str(iso, "errno"), Integer::New(iso, err)).Check();
  iso->ThrowException(e);
}

void ThrowType(Isolate* iso, const char* msg) { iso->ThrowException(v8::Exception::TypeError(Str(iso, msg))); }

bool IntArg(const FunctionCallbackInfo<Value>& a, int i, int64_t* out, const char* msg) {
  if (i >= a.Length() || !a[i]->IsNumber()) {
    ThrowType(a.GetIsolate(), msg);
    return false;
  }
  double d = a[i].As<Number>()->Value();
  if (d != d || d < (double)INT64_MIN || d > 9007199254740991.0) {
    ThrowType(a.GetIsolate(), msg);
    return false;
  }
  *out = (int64_t)d;
  return true;
}

/** memfdCreate(name, size, seal): a memfd of `size` bytes; with seal, F_SEAL_SHRINK|GROW|SEAL added. */
void MemfdCreate(const FunctionCallbackInfo<Value>& a) {
  Isolate* iso = a.GetIsolate();
  if (!a[0]->IsString()) return ThrowType(iso, "memfdCreate(name, size, seal): name must be a string");
  int64_t size;
  if (!IntArg(a, 1, &size, "memfdCreate(name, size, seal): size must be a byte count") || size < 0) return;
  bool seal = a.Length() > 2 && a[2]->BooleanValue(iso);
  String::Utf8Value name(iso, a[0]);
  int fd = (int)syscall(SYS_memfd_create, *name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return ThrowErrno(iso, "memfd_create", errno);
  if (ftruncate(fd, (off_t)size) != 0) {
    int e = errno;
    close(fd);
    return ThrowErrno(iso, "ftruncate", e);
  }
  if (seal && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    int e = errno;
    close(fd);
    return ThrowErrno(iso, "fcntl(F_ADD_SEALS)", e);
  }
  a.GetReturnValue().Set(Integer::New(iso, fd));
}

/** getSeals(fd): the F_GET_SEALS bits (throws EINVAL for an fd that is not a memfd/shmem file). */
void GetSeals(const FunctionCallbackInfo<Value>& a) {
  Isolate* iso = a.GetIsolate();
  int64_t fd;
  if (!IntArg(a, 0, &fd, "getSeals(fd): fd must be a number")) return;
  int s = fcntl((int)fd, F_GET_SEALS);
  if (s < 0) return ThrowErrno(iso, "fcntl(F_GET_SEALS)", errno);
  a.GetReturnValue().Set(Integer::New(iso, s));
}

/** fdSize(fd): st_size in bytes; fdMode(fd) would be more; this is what the bounds check needs. */
void FdSize(const FunctionCallbackInfo<Value>& a) {
  Isolate* iso = a.GetIsolate();
  int64_t fd;
  if (!IntArg(a, 0, &fd, "fdSize(fd): fd must be a number")) return;
  struct stat st;
  if (fstat((int)fd, &st) != 0) return ThrowErrno(iso, "fstat", errno);
  if (!S_ISREG(st.st_mode)) return ThrowErrno(iso, "fstat: not a regular file", EINVAL);
  a.GetReturnValue().Set(Number::New(iso, (double)st.st_size));
}

struct MapInfo {
  void* addr;
  size_t len;
};

void Unmap(void* data, size_t, void* info) {
  MapInfo* m = static_cast<MapInfo*>(info);
  munmap(m->addr, m->len);
  delete m;
  (void)data;
}

/** mapShared(fd, size, offset): MAP_SHARED read/write mapping as a SharedArrayBuffer (munmapped when the last view is collected). */
void MapShared(const FunctionCallbackInfo<Value>& a) {
  Isolate* iso = a.GetIsolate();
  int64_t fd, size, offset = 0;
  if (!IntArg(a, 0, &fd, "mapShared(fd, size, offset): fd must be a number")) return;
  if (!IntArg(a, 1, &size, "mapShared(fd, size, offset): size must be a byte count")) return;
  if (a.Length() > 2 && !IntArg(a, 2, &offset, "mapShared(fd, size, offset): offset must be a byte count")) return;
  if (size <= 0 || offset < 0) return ThrowErrno(iso, "mapShared: size must be > 0 and offset >= 0", EINVAL);
  void* p = mmap(nullptr, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, (int)fd, (off_t)offset);
  if (p == MAP_FAILED) return ThrowErrno(iso, "mmap", errno);
  MapInfo* info = new MapInfo{p, (size_t)size};
  std::unique_ptr<BackingStore> bs = SharedArrayBuffer::NewBackingStore(p, (size_t)size, Unmap, info);
  Local<SharedArrayBuffer> sab = SharedArrayBuffer::New(iso, std::shared_ptr<BackingStore>(std::move(bs)));
  a.GetReturnValue().Set(sab);
}

/** The address of word `index` of an Int32Array, or nullptr (after throwing). */
int32_t* WordAt(const FunctionCallbackInfo<Value>& a, const char* what) {
  Isolate* iso = a.GetIsolate();
  if (!a[0]->IsInt32Array()) {
    ThrowType(iso, what);
    return nullptr;
  }
  Local<Int32Array> arr = a[0].As<Int32Array>();
  int64_t index;
  if (!IntArg(a, 1, &index, what)) return nullptr;
  if (index < 0 || (size_t)index >= arr->Length()) {
    iso->ThrowException(v8::Exception::RangeError(Str(iso, "futex: index out of range")));
    return nullptr;
  }
  char* base = static_cast<char*>(arr->Buffer()->Data());
  return reinterpret_cast<int32_t*>(base + arr->ByteOffset()) + index;
}

/** futexWait(i32, index, expected, timeoutMs): 0 woken, 1 value was not `expected`, 2 timed out (EINTR counts as woken). */
void FutexWait(const FunctionCallbackInfo<Value>& a) {
  Isolate* iso = a.GetIsolate();
  int32_t* w = WordAt(a, "futexWait(i32, index, expected, timeoutMs): i32 must be an Int32Array");
  if (!w) return;
  int64_t expected;
  if (!IntArg(a, 2, &expected, "futexWait: expected must be a number")) return;
  double ms = a.Length() > 3 && a[3]->IsNumber() ? a[3].As<Number>()->Value() : -1;
  struct timespec ts, *tsp = nullptr;
  if (ms == ms && ms >= 0 && ms < 1e12) {
    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)((ms - (double)ts.tv_sec * 1000) * 1e6);
    if (ts.tv_nsec >= 1000000000L) ts.tv_nsec = 999999999L;
    tsp = &ts;
  }
  long r = syscall(SYS_futex, w, FUTEX_WAIT, (int32_t)expected, tsp, nullptr, 0);
  int result = 0;
  if (r != 0) {
    if (errno == EAGAIN) result = 1;
    else if (errno == ETIMEDOUT) result = 2;
    else if (errno == EINTR) result = 0;
    else return ThrowErrno(iso, "futex(FUTEX_WAIT)", errno);
  }
  a.GetReturnValue().Set(Integer::New(iso, result));
}

/** futexWake(i32, index, count): wakes up to `count` waiters (default all) of any process; returns how many. */
void FutexWake(const FunctionCallbackInfo<Value>& a) {
  Isolate* iso = a.GetIsolate();
  int32_t* w = WordAt(a, "futexWake(i32, index, count): i32 must be an Int32Array");
  if (!w) return;
  int64_t count = INT_MAX;
  if (a.Length() > 2 && a[2]->IsNumber()) count = (int64_t)a[2].As<Number>()->Value();
  if (count < 0 || count > INT_MAX) count = INT_MAX;
  long r = syscall(SYS_futex, w, FUTEX_WAKE, (int)count, nullptr, nullptr, 0);
  if (r < 0) return ThrowErrno(iso, "futex(FUTEX_WAKE)", errno);
  a.GetReturnValue().Set(Integer::New(iso, (int)r));
}

/** One waiter of futex_waitv(2) (linux/futex.h's struct futex_waitv, spelled out for older headers). */
struct Waitv {
  uint64_t val;
  uint64_t uaddr;
  uint32_t flags;
  uint32_t reserved;
};

/**
 * futexWaitEither(i32a, ia, va, i32b, ib, vb, timeoutMs): futex_waitv(2) (Linux 5.16) on two
 * words at once (non-private: any process mapping them), while i32a[ia] == va and i32b[ib] == vb,
 * at most timeoutMs (negative: forever). Returns 0 woken (either word), 1 a word was not its
 * value, 2 timed out; throws ENOSYS on a kernel without futex_waitv.
 */
void FutexWaitEither(const FunctionCallbackInfo<Value>& a) {
  Isolate* iso = a.GetIsolate();
  int32_t* wa = WordAt(a, "futexWaitEither(i32a, ia, va, i32b, ib, vb, timeoutMs): i32a must be an Int32Array");
  if (!wa) return;
  int64_t va, ib, vb;
  if (!IntArg(a, 2, &va, "futexWaitEither: va must be a number")) return;
  if (!a[3]->IsInt32Array()) return ThrowType(iso, "futexWaitEither: i32b must be an Int32Array");
  Local<Int32Array> arr = a[3].As<Int32Array>();
  if (!IntArg(a, 4, &ib, "futexWaitEither: ib must be a number") || !IntArg(a, 5, &vb, "futexWaitEither: vb must be a number")) return;
  if (ib < 0 || (size_t)ib >= arr->Length()) {
    iso->ThrowException(v8::Exception::RangeError(Str(iso, "futexWaitEither: ib out of range")));
    return;
  }
  int32_t* wb = reinterpret_cast<int32_t*>(static_cast<char*>(arr->Buffer()->Data()) + arr->ByteOffset()) + ib;
  double ms = a.Length() > 6 && a[6]->IsNumber() ? a[6].As<Number>()->Value() : -1;
  struct timespec ts, *tsp = nullptr;
  if (ms == ms && ms >= 0 && ms < 1e12) {
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t ns = (int64_t)ts.tv_nsec + (int64_t)((ms - (double)(int64_t)(ms / 1000) * 1000) * 1e6);
    ts.tv_sec += (time_t)(ms / 1000) + (time_t)(ns / 1000000000LL);
    ts.tv_nsec = (long)(ns % 1000000000LL);
    tsp = &ts;
  }
  Waitv w[2] = {{(uint64_t)(uint32_t)va, (uint64_t)(uintptr_t)wa, FUTEX2_SIZE_U32, 0}, {(uint64_t)(uint32_t)vb, (uint64_t)(uintptr_t)wb, FUTEX2_SIZE_U32, 0}};
  long r = syscall(SYS_futex_waitv, w, 2, 0, tsp, CLOCK_MONOTONIC);
  int result = 0;
  if (r < 0) {
    if (errno == EAGAIN) result = 1;
    else if (errno == ETIMEDOUT) result = 2;
    else if (errno == EINTR) result = 0;
    else return ThrowErrno(iso, "futex_waitv", errno);
  }
  a.GetReturnValue().Set(Integer::New(iso, result));
}

/** A liveness lock: the thread that holds it and the pipe that tells it to let go. */
struct LifeLock {
  void* page;
  int ready[2];
  int stop[2];
  pid_t tid;
  int err;
};

/** The liveness thread: locks the robust mutex at the start of the page, says so, sleeps until told to stop, unlocks. */
void* LifeLockThread(void* p) {
  LifeLock* l = static_cast<LifeLock*>(p);
  pthread_mutex_t* m = static_cast<pthread_mutex_t*>(l->page);
  l->tid = (pid_t)syscall(SYS_gettid);
  l->err = pthread_mutex_lock(m);
  char c = 1;
  if (write(l->ready[1], &c, 1) < 0) {
  }
  if (l->err != 0) return nullptr;
  while (read(l->stop[0], &c, 1) < 0 && errno == EINTR) {
  }
  pthread_mutex_unlock(m);
  munmap(l->page, 4096);
  close(l->stop[0]);
  delete l;
  return nullptr;
}

/**
 * lifeLockStart(fd): maps the first 4096 bytes of memfd `fd` (its own mapping), makes a robust,
 * process-shared pthread mutex at offset 0 and has a new thread of this process hold it until
 * lifeLockStop. When the process dies (SIGKILL included) the kernel marks the mutex's word
 * FUTEX_OWNER_DIED and wakes a waiter on it (the robust futex list, set_robust_list(2)): ring 0
 * learns of the death before the process's files are closed. Returns {tid, stopFd}.
 */
void LifeLockStart(const FunctionCallbackInfo<Value>& a) {
  Isolate* iso = a.GetIsolate();
  Local<Context> ctx = iso->GetCurrentContext();
  int64_t fd;
  if (!IntArg(a, 0, &fd, "lifeLockStart(fd): fd must be a number")) return;
  void* page = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, (int)fd, 0);
  if (page == MAP_FAILED) return ThrowErrno(iso, "mmap", errno);
  LifeLock* l = new LifeLock{page, {-1, -1}, {-1, -1}, 0, 0};
  auto fail = [&](const char* what, int e) {
    for (int f : {l->ready[0], l->ready[1], l->stop[0], l->stop[1]})
      if (f >= 0) close(f);
    munmap(page, 4096);
    delete l;
    ThrowErrno(iso, what, e);
  };
  if (pipe2(l->ready, O_CLOEXEC) != 0) return fail("pipe2", errno);
  if (pipe2(l->stop, O_CLOEXEC) != 0) return fail("pipe2", errno);
  pthread_mutexattr_t at;
  pthread_mutexattr_init(&at);
  pthread_mutexattr_setpshared(&at, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST);
  int e = pthread_mutex_init(static_cast<pthread_mutex_t*>(page), &at);
  pthread_mutexattr_destroy(&at);
  if (e != 0) return fail("pthread_mutex_init", e);
  pthread_attr_t ta;
  pthread_attr_init(&ta);
  pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&ta, 64 * 1024);
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);  // the new thread takes no signals (Node's stay on its own threads)
  pthread_t th;
  e = pthread_create(&th, &ta, LifeLockThread, l);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  pthread_attr_destroy(&ta);
  if (e != 0) return fail("pthread_create", e);
  char c;
  while (read(l->ready[0], &c, 1) < 0 && errno == EINTR) {
  }
  close(l->ready[0]);
  close(l->ready[1]);
  if (l->err != 0) {
    // The thread has returned without the lock; it touches nothing more.
    int err = l->err;
    close(l->stop[0]);
    close(l->stop[1]);
    munmap(page, 4096);
    delete l;
    return ThrowErrno(iso, "pthread_mutex_lock", err);
  }
  Local<Object> out = Object::New(iso);
  out->Set(ctx, Str(iso, "tid"), Integer::New(iso, l->tid)).Check();
  out->Set(ctx, Str(iso, "stopFd"), Integer::New(iso, l->stop[1])).Check();
  a.GetReturnValue().Set(out);
}

/** lifeLockStop(stopFd): tells the liveness thread of lifeLockStart to unlock and end (it unmaps its page). */
void LifeLockStop(const FunctionCallbackInfo<Value>& a) {
  int64_t fd;
  if (!IntArg(a, 0, &fd, "lifeLockStop(stopFd): stopFd must be a number")) return;
  char c = 0;
  if (write((int)fd, &c, 1) < 0) {
  }
  close((int)fd);
}

/** eventfdCreate(initval, nonblock): an eventfd (EFD_CLOEXEC, and EFD_NONBLOCK when asked). */
void EventfdCreate(const FunctionCallbackInfo<Value>& a) {
  Isolate* iso = a.GetIsolate();
  int64_t init = 0;
  if (a.Length() > 0 && !IntArg(a, 0, &init, "eventfdCreate(initval, nonblock): initval must be a number")) return;
  bool nb = a.Length() > 1 && a[1]->BooleanValue(iso);
  int fd = eventfd((unsigned)init, EFD_CLOEXEC | (nb ? EFD_NONBLOCK : 0));
  if (fd < 0) return ThrowErrno(iso, "eventfd", errno);
  a.GetReturnValue().Set(Integer::New(iso, fd));
}

/** eventfdWrite(fd, n): adds n to the counter. */
void EventfdWrite(const FunctionCallbackInfo<Value>& a) {
  Isolate* iso = a.GetIsolate();
  int64_t fd, n;
  if (!IntArg(a, 0, &fd, "eventfdWrite(fd, n): fd must be a number") || !IntArg(a, 1, &n, "eventfdWrite(fd, n): n must be a number")) return;
  uint64_t v = (uint64_t)n;
  if (write((int)fd, &v, 8) != 8) return ThrowErrno(iso, "write(eventfd)", errno);
}

/** eventfdRead(fd): the counter (and resets it); -1 when a non-blocking eventfd is 0 (EAGAIN). */
void EventfdRead(const FunctionCallbackInfo<Value>& a) {
  Isolate* iso = a.GetIsolate();
  int64_t fd;
  if (!IntArg(a, 0, &fd, "eventfdRead(fd): fd must be a number")) return;
  uint64_t v = 0;
  if (read((int)fd, &v, 8) != 8) {
    if (errno == EAGAIN) return a.GetReturnValue().Set(Integer::New(iso, -1));
    return ThrowErrno(iso, "read(eventfd)", errno);
  }
  a.GetReturnValue().Set(Number::New(iso, (double)v));
}

/** sendFds(sock, bytes, fds): one sendmsg (MSG_NOSIGNAL|MSG_DONTWAIT) with fds as SCM_RIGHTS; returns bytes sent, -1 on EAGAIN. */
void SendFds(const FunctionCallbackInfo<Value>& a) {
  Isolate* iso = a.GetIsolate();
  int64_t sock;
  if (!IntArg(a, 0, &sock, "sendFds(sock, bytes, fds): sock must be a number")) return;
  if (!a[1]->IsUint8Array()) return ThrowType(iso, "sendFds(sock, bytes, fds): bytes must be a Uint8Array");
  Local<Uint8Array> bytes = a[1].As<Uint8Array>();
  int fds[kMaxFds];
  int nfds = 0;
  if (a.Length() > 2 && a[2]->IsArray()) {
    Local<Array> arr = a[2].As<Array>();
    if (arr->Length() > (unsigned)kMaxFds) return ThrowType(iso, "sendFds: at most 16 fds");
    Local<Context> ctx = iso->GetCurrentContext();
    for (unsigned i = 0; i < arr->Length(); i++) {
      Local<Value> v = arr->Get(ctx, i).ToLocalChecked();
      if (!v->IsInt32()) return ThrowType(iso, "sendFds: fds must be integers");
      fds[nfds++] = v.As<v8::Int32>()->Value();
    }
  }
  char* base = static_cast<char*>(bytes->Buffer()->Data()) + bytes->ByteOffset();
  struct iovec iov = {base, bytes->ByteLength()};
  char cbuf[CMSG_SPACE(sizeof(int) * kMaxFds)];
  memset(cbuf, 0, sizeof cbuf);
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (nfds > 0) {
    msg.msg_control = cbuf;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
  }
  ssize_t n = sendmsg((int)sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return a.GetReturnValue().Set(Integer::New(iso, -1));
    return ThrowErrno(iso, "sendmsg", errno);
  }
  a.GetReturnValue().Set(Number::New(iso, (double)n));
}

/**
 * recvFds(sock, maxBytes): one recvmsg (MSG_DONTWAIT|MSG_CMSG_CLOEXEC). Returns null on EAGAIN,
 * { bytes: Uint8Array (empty at EOF), fds: number[], truncated: boolean } otherwise.
 */
void RecvFds(const FunctionCallbackInfo<Value>& a) {
  Isolate* iso = a.GetIsolate();
  Local<Context> ctx = iso->GetCurrentContext();
  int64_t sock, max;
  if (!IntArg(a, 0, &sock, "recvFds(sock, maxBytes): sock must be a number")) return;
  if (!IntArg(a, 1, &max, "recvFds(sock, maxBytes): maxBytes must be a number") || max <= 0 || max > (1 << 24)) return;
  std::unique_ptr<BackingStore> store = v8::ArrayBuffer::NewBackingStore(iso, (size_t)max);
  struct iovec iov = {store->Data(), (size_t)max};
  char cbuf[CMSG_SPACE(sizeof(int) * kMaxFds)];
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof cbuf;
  ssize_t n = recvmsg((int)sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return a.GetReturnValue().SetNull();
    return ThrowErrno(iso, "recvmsg", errno);
  }
  Local<Array> fds = Array::New(iso);
  uint32_t k = 0;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    int* p = reinterpret_cast<int*>(CMSG_DATA(c));
    for (size_t i = 0; i < count; i++) fds->Set(ctx, k++, Integer::New(iso, p[i])).Check();
  }
  std::shared_ptr<BackingStore> shared(std::move(store));
  Local<v8::ArrayBuffer> ab = v8::ArrayBuffer::New(iso, shared);
  Local<Object> out = Object::New(iso);
  out->Set(ctx, Str(iso, "bytes"), Uint8Array::New(ab, 0, (size_t)n)).Check();
  out->Set(ctx, Str(iso, "fds"), fds).Check();
  out->Set(ctx, Str(iso, "truncated"), v8::Boolean::New(iso, (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) != 0)).Check();
  a.GetReturnValue().Set(out);
}

/** peerCred(sock): { pid, uid, gid } of the process at the other end (SO_PEERCRED, as of connect()). */
void PeerCred(const FunctionCallbackInfo<Value>& a) {
  Isolate* iso = a.GetIsolate();
  Local<Context> ctx = iso->GetCurrentContext();
  int64_t sock;
  if (!IntArg(a, 0, &sock, "peerCred(sock): sock must be a number")) return;
  struct ucred cr;
  socklen_t len = sizeof cr;
  if (getsockopt((int)sock, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0) return ThrowErrno(iso, "getsockopt(SO_PEERCRED)", errno);
  Local<Object> out = Object::New(iso);
  out->Set(ctx, Str(iso, "pid"), Integer::New(iso, cr.pid)).Check();
  out->Set(ctx, Str(iso, "uid"), Integer::NewFromUnsigned(iso, cr.uid)).Check();
  out->Set(ctx, Str(iso, "gid"), Integer::NewFromUnsigned(iso, cr.gid)).Check();
  a.GetReturnValue().Set(out);
}

/** pollFd(fd, events, timeoutMs): poll(2) one fd; returns revents (0 on timeout). events: 1 POLLIN, 4 POLLOUT. */
void PollFd(const FunctionCallbackInfo<Value>& a) {
  Isolate* iso = a.GetIsolate();
  int64_t fd, events, ms;
  if (!IntArg(a, 0, &fd, "pollFd(fd, events, timeoutMs): fd must be a number") || !IntArg(a, 1, &events, "pollFd: events must be a number") ||
      !IntArg(a, 2, &ms, "pollFd: timeoutMs must be a number"))
    return;
  struct pollfd p = {(int)fd, (short)events, 0};
  int r = poll(&p, 1, (int)(ms > INT_MAX ? INT_MAX : ms));
  if (r < 0) {
    if (errno == EINTR) return a.GetReturnValue().Set(Integer::New(iso, 0));
    return ThrowErrno(iso, "poll", errno);
  }
  a.GetReturnValue().Set(Integer::New(iso, r == 0 ? 0 : p.revents));
}

/** connectUnix(path): a blocking-connected, then non-blocking, SOCK_CLOEXEC unix stream socket fd. */
void ConnectUnix(const FunctionCallbackInfo<Value>& a) {
  Isolate* iso = a.GetIsolate();
  if (!a[0]->IsString()) return ThrowType(iso, "connectUnix(path): path must be a string");
  String::Utf8Value path(iso, a[0]);
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (strlen(*path) >= sizeof sa.sun_path) return ThrowErrno(iso, "connect: socket path too long", ENAMETOOLONG);
  strcpy(sa.sun_path, *path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ThrowErrno(iso, "socket", errno);
  if (connect(fd, reinterpret_cast<struct sockaddr*>(&sa), sizeof sa) != 0) {
    int e = errno;
    close(fd);
    return ThrowErrno(iso, "connect", e);
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  a.GetReturnValue().Set(Integer::New(iso, fd));
}

/** closeFd(fd): close(2); errors other than EBADF are ignored (the fd is gone either way). */
void CloseFd(const FunctionCallbackInfo<Value>& a) {
  Isolate* iso = a.GetIsolate();
  int64_t fd;
  if (!IntArg(a, 0, &fd, "closeFd(fd): fd must be a number")) return;
  if (close((int)fd) != 0 && errno == EBADF) return ThrowErrno(iso, "close", EBADF);
}

/** shutdownFd(fd): shutdown(SHUT_RDWR), so the peer sees EOF even while other fds of the socket live. */
void ShutdownFd(const FunctionCallbackInfo<Value>& a) {
  int64_t fd;
  if (!IntArg(a, 0, &fd, "shutdownFd(fd): fd must be a number")) return;
  shutdown((int)fd, SHUT_RDWR);
}

}  // namespace

NODE_MODULE_INIT(/* exports, module, context */) {
  Isolate* iso = context->GetIsolate();
  auto set = [&](const char* name, v8::FunctionCallback fn) {
    exports->Set(context, Str(iso, name), v8::FunctionTemplate::New(iso, fn)->GetFunction(context).ToLocalChecked()).Check();
  };
  set("memfdCreate", MemfdCreate);
  set("getSeals", GetSeals);
  set("fdSize", FdSize);
  set("mapShared", MapShared);
  set("futexWait", FutexWait);
  set("futexWake", FutexWake);
  set("futexWaitEither", FutexWaitEither);
  set("lifeLockStart", LifeLockStart);
  set("lifeLockStop", LifeLockStop);
  set("eventfdCreate", EventfdCreate);
  set("eventfdWrite", EventfdWrite);
  set("eventfdRead", EventfdRead);
  set("sendFds", SendFds);
  set("recvFds", RecvFds);
  set("peerCred", PeerCred);
  set("pollFd", PollFd);
  set("connectUnix", ConnectUnix);
  set("closeFd", CloseFd);
  set("shutdownFd", ShutdownFd);
  (void)module;
}
