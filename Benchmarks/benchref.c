/* The C reference of `swipc bench`: the same protocol, mechanism by mechanism (same channels,
 * same hand-offs, same sizes), so that make bench can print swipc/C per cell.
 * Usage: benchref MECHANISM SIZE MESSAGES [PIN]   (PIN: cross (default), same, none)
 * Prints one CSV line: mechanism,size,p50_us,p99_us,mb_per_s,messages_per_s,
 * Protocol: 200 warm-up and MESSAGES timed round trips (send SIZE, receive SIZE), then MESSAGES
 * one-way messages and one acknowledgement of SIZE. */
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *mech;
static int K = -1; /* the mechanism's index, so that the data path compares no strings */
static const char *names[] = {"pipe", "fifo", "msg", "pmsg", "shm", "pshm", "shm-spin", "unix-stream", "unix-dgram", "tcp"};
static size_t size;
static char *buf;
static int rfd = -1, wfd = -1, msqid, semid, client;
static mqd_t mq_out, mq_in;
static char *slot_out, *slot_in, *seg;
static volatile unsigned *seq_out, *ack_out, *seq_in, *ack_in;
static unsigned sent, got;
static struct { long type; char text[65536]; } *mbuf;

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

static void xsend(void) {
  if (K == 2) {
    mbuf->type = client ? 1 : 2;
    if (msgsnd(msqid, mbuf, size, 0) < 0) die("msgsnd");
  } else if (K == 3) {
    if (mq_send(mq_out, buf, size, 0) < 0) die("mq_send");
  } else if (K == 4 || K == 5) {
    int full = client ? 0 : 2, empty = client ? 1 : 3;
    if (K == 4) sv_op(empty, -1); else while (sem_wait(psem(empty)) < 0) {}
    memcpy(slot_out, buf, size);
    if (K == 4) sv_op(full, 1); else sem_post(psem(full));
  } else if (K == 6) {
    unsigned s = sent;
    for (int spins = 0; __atomic_load_n(ack_out, __ATOMIC_ACQUIRE) != s; spins++)
      if (spins < 20000) __builtin_ia32_pause(); else sched_yield();
    memcpy(slot_out, buf, size);
    sent = s + 1;
    __atomic_store_n(seq_out, sent, __ATOMIC_RELEASE);
  } else if (K == 8) {
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
  if (K == 2) {
    if (msgrcv(msqid, mbuf, size, client ? 2 : 1, 0) < 0) die("msgrcv");
  } else if (K == 3) {
    if (mq_receive(mq_in, buf, size, NULL) < 0) die("mq_receive");
  } else if (K == 4 || K == 5) {
    int full = client ? 2 : 0, empty = client ? 3 : 1;
    if (K == 4) sv_op(full, -1); else while (sem_wait(psem(full)) < 0) {}
    memcpy(buf, slot_in, size);
    if (K == 4) sv_op(empty, 1); else sem_post(psem(empty));
  } else if (K == 6) {
    unsigned e = got + 1;
    for (int spins = 0; __atomic_load_n(seq_in, __ATOMIC_ACQUIRE) != e; spins++)
      if (spins < 20000) __builtin_ia32_pause(); else sched_yield();
    memcpy(buf, slot_in, size);
    got = e;
    __atomic_store_n(ack_in, e, __ATOMIC_RELEASE);
  } else if (K == 8) {
    if (recv(rfd, buf, size, 0) < 0) die("recv");
  } else {
    for (size_t done = 0; done < size;) {
      ssize_t n = read(rfd, buf + done, size - done);
      if (n <= 0) die("read");
      done += n;
    }
  }
}

static int cmp(const void *a, const void *b) {
  unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: benchref MECHANISM SIZE MESSAGES [cross|same|none]\n"); return 2; }
  mech = argv[1];
  for (int i = 0; i < 10; i++) if (!strcmp(mech, names[i])) K = i;
  size = strtoul(argv[2], NULL, 10);
  long count = strtol(argv[3], NULL, 10);
  const char *pinning = argc > 4 ? argv[4] : "cross";
  int cpu0 = -1, cpu1 = -1;
  cpu_set_t set;
  sched_getaffinity(0, sizeof set, &set);
  for (int i = 0, n = 0; i < CPU_SETSIZE; i++) if (CPU_ISSET(i, &set)) { if (n == 0) cpu0 = i; else if (n == 1) cpu1 = i; n++; }
  if (!strcmp(pinning, "none")) cpu0 = cpu1 = -1;
  if (!strcmp(pinning, "same")) cpu1 = cpu0;
  buf = aligned_alloc(64, size + 64);
  memset(buf, 0, size);
  mbuf = malloc(sizeof *mbuf);
  memset(mbuf, 0, sizeof *mbuf);
  char name[64], a[96], b[96], dir[64];
  snprintf(name, sizeof name, "/benchref-%d", getpid());
  int p1[2], p2[2], sv[2], listener = -1, port = 0;
  size_t seglen = 256 + 2 * size;
  if (!strcmp(mech, "pipe")) { if (pipe(p1) || pipe(p2)) die("pipe"); }
  else if (!strcmp(mech, "unix-stream") || !strcmp(mech, "unix-dgram")) {
    if (socketpair(AF_UNIX, !strcmp(mech, "unix-stream") ? SOCK_STREAM : SOCK_DGRAM, 0, sv)) die("socketpair");
    if (!strcmp(mech, "unix-dgram")) {
      int b2 = (int)(size * 4 + 4096 < 212992 ? size * 4 + 4096 : 212992);
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
    int id = shmget(IPC_PRIVATE, 2 * size, IPC_CREAT | 0600);
    if (id < 0) die("shmget");
    seg = shmat(id, NULL, 0);
    shmctl(id, IPC_RMID, NULL);
    if ((semid = semget(IPC_PRIVATE, 4, IPC_CREAT | 0600)) < 0) die("semget");
    unsigned short v[4] = {0, 1, 0, 1};
    union { int val; unsigned short *array; } arg = {.array = v};
    semctl(semid, 0, SETALL, arg);
  } else if (!strcmp(mech, "pshm") || !strcmp(mech, "shm-spin")) {
    int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
    if (fd < 0 || ftruncate(fd, seglen)) die("shm_open");
    seg = mmap(NULL, seglen, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    shm_unlink(name);
    if (!strcmp(mech, "pshm")) { int v[4] = {0, 1, 0, 1}; for (int i = 0; i < 4; i++) sem_init(psem(i), 1, v[i]); }
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
  else if (!strcmp(mech, "shm") || !strcmp(mech, "pshm")) {
    char *slots = !strcmp(mech, "shm") ? seg : seg + 256;
    slot_out = client ? slots : slots + size; slot_in = client ? slots + size : slots;
  } else if (!strcmp(mech, "shm-spin")) {
    volatile unsigned *w[4];
    for (int i = 0; i < 4; i++) w[i] = (volatile unsigned *)(seg + i * 64);
    seq_out = client ? w[0] : w[2]; ack_out = client ? w[1] : w[3];
    seq_in = client ? w[2] : w[0]; ack_in = client ? w[3] : w[1];
    slot_out = client ? seg + 256 : seg + 256 + size; slot_in = client ? seg + 256 + size : seg + 256;
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
    for (long i = 0; i < 200 + count; i++) { xrecv(); xsend(); }
    for (long i = 0; i < count; i++) xrecv();
    xsend();
    _exit(0);
  }
  unsigned long long *lat = malloc(sizeof *lat * (count > 0 ? count : 1));
  for (int i = 0; i < 200; i++) { xsend(); xrecv(); }
  for (long i = 0; i < count; i++) { unsigned long long t = now(); xsend(); xrecv(); lat[i] = now() - t; }
  unsigned long long t0 = now();
  for (long i = 0; i < count; i++) xsend();
  xrecv();
  double secs = (now() - t0) / 1e9;
  waitpid(pid, NULL, 0);
  qsort(lat, count, sizeof *lat, cmp);
  long i99 = count * 99 / 100; if (i99 > count - 1) i99 = count - 1;
  printf("%s,%zu,%.2f,%.2f,%.1f,%.0f,\n", mech, size, lat[count / 2] / 1000.0, lat[i99] / 1000.0,
         count * (double)size / secs / 1e6, count / secs);
  if (!strcmp(mech, "msg")) msgctl(msqid, IPC_RMID, NULL);
  if (!strcmp(mech, "shm")) semctl(semid, 0, IPC_RMID);
  if (!strcmp(mech, "pmsg")) { mq_unlink(a); mq_unlink(b); }
  if (!strcmp(mech, "fifo")) { unlink(a); unlink(b); rmdir(dir); }
  return 0;
}
