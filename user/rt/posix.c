/*
 * The POSIX corner that Debian's static libsodium (and later BearSSL)
 * reaches for, mapped onto capabilities. Nothing here opens files or
 * devices: there are none. Randomness comes from the CPU's RDRAND and fails
 * closed (ENOSYS) where the CPU has none; anonymous mmap is VirtualMemory.
 */
#include "capos.h"
#include "cpu/rdrand.h"

static __thread int errno_value;
int *__errno_location(void) { return &errno_value; }

#define EPERM 1
#define ENOENT 2
#define EINTR 4
#define EBADF 9
#define ENOMEM 12
#define EINVAL 22
#define ENOSYS 38

__attribute__((noreturn)) void abort(void)
{
    printf("%s: abort()\n", rt_capset->args[0] ? rt_capset->args : "program");
    exit(134);
}

int raise(int sig)
{
    abort();
}

__attribute__((noreturn)) void __stack_chk_fail(void)
{
    printf("stack smashing detected: the canary at %%fs:0x28 changed\n");
    exit(134);
}

__attribute__((noreturn)) void __assert_fail(const char *expr, const char *file, unsigned line, const char *fn)
{
    printf("assertion failed: %s (%s:%u, %s)\n", expr, file, line, fn);
    abort();
}

void __explicit_bzero_chk(void *p, size_t len, size_t dstlen)
{
    if (len > dstlen)
        abort();
    memset(p, 0, len);
    __asm__ volatile("" : : "r"(p) : "memory");   /* the zeroing is not optimised away */
}

/* _FORTIFY_SOURCE's checked copies (Debian's static BearSSL calls them) */
void *__memcpy_chk(void *d, const void *s, size_t len, size_t dstlen)
{
    if (len > dstlen)
        abort();
    return memcpy(d, s, len);
}

void *__memmove_chk(void *d, const void *s, size_t len, size_t dstlen)
{
    if (len > dstlen)
        abort();
    return memmove(d, s, len);
}

void *__memset_chk(void *d, int c, size_t len, size_t dstlen)
{
    if (len > dstlen)
        abort();
    return memset(d, c, len);
}

long getrandom(void *buf, size_t len, unsigned flags)
{
    if (!rdrand_fill(buf, len)) {
        errno_value = ENOSYS;                      /* no entropy: fail closed */
        return -1;
    }
    return (long)len;
}

long sysconf(int name)
{
    return name == 30 /* _SC_PAGESIZE */ ? 4096 : -1;
}

/* anonymous memory only */
#define MAP_FAILED ((void *)-1)
#define MAP_ANONYMOUS 0x20
#define PROT_WRITE 2
#define PROT_EXEC 4

void *mmap(void *addr, size_t len, int prot, int flags, int fd, long off)
{
    if (!(flags & MAP_ANONYMOUS) || len == 0 || rt_memory == ~0u) {
        errno_value = ENOMEM;
        return MAP_FAILED;
    }
    RT_BUFS(b, 128, 64);
    capnp_client cl = RT_CLIENT(rt_memory);
    capnp_call call;
    capos_VirtualMemory_map_Results_reader r;
    uint32_t p = (prot & PROT_WRITE ? 1u : 0u) | (prot & PROT_EXEC ? 2u : 0u);
    if (p == 3 || capos_VirtualMemory_map(&cl, &b, &call, 0, len, p, &r)) {
        errno_value = ENOMEM;
        return MAP_FAILED;
    }
    return (void *)capos_VirtualMemory_map_Results_get_addr(r);
}

int munmap(void *addr, size_t len)
{
    RT_BUFS(b, 128, 64);
    capnp_client cl = RT_CLIENT(rt_memory);
    capnp_call call;
    capos_VirtualMemory_unmap_Results_reader r;
    return capos_VirtualMemory_unmap(&cl, &b, &call, (uint64_t)addr, (len + 4095) & ~(size_t)4095, &r) ? -1 : 0;
}

/* Guard pages and locking are refinements the kernel does not offer yet:
 * accept them as no-ops rather than fail the allocation they protect. */
int mprotect(void *addr, size_t len, int prot) { return 0; }
int madvise(void *addr, size_t len, int advice) { return 0; }
int mlock(const void *addr, size_t len) { return 0; }
int munlock(const void *addr, size_t len) { return 0; }

/* no files */
int open(const char *path, int flags, ...) { errno_value = ENOENT; return -1; }
long read(int fd, void *buf, size_t n) { errno_value = EBADF; return -1; }
int close(int fd) { errno_value = EBADF; return -1; }
int fstat(int fd, void *st) { errno_value = EBADF; return -1; }
int fcntl(int fd, int cmd, ...) { errno_value = EBADF; return -1; }
int poll(void *fds, unsigned long n, int timeout) { errno_value = EINVAL; return -1; }

/* libsodium guards its one-time initialisation with a mutex */
int pthread_mutex_lock(void *m) { rt_lock((volatile int *)m); return 0; }
int pthread_mutex_unlock(void *m) { rt_unlock((volatile int *)m); return 0; }
