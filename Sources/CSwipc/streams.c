#define _GNU_SOURCE
#include "CSwipc.h"
#include <fcntl.h>
#include <unistd.h>

_Static_assert(SWIPC_O_PATH == O_PATH, "SWIPC_O_PATH is Linux's O_PATH");

long swipc_tee(int from, int to, unsigned long length, int nonblocking) {
  return (long)tee(from, to, length, nonblocking ? SPLICE_F_NONBLOCK : 0);
}

int swipc_pipe_capacity(int fd) { return fcntl(fd, F_GETPIPE_SZ); }

int swipc_pipe_nonblocking(int fds[2]) { return pipe2(fds, O_CLOEXEC | O_NONBLOCK); }

int swipc_set_pipe_capacity(int fd, int bytes) { return fcntl(fd, F_SETPIPE_SZ, bytes); }
