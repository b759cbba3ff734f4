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

int swipc_semctl_getall(int semid, unsigned short *values) {
  union swipc_semun arg = {.array = values};
  return semctl(semid, 0, GETALL, arg);
}

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
  if (sig == SIGINT || sig == SIGTERM) swipc_pending_interrupt = sig;
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
  /* A SIGINT ignored on entry (a background job, nohup) stays ignored, as shells expect. */
  struct sigaction old;
  if (sigaction(SIGINT, NULL, &old) != 0 || old.sa_handler != SIG_IGN) sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGALRM, &sa, NULL);
  /* A parent may hand down a mask with these blocked (threads of a runtime often block every
   * signal, and children inherit it); the timeout cannot work without SIGALRM. */
  sigset_t wanted;
  sigemptyset(&wanted);
  sigaddset(&wanted, SIGINT);
  sigaddset(&wanted, SIGTERM);
  sigaddset(&wanted, SIGALRM);
  sigprocmask(SIG_UNBLOCK, &wanted, NULL);
}

int swipc_interrupt_signal(void) { return swipc_pending_interrupt; }

int swipc_wait_for_interrupt(void) {
  swipc_install_wait_handlers();
  /* Block the two signals while checking, and let sigsuspend unblock them atomically: a signal
   * that arrives between the check and the sleep is not lost. */
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  sigprocmask(SIG_BLOCK, &block, &old);
  sigset_t during = old;
  sigdelset(&during, SIGINT);
  sigdelset(&during, SIGTERM);
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
