#define _GNU_SOURCE
#include "CSwipc.h"
#include <nss.h>
#include <signal.h>
#include <sys/auxv.h>
#include <string.h>
#include <sys/time.h>

union swipc_semun {
  int val;
  struct semid_ds *buf;
  unsigned short *array;
};

int swipc_semctl_stat(int semid, struct semid_ds *buf) {
  union swipc_semun arg = {.buf = buf};
  return semctl(semid, 0, IPC_STAT, arg);
}

int swipc_semctl_set(int semid, const struct semid_ds *buf) {
  union swipc_semun arg = {.buf = (struct semid_ds *)buf};
  return semctl(semid, 0, IPC_SET, arg);
}

int swipc_semctl_stat_any(int index, struct semid_ds *buf) {
  union swipc_semun arg = {.buf = buf};
  return semctl(index, 0, SEM_STAT_ANY, arg);
}

int swipc_msg_stat_any(void) { return MSG_STAT_ANY; }
int swipc_shm_stat_any(void) { return SHM_STAT_ANY; }

int swipc_semctl_rmid(int semid) { return semctl(semid, 0, IPC_RMID); }

int swipc_semctl_cmd(int semid, int semnum, int cmd) { return semctl(semid, semnum, cmd); }

int swipc_semctl_setall(int semid, const unsigned short *values) {
  union swipc_semun arg = {.array = (unsigned short *)values};
  return semctl(semid, 0, SETALL, arg);
}

int swipc_semctl_setval(int semid, int semnum, int value) {
  union swipc_semun arg = {.val = value};
  return semctl(semid, semnum, SETVAL, arg);
}

int swipc_semtimedop(int semid, struct sembuf *ops, size_t nops, const struct timespec *timeout) {
  return semtimedop(semid, ops, nops, timeout);
}

mqd_t swipc_mq_open(const char *name, int oflag, mode_t mode, const struct mq_attr *attr) {
  if (oflag & O_CREAT) return mq_open(name, oflag, mode, (struct mq_attr *)attr);
  return mq_open(name, oflag);
}

key_t swipc_ipc_perm_key(const struct ipc_perm *perm) { return perm->__key; }

void swipc_ipc_usage(struct swipc_ipc_usage *u) {
  struct msginfo mi;
  struct shm_info si;
  struct seminfo sei;
  union swipc_semun arg = {.buf = (struct semid_ds *)&sei};
  if (msgctl(0, MSG_INFO, (struct msqid_ds *)&mi) < 0) {
    u->msg_queues = u->msg_headers = u->msg_bytes = -1;
  } else {
    u->msg_queues = mi.msgpool;   /* queues in use */
    u->msg_headers = mi.msgmap;   /* messages queued */
    u->msg_bytes = mi.msgtql;     /* bytes queued */
  }
  if (shmctl(0, SHM_INFO, (struct shmid_ds *)&si) < 0) {
    u->shm_segments = u->shm_pages = u->shm_rss_pages = u->shm_swap_pages = -1;
  } else {
    u->shm_segments = si.used_ids;
    u->shm_pages = (long)si.shm_tot;
    u->shm_rss_pages = (long)si.shm_rss;
    u->shm_swap_pages = (long)si.shm_swp;
  }
  if (semctl(0, 0, SEM_INFO, arg) < 0) {
    u->sem_sets = u->sem_semaphores = -1;
  } else {
    u->sem_sets = sei.semusz;       /* sets in use */
    u->sem_semaphores = sei.semaem; /* semaphores in use */
  }
}


sem_t *swipc_sem_open(const char *name, int oflag, mode_t mode, unsigned int value) {
  sem_t *s = (oflag & O_CREAT) ? sem_open(name, oflag, mode, value) : sem_open(name, oflag);
  return s == SEM_FAILED ? NULL : s;
}

int swipc_msg_max_index(void) {
  struct msginfo mi;
  return msgctl(0, MSG_INFO, (struct msqid_ds *)&mi);
}

int swipc_sem_max_index(void) {
  struct seminfo si;
  union swipc_semun arg = {.buf = (struct semid_ds *)&si};
  return semctl(0, 0, SEM_INFO, arg);
}

int swipc_shm_max_index(void) {
  struct shminfo si;
  return shmctl(0, IPC_INFO, (struct shmid_ds *)&si);
}

static volatile sig_atomic_t swipc_pending_interrupt = 0;

static volatile sig_atomic_t swipc_pending_child = 0;

static void swipc_record_signal(int sig) {
  if (sig == SIGCHLD) swipc_pending_child = 1;
  if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT) swipc_pending_interrupt = sig;
  /* SIGALRM needs no record: its only job is to make a blocking call return EINTR. */
}

void swipc_install_wait_handlers(void) {
  static int installed = 0;
  if (installed) return;
  installed = 1;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = swipc_record_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0; /* no SA_RESTART */
  /* SIGINT and SIGQUIT ignored on entry (a background job of a script) and SIGHUP ignored on
   * entry (nohup) stay ignored, as shells expect. */
  const int keep_ignored[] = {SIGINT, SIGQUIT, SIGHUP};
  for (unsigned i = 0; i < sizeof keep_ignored / sizeof keep_ignored[0]; i++) {
    struct sigaction old;
    if (sigaction(keep_ignored[i], NULL, &old) != 0 || old.sa_handler != SIG_IGN) sigaction(keep_ignored[i], &sa, NULL);
  }
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGALRM, &sa, NULL);
  /* A parent may hand down a mask with these blocked (threads of a runtime often block every
   * signal, and children inherit it); the timeout cannot work without SIGALRM. */
  sigset_t wanted;
  swipc_interrupt_signals(&wanted);
  sigaddset(&wanted, SIGALRM);
  sigprocmask(SIG_UNBLOCK, &wanted, NULL);
}

void swipc_interrupt_signals(sigset_t *set) {
  sigemptyset(set);
  sigaddset(set, SIGINT);
  sigaddset(set, SIGTERM);
  sigaddset(set, SIGHUP);
  sigaddset(set, SIGQUIT);
}

int swipc_prepare_exec(void) {
  sigset_t block, old;
  swipc_interrupt_signals(&block);
  sigprocmask(SIG_BLOCK, &block, &old);
  if (swipc_pending_interrupt != 0) {
    sigprocmask(SIG_SETMASK, &old, NULL);
    return swipc_pending_interrupt;
  }
  /* From here a signal is no longer recorded but acts as it will on COMMAND: one that arrived
   * while blocked is delivered with its default action when the mask is restored. */
  const int handled[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
  for (unsigned i = 0; i < sizeof handled / sizeof handled[0]; i++) {
    struct sigaction current;
    if (sigaction(handled[i], NULL, &current) == 0 && current.sa_handler == swipc_record_signal) signal(handled[i], SIG_DFL);
  }
  sigprocmask(SIG_SETMASK, &old, NULL);
  return 0;
}

int swipc_interrupt_signal(void) { return swipc_pending_interrupt; }

int swipc_wait_for_interrupt(void) {
  swipc_install_wait_handlers();
  /* Block the signals while checking, and let sigsuspend unblock them atomically: a signal
   * that arrives between the check and the sleep is not lost. */
  sigset_t block, old;
  swipc_interrupt_signals(&block);
  sigprocmask(SIG_BLOCK, &block, &old);
  sigset_t during = old;
  sigdelset(&during, SIGINT);
  sigdelset(&during, SIGTERM);
  sigdelset(&during, SIGHUP);
  sigdelset(&during, SIGQUIT);
  while (swipc_pending_interrupt == 0) sigsuspend(&during);
  sigprocmask(SIG_SETMASK, &old, NULL);
  return swipc_pending_interrupt;
}

void swipc_set_alarm(long first_us, long every_us) {
  struct itimerval t;
  t.it_value.tv_sec = first_us / 1000000;
  t.it_value.tv_usec = first_us % 1000000;
  t.it_interval.tv_sec = every_us / 1000000;
  t.it_interval.tv_usec = every_us % 1000000;
  setitimer(ITIMER_REAL, &t, NULL);
}

int swipc_accept(int fd) { return accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK); }

int swipc_peer_credentials(int fd, int *pid, unsigned *uid, unsigned *gid) {
  struct ucred c;
  socklen_t length = sizeof c;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c, &length) != 0) return -1;
  *pid = c.pid;
  *uid = c.uid;
  *gid = c.gid;
  return 0;
}

long swipc_receive_datagram(int fd, void *buffer, unsigned long capacity, struct sockaddr_storage *from,
                            socklen_t *from_length, int *pid, unsigned *uid, unsigned *gid) {
  union {
    struct cmsghdr header;
    char space[CMSG_SPACE(sizeof(struct ucred))];
  } control;
  struct iovec iov = {.iov_base = buffer, .iov_len = capacity};
  struct msghdr message = {0};
  message.msg_name = from;
  message.msg_namelen = sizeof *from;
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = &control;
  message.msg_controllen = sizeof control;
  ssize_t n = recvmsg(fd, &message, 0);
  if (n < 0) return -1;
  *from_length = message.msg_namelen;
  *pid = -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&message); c; c = CMSG_NXTHDR(&message, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
      struct ucred cred;
      memcpy(&cred, CMSG_DATA(c), sizeof cred);
      *pid = cred.pid;
      *uid = cred.uid;
      *gid = cred.gid;
    }
  }
  return (long)n;
}

#include <sched.h>
#include <sys/prctl.h>

void swipc_install_bench_handlers(int orphan_signal) {
  swipc_install_wait_handlers();
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = swipc_record_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_NOCLDSTOP; /* no SA_RESTART */
  sigaction(SIGCHLD, &sa, NULL);
  if (orphan_signal) prctl(PR_SET_PDEATHSIG, SIGTERM);
}

int swipc_child_exited(void) { return swipc_pending_child; }

void swipc_reset_child_exited(void) { swipc_pending_child = 0; }

int swipc_pin_to_cpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof set, &set);
}

int swipc_usable_cpus(int *cpus, int capacity) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
  int n = 0;
  for (int i = 0; i < CPU_SETSIZE && n < capacity; i++)
    if (CPU_ISSET(i, &set)) cpus[n++] = i;
  return n;
}

int swipc_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int swipc_restrict_nss_if_static(void) {
  // A static executable has no program interpreter, so the kernel passes no AT_BASE.
  if (getauxval(AT_BASE) != 0) return 0;
  __nss_configure_lookup("passwd", "files");
  __nss_configure_lookup("group", "files");
  return 1;
}

/* POSIX semaphores changed by more than one unit at once. glibc's sem_t on 64-bit targets
 * (nptl/semaphoreP.h, struct new_sem with __HAVE_64B_ATOMICS) is one 64-bit word with the value
 * in its low 32 bits and the number of waiters in its high 32 bits, then a futex flag. sem_post and sem_wait change that word only by compare-and-swap, so a compare-and-swap
 * here is atomic with respect to every other process's sem_wait and sem_post; sem_post wakes a
 * waiter with FUTEX_WAKE on the 32-bit value word when the waiter count is not 0. */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

struct swipc_glibc_sem {
  uint64_t data;
  int private_flag;
  int pad;
};

#define SWIPC_SEM_VALUE_MASK 0xffffffffull
#define SWIPC_SEM_WAITER ((uint64_t)1 << 32)

static uint64_t *swipc_sem_data(sem_t *s) { return &((struct swipc_glibc_sem *)(void *)s)->data; }

static unsigned *swipc_sem_value_word(sem_t *s) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return (unsigned *)(void *)swipc_sem_data(s);
#else
  return (unsigned *)(void *)swipc_sem_data(s) + 1;
#endif
}

static void swipc_sem_wake(sem_t *s, int count) {
  syscall(SYS_futex, swipc_sem_value_word(s), FUTEX_WAKE, count, NULL, NULL, 0);
}

/* glibc keeps, in its futex flag, the flag to clear for a process-shared semaphore. */
#define SWIPC_SEM_SHARED FUTEX_PRIVATE_FLAG

static int swipc_psem_library_layout(void) {
  static int known = -1;
  if (known >= 0) return known;
  known = 0;
  if (sizeof(sem_t) < sizeof(struct swipc_glibc_sem) || _Alignof(sem_t) < _Alignof(uint64_t)) return 0;
  sem_t probe;
  if (sem_init(&probe, 1, 5) != 0) return 0;
  uint64_t *data = swipc_sem_data(&probe);
  int ok = *data == 5 && ((struct swipc_glibc_sem *)(void *)&probe)->private_flag == SWIPC_SEM_SHARED;
  ok = ok && sem_post(&probe) == 0 && *data == 6;
  ok = ok && sem_trywait(&probe) == 0 && *data == 5;
  /* The other direction: a word written here (value 3, one waiter) is what sem_getvalue reads. */
  *data = SWIPC_SEM_WAITER | 3;
  int value = -1;
  ok = ok && sem_getvalue(&probe, &value) == 0 && value == 3;
  *data = 0;
  sem_destroy(&probe);
  known = ok;
  return known;
}

int swipc_psem_layout_known(sem_t *s) {
  return swipc_psem_library_layout() && ((struct swipc_glibc_sem *)(void *)s)->private_flag == SWIPC_SEM_SHARED;
}

int swipc_psem_take(sem_t *s, unsigned n) {
  uint64_t *data = swipc_sem_data(s);
  uint64_t d = __atomic_load_n(data, __ATOMIC_RELAXED);
  do {
    if ((d & SWIPC_SEM_VALUE_MASK) < n) {
      errno = EAGAIN;
      return -1;
    }
  } while (!__atomic_compare_exchange_n(data, &d, d - n, 1, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED));
  return 0;
}

int swipc_psem_give(sem_t *s, unsigned n) {
  uint64_t *data = swipc_sem_data(s);
  uint64_t d = __atomic_load_n(data, __ATOMIC_RELAXED);
  do {
    if (n > SEM_VALUE_MAX || (d & SWIPC_SEM_VALUE_MASK) > (uint64_t)(SEM_VALUE_MAX - n)) {
      errno = EOVERFLOW;
      return -1;
    }
  } while (!__atomic_compare_exchange_n(data, &d, d + n, 1, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
  /* Every waiter, not one: a waiter of swipc may need more than one unit, and a glibc waiter woken
   * with nothing to take goes back to sleep. */
  if ((d >> 32) > 0) swipc_sem_wake(s, INT_MAX);
  return 0;
}

int swipc_psem_set(sem_t *s, unsigned value) {
  if (value > SEM_VALUE_MAX) {
    errno = EINVAL;
    return -1;
  }
  uint64_t *data = swipc_sem_data(s);
  uint64_t d = __atomic_load_n(data, __ATOMIC_RELAXED);
  while (!__atomic_compare_exchange_n(data, &d, (d & ~SWIPC_SEM_VALUE_MASK) | value, 1, __ATOMIC_RELEASE,
                                      __ATOMIC_RELAXED)) {
  }
  if ((d >> 32) > 0 && value > 0) swipc_sem_wake(s, INT_MAX);
  return 0;
}

void swipc_psem_add_waiter(sem_t *s) { __atomic_fetch_add(swipc_sem_data(s), SWIPC_SEM_WAITER, __ATOMIC_RELAXED); }

void swipc_psem_remove_waiter(sem_t *s) { __atomic_fetch_sub(swipc_sem_data(s), SWIPC_SEM_WAITER, __ATOMIC_RELAXED); }

/* A sem_post wakes one waiter; when that is a waiter here that needs more units than there are,
 * the unit stays and a glibc waiter may sleep on. So a waiter that sees units it cannot use while
 * others wait passes a wake on, at most once per quarter second (two such waiters would otherwise
 * wake each other without end): a glibc waiter waits at most that long for a unit that is there. */
static void swipc_psem_pass_on(sem_t *s) {
  static int64_t last_us = INT64_MIN / 2;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  int64_t us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
  if (us - last_us < 250000) return;
  last_us = us;
  swipc_sem_wake(s, 1);
}

int swipc_psem_wait_registered(sem_t *s, unsigned n, const struct timespec *timeout) {
  uint64_t *data = swipc_sem_data(s);
  for (;;) {
    uint64_t d = __atomic_load_n(data, __ATOMIC_ACQUIRE);
    unsigned value = (unsigned)(d & SWIPC_SEM_VALUE_MASK);
    if (value >= n) {
      if (__atomic_compare_exchange_n(data, &d, d - n, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) return 0;
      continue;
    }
    if (value > 0 && (d >> 32) > 1) swipc_psem_pass_on(s);
    if (syscall(SYS_futex, swipc_sem_value_word(s), FUTEX_WAIT, value, timeout, NULL, 0) == 0) continue;
    if (errno == EAGAIN) continue; /* the value changed before the sleep: look again */
    return -1;                     /* EINTR, ETIMEDOUT */
  }
}

int swipc_same_files(int a, int b) {
  long rc = syscall(SYS_kcmp, (pid_t)a, (pid_t)b, 2 /* KCMP_FILES */, 0UL, 0UL);
  return rc == 0 ? 0 : 1;
}

long swipc_getdents64(int fd, void *buffer, unsigned long size) {
  return syscall(SYS_getdents64, fd, buffer, size);
}

int swipc_futex_wait(volatile unsigned *p, unsigned expected) {
  return (int)syscall(SYS_futex, p, FUTEX_WAIT, expected, NULL, NULL, 0);
}

void swipc_futex_wake(volatile unsigned *p) { syscall(SYS_futex, p, FUTEX_WAKE, 1, NULL, NULL, 0); }
