/* The C reference of `swipc bench`: the same protocol, mechanism by mechanism (same channels,
 * same rings and hand-offs, same sizes), so that make bench can print swipc/C per cell.
 * Usage: benchref MECHANISM SIZE MESSAGES [PIN [SLOTS]]   (PIN: cross (default), same, none;
 * SLOTS: ring slots each way for shm, pshm, shm-spin, shm-futex, default 64 KiB worth, 2..1024)
 * Prints one CSV line: mechanism,size,p50_us,p99_us,mb_per_s,messages_per_s,
 * Protocol: min(200, MESSAGES) warm-up and MESSAGES timed round trips (send SIZE, receive SIZE),
 * then MESSAGES one-way messages and one acknowledgement of SIZE.
 * Rings: per direction SLOTS slots of SIZE rounded up to 64 bytes. shm and pshm count free and
 * full slots with semaphores (0 to-peer full, 1 to-peer free, 2 to-client full, 3 to-client
 * free); shm-spin and shm-futex keep per direction four words on their own cache lines (written,
 * read, reader asleep, writer asleep); shm-spin spins 20000 times then yields, shm-futex spins
 * 100 times, raises its flag and sleeps in FUTEX_WAIT, and a side wakes the other only when its
 * flag is up. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/futex.h>
#include <time.h>
#include <unistd.h>

static const char *mech;
static int K = -1; /* the mechanism's index, so that the data path compares no strings */
/* Indexes as in the dispatch below: 7 is shm-futex. */
static const char *names[] = {"pipe", "fifo", "msg", "pmsg", "shm", "pshm", "shm-spin", "shm-futex", "unix-stream", "unix-dgram", "tcp"};
enum { PIPE, FIFO, MSG, PMSG, SHM, PSHM, SPIN, FUTEX, USTREAM, UDGRAM, TCP };
static size_t size, stride, slots;
static size_t out_slot, in_slot;
static char *buf;
static int rfd = -1, wfd = -1, msqid, semid, client;
static mqd_t mq_out, mq_in;
static char *ring_out, *ring_in, *seg;
/* Ring words: written, read, reader asleep, writer asleep; per direction. */
static volatile unsigned *w_out, *r_out, *rs_out, *ws_out, *w_in, *r_in, *rs_in, *ws_in;
static unsigned sent, got;
static struct { long type; char text[65536]; } *mbuf; /* MSGMAX is at most 65536 */

static void die(const char *what) { perror(what); exit(1); }
static unsigned long long now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (unsigned long long)t.tv_sec * 1000000000ull + t.tv_nsec;
}
static void pin(int cpu) {
  if (cpu < 0) return;
  cpu_set_t s;
  CPU_ZERO(&s);
  CPU_SET(cpu, &s);
  sched_setaffinity(0, sizeof s, &s);
}
static void sv_op(int num, int delta) {
  struct sembuf op = {(unsigned short)num, (short)delta, 0};
  while (semop(semid, &op, 1) < 0) if (errno != EINTR) die("semop");
}
static sem_t *psem(int i) { return (sem_t *)(seg + i * 64); }

static void futex_wait(volatile unsigned *p, unsigned v) { syscall(SYS_futex, p, FUTEX_WAIT, v, NULL, NULL, 0); }
static void futex_wake(volatile unsigned *p) { syscall(SYS_futex, p, FUTEX_WAKE, 1, NULL, NULL, 0); }

/* Waits until the other side's counter *word passes the test; shm-spin and shm-futex. */
#define RING_WAIT(word, flag, ready)                                              \
  for (int spins = 0;; spins++) {                                                 \
    unsigned v = __atomic_load_n(word, __ATOMIC_ACQUIRE);                         \
    if (ready) break;                                                             \
    if (K == SPIN) {                                                              \
      if (spins < 20000) __builtin_ia32_pause(); else sched_yield();              \
      continue;                                                                   \
    }                                                                             \
    if (spins < 100) { __builtin_ia32_pause(); continue; }                        \
    __atomic_store_n(flag, 1, __ATOMIC_SEQ_CST);                                  \
    v = __atomic_load_n(word, __ATOMIC_SEQ_CST);                                  \
    if (!(ready)) futex_wait(word, v);                                            \
    __atomic_store_n(flag, 0, __ATOMIC_RELEASE);                                  \
  }

static void publish(volatile unsigned *word, unsigned value, volatile unsigned *flag) {
  if (K == FUTEX) {
    __atomic_store_n(word, value, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(flag, __ATOMIC_SEQ_CST)) futex_wake(word);
  } else {
    __atomic_store_n(word, value, __ATOMIC_RELEASE);
  }
}

static void xsend(void) {
  if (K == MSG) {
    mbuf->type = client ? 1 : 2;
    if (msgsnd(msqid, mbuf, size, 0) < 0) die("msgsnd");
  } else if (K == PMSG) {
    if (mq_send(mq_out, buf, size, 0) < 0) die("mq_send");
  } else if (K == SHM || K == PSHM) {
    int full = client ? 0 : 2, free_ = client ? 1 : 3;
    if (K == SHM) sv_op(free_, -1); else while (sem_wait(psem(free_)) < 0) {}
    memcpy(ring_out + out_slot * stride, buf, size);
    out_slot = out_slot + 1 == slots ? 0 : out_slot + 1;
    if (K == SHM) sv_op(full, 1); else sem_post(psem(full));
  } else if (K == SPIN || K == FUTEX) {
    unsigned n = sent;
    RING_WAIT(r_out, ws_out, n - v < slots)
    memcpy(ring_out + out_slot * stride, buf, size);
    out_slot = out_slot + 1 == slots ? 0 : out_slot + 1;
    sent = n + 1;
    publish(w_out, sent, rs_out);
  } else if (K == UDGRAM) {
    if (send(wfd, buf, size, 0) < 0) die("send");
  } else {
    for (size_t done = 0; done < size;) {
      ssize_t n = write(wfd, buf + done, size - done);
      if (n < 0) die("write");
      done += n;
    }
  }
}

static void xrecv(void) {
  if (K == MSG) {
    if (msgrcv(msqid, mbuf, size, client ? 2 : 1, 0) < 0) die("msgrcv");
  } else if (K == PMSG) {
    if (mq_receive(mq_in, buf, size, NULL) < 0) die("mq_receive");
  } else if (K == SHM || K == PSHM) {
    int full = client ? 2 : 0, free_ = client ? 3 : 1;
    if (K == SHM) sv_op(full, -1); else while (sem_wait(psem(full)) < 0) {}
    memcpy(buf, ring_in + in_slot * stride, size);
    in_slot = in_slot + 1 == slots ? 0 : in_slot + 1;
    if (K == SHM) sv_op(free_, 1); else sem_post(psem(free_));
  } else if (K == SPIN || K == FUTEX) {
    unsigned n = got;
    RING_WAIT(w_in, rs_in, v != n)
    memcpy(buf, ring_in + in_slot * stride, size);
    in_slot = in_slot + 1 == slots ? 0 : in_slot + 1;
    got = n + 1;
    publish(r_in, got, ws_in);
  } else if (K == UDGRAM) {
    if (recv(rfd, buf, size, 0) < 0) die("recv");
  } else {
    for (size_t done = 0; done < size;) {
      ssize_t n = read(rfd, buf + done, size - done);
      if (n <= 0) die("read");
      done += n;
    }
  }
}

static long wmem_max(void) {
  long v = 212992;
  FILE *f = fopen("/proc/sys/net/core/wmem_max", "r");
  if (f) { if (fscanf(f, "%ld", &v) != 1) v = 212992; fclose(f); }
  return v;
}

static int cmp(const void *a, const void *b) {
  unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: benchref MECHANISM SIZE MESSAGES [cross|same|none [SLOTS]]\n"); return 2; }
  mech = argv[1];
  for (int i = 0; i < 11; i++) if (!strcmp(mech, names[i])) K = i;
  size = strtoul(argv[2], NULL, 10);
  long count = strtol(argv[3], NULL, 10);
  long warmup = count < 200 ? count : 200;
  const char *pinning = argc > 4 ? argv[4] : "cross";
  slots = 65536 / (size ? size : 1);
  if (slots < 2) slots = 2;
  if (slots > 1024) slots = 1024;
  if (argc > 5) slots = strtoul(argv[5], NULL, 10);
  if (K != SHM && K != PSHM && K != SPIN && K != FUTEX) slots = 1;
  stride = (size + 63) & ~(size_t)63;
  int cpu0 = -1, cpu1 = -1;
  cpu_set_t set;
  sched_getaffinity(0, sizeof set, &set);
  for (int i = 0, n = 0; i < CPU_SETSIZE; i++) if (CPU_ISSET(i, &set)) { if (n == 0) cpu0 = i; else if (n == 1) cpu1 = i; n++; }
  if (!strcmp(pinning, "none")) cpu0 = cpu1 = -1;
  if (!strcmp(pinning, "same")) cpu1 = cpu0;
  buf = aligned_alloc(64, size + 64);
  memset(buf, 0, size);
  mbuf = calloc(1, sizeof *mbuf);
  char name[64], a[96], b[96], dir[64];
  snprintf(name, sizeof name, "/benchref-%d", getpid());
  int p1[2], p2[2], sv[2], listener = -1, port = 0;
  size_t header = K == SHM ? 0 : K == PSHM ? 256 : 512;
  size_t seglen = header + 2 * slots * stride;
  if (!strcmp(mech, "pipe")) { if (pipe(p1) || pipe(p2)) die("pipe"); }
  else if (!strcmp(mech, "unix-stream") || !strcmp(mech, "unix-dgram")) {
    if (socketpair(AF_UNIX, !strcmp(mech, "unix-stream") ? SOCK_STREAM : SOCK_DGRAM, 0, sv)) die("socketpair");
    if (!strcmp(mech, "unix-dgram")) {
      long room = (long)size * 4 + 4096, limit = wmem_max();
      int b2 = (int)(room < limit ? room : limit);
      for (int i = 0; i < 2; i++) { setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &b2, sizeof b2); setsockopt(sv[i], SOL_SOCKET, SO_RCVBUF, &b2, sizeof b2); }
    }
  } else if (!strcmp(mech, "fifo")) {
    snprintf(dir, sizeof dir, "/tmp/benchref-XXXXXX");
    if (!mkdtemp(dir)) die("mkdtemp");
    snprintf(a, sizeof a, "%s/a", dir); snprintf(b, sizeof b, "%s/b", dir);
    if (mkfifo(a, 0600) || mkfifo(b, 0600)) die("mkfifo");
  } else if (!strcmp(mech, "msg")) {
    if ((msqid = msgget(IPC_PRIVATE, IPC_CREAT | 0600)) < 0) die("msgget");
  } else if (!strcmp(mech, "pmsg")) {
    struct mq_attr at = {0};
    at.mq_maxmsg = 10; at.mq_msgsize = size;
    snprintf(a, sizeof a, "%s-a", name); snprintf(b, sizeof b, "%s-b", name);
    if ((mq_out = mq_open(a, O_CREAT | O_EXCL | O_RDWR, 0600, &at)) == -1) die("mq_open");
    if ((mq_in = mq_open(b, O_CREAT | O_EXCL | O_RDWR, 0600, &at)) == -1) die("mq_open");
  } else if (!strcmp(mech, "shm")) {
    int id = shmget(IPC_PRIVATE, seglen, IPC_CREAT | 0600);
    if (id < 0) die("shmget");
    seg = shmat(id, NULL, 0);
    shmctl(id, IPC_RMID, NULL);
    if ((semid = semget(IPC_PRIVATE, 4, IPC_CREAT | 0600)) < 0) die("semget");
    unsigned short v[4] = {0, slots, 0, slots};
    union { int val; unsigned short *array; } arg = {.array = v};
    semctl(semid, 0, SETALL, arg);
  } else if (K == PSHM || K == SPIN || K == FUTEX) {
    int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
    if (fd < 0 || ftruncate(fd, seglen)) die("shm_open");
    seg = mmap(NULL, seglen, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    shm_unlink(name);
    if (K == PSHM) { unsigned v[4] = {0, slots, 0, slots}; for (int i = 0; i < 4; i++) sem_init(psem(i), 1, v[i]); }
  } else if (!strcmp(mech, "tcp")) {
    listener = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof sa;
    if (bind(listener, (struct sockaddr *)&sa, sizeof sa) || listen(listener, 1)) die("bind");
    getsockname(listener, (struct sockaddr *)&sa, &l);
    port = ntohs(sa.sin_port);
  } else { fprintf(stderr, "benchref: unknown mechanism %s\n", mech); return 2; }

  pid_t pid = fork();
  if (pid < 0) die("fork");
  client = pid != 0;
  pin(client ? cpu0 : cpu1);
  int one = 1;
  if (!strcmp(mech, "pipe")) { rfd = client ? p2[0] : p1[0]; wfd = client ? p1[1] : p2[1]; }
  else if (!strcmp(mech, "unix-stream") || !strcmp(mech, "unix-dgram")) rfd = wfd = sv[client ? 0 : 1];
  else if (!strcmp(mech, "fifo")) {
    if (client) { wfd = open(a, O_WRONLY); rfd = open(b, O_RDONLY); }
    else { rfd = open(a, O_RDONLY); wfd = open(b, O_WRONLY); }
  } else if (!strcmp(mech, "pmsg") && !client) { mqd_t t = mq_out; mq_out = mq_in; mq_in = t; }
  else if (K == SHM || K == PSHM || K == SPIN || K == FUTEX) {
    char *to_peer = seg + header, *to_client = seg + header + slots * stride;
    ring_out = client ? to_peer : to_client;
    ring_in = client ? to_client : to_peer;
    volatile unsigned *w[8];
    for (int i = 0; i < 8; i++) w[i] = (volatile unsigned *)(seg + i * 64);
    int o = client ? 0 : 4, n = client ? 4 : 0;
    w_out = w[o]; r_out = w[o + 1]; rs_out = w[o + 2]; ws_out = w[o + 3];
    w_in = w[n]; r_in = w[n + 1]; rs_in = w[n + 2]; ws_in = w[n + 3];
  } else if (!strcmp(mech, "tcp")) {
    if (client) { rfd = wfd = accept(listener, NULL, NULL); }
    else {
      rfd = wfd = socket(AF_INET, SOCK_STREAM, 0);
      struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
      if (connect(rfd, (struct sockaddr *)&sa, sizeof sa)) die("connect");
    }
    setsockopt(rfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }

  if (!client) {
    for (long i = 0; i < warmup + count; i++) { xrecv(); xsend(); }
    for (long i = 0; i < count; i++) xrecv();
    xsend();
    _exit(0);
  }
  unsigned long long *lat = malloc(sizeof *lat * (count > 0 ? count : 1));
  for (long i = 0; i < warmup; i++) { xsend(); xrecv(); }
  for (long i = 0; i < count; i++) { unsigned long long t = now(); xsend(); xrecv(); lat[i] = now() - t; }
  unsigned long long t0 = now();
  for (long i = 0; i < count; i++) xsend();
  xrecv();
  double secs = (now() - t0) / 1e9;
  waitpid(pid, NULL, 0);
  qsort(lat, count, sizeof *lat, cmp);
  long i99 = count * 99 / 100; if (i99 > count - 1) i99 = count - 1;
  printf("%s,%zu,%.3f,%.3f,%.1f,%.0f,\n", mech, size, lat[count / 2] / 1000.0, lat[i99] / 1000.0,
         count * (double)size / secs / 1e6, count / secs);
  if (!strcmp(mech, "msg")) msgctl(msqid, IPC_RMID, NULL);
  if (!strcmp(mech, "shm")) semctl(semid, 0, IPC_RMID);
  if (!strcmp(mech, "pmsg")) { mq_unlink(a); mq_unlink(b); }
  if (!strcmp(mech, "fifo")) { unlink(a); unlink(b); rmdir(dir); }
  return 0;
}
