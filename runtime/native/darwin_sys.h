/* The few libSystem declarations shm.c needs, for building the darwin prebuilds without the macOS
 * SDK (runtime/native/prebuild.mjs). The values are macOS's ABI (sys/mman.h, sys/fcntl.h, errno.h,
 * unistd.h), fixed since 10.0 because every existing binary depends on them. */
#ifndef FORKSCOPE_DARWIN_SYS_H
#define FORKSCOPE_DARWIN_SYS_H
#include <stddef.h>
#include <stdint.h>
#define PROT_READ 0x01
#define PROT_WRITE 0x02
#define MAP_SHARED 0x0001
#define MAP_FIXED 0x0010
#define MAP_FAILED ((void*)-1)
#define LOCK_SH 0x01
#define LOCK_EX 0x02
#define LOCK_NB 0x04
#define LOCK_UN 0x08
#define EINTR 4
#define ENOMEM 12
#define EWOULDBLOCK 35
#define _SC_PAGESIZE 29
extern int* __error(void);
#define errno (*__error())
void* mmap(void* addr, size_t len, int prot, int flags, int fd, int64_t offset);
int flock(int fd, int operation);
char* strerror(int errnum);
long sysconf(int name);
#endif
