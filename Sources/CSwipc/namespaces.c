#define _GNU_SOURCE
#include "CSwipc.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>

int swipc_setns_ipc(int fd) { return setns(fd, CLONE_NEWIPC); }

int swipc_open_mqueue_instance(void) {
  // fsopen takes the IPC namespace of the calling thread: the instance is that namespace's.
  int fs = (int)syscall(SYS_fsopen, "mqueue", FSOPEN_CLOEXEC);
  if (fs < 0) return -1;
  if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
    int e = errno;
    close(fs);
    errno = e;
    return -1;
  }
  int mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
                         MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
  int e = errno;
  close(fs);
  if (mnt < 0) {
    errno = e;
    return -1;
  }
  // fsmount gives an O_PATH descriptor; a readable one lists the directory, and keeps the
  // instance alive once the mount's own descriptor is closed.
  int dir = openat(mnt, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  e = errno;
  if (dir < 0) {
    close(mnt);
  } else {
    swipc_close_later(mnt);
  }
  errno = e;
  return dir;
}

int swipc_open_beneath_root(int root, const char *path, int flags) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = (unsigned long long)(flags | O_CLOEXEC | O_NOCTTY);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return (int)syscall(SYS_openat2, root, path, &how, sizeof how);
}

int swipc_namespace_type(int fd) { return ioctl(fd, NS_GET_NSTYPE); }

int swipc_namespace_owner(int fd) { return ioctl(fd, NS_GET_USERNS); }

// Descriptors waiting for the closing thread: a short list, as each close takes it a grace
// period and one is handed over per namespace read; when it is full, the caller closes.
enum { closing_room = 64 };
static pthread_mutex_t closing_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t closing_ready = PTHREAD_COND_INITIALIZER;
static int closing[closing_room];
static int closing_count;
// 0: no thread yet; 1: running; -1: it could not be started.
static int closing_thread;
// Only a descriptor numbered below this waits: descriptors are numbered lowest first, so those
// waiting never take more than a quarter of the descriptor limit, and a listing that fits in the
// rest with every close made at once still fits (`ulimit -n` set low, many namespaces).
static int closing_below;

static void *closing_loop(void *unused) {
  (void)unused;
  for (;;) {
    pthread_mutex_lock(&closing_lock);
    while (closing_count == 0) pthread_cond_wait(&closing_ready, &closing_lock);
    int fd = closing[--closing_count];
    pthread_mutex_unlock(&closing_lock);
    close(fd);
  }
  return NULL;
}

void swipc_start_closing_thread(void) {
  pthread_mutex_lock(&closing_lock);
  if (closing_thread == 0) {
    // Started with every signal blocked, so that none is ever delivered to it: interrupts stay
    // with the threads whose calls they must end.
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &previous);
    pthread_t thread;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    struct rlimit limit;
    closing_below = getrlimit(RLIMIT_NOFILE, &limit) != 0 ? 0
      : limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur / 4 > INT_MAX ? INT_MAX : (int)(limit.rlim_cur / 4);
    closing_thread = pthread_create(&thread, &attributes, closing_loop, NULL) == 0 ? 1 : -1;
    pthread_attr_destroy(&attributes);
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
  }
  pthread_mutex_unlock(&closing_lock);
}

void swipc_close_later(int fd) {
  pthread_mutex_lock(&closing_lock);
  if (closing_thread != 1 || closing_count == closing_room || fd >= closing_below) {
    pthread_mutex_unlock(&closing_lock);
    close(fd);
    return;
  }
  closing[closing_count++] = fd;
  pthread_cond_signal(&closing_ready);
  pthread_mutex_unlock(&closing_lock);
}
