#define _GNU_SOURCE
#include "CSwipc.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
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
  // fsmount gives an O_PATH descriptor; a readable one lists the directory.
  int dir = openat(mnt, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  e = errno;
  close(mnt);
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
