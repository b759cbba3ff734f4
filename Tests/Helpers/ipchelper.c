/* An independent IPC client for swipc's tests: creates, uses and holds objects with the plain C
 * API, so that what swipc reports is checked against objects it did not make.
 * Usage: ipchelper COMMAND ARGS...; prints ids on stdout; exits non-zero with a message on error. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <pthread.h>
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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

union semun { int val; struct semid_ds *buf; unsigned short *array; };

static void die(const char *what) { fprintf(stderr, "ipchelper: %s: %s\n", what, strerror(errno)); exit(1); }
static long num(const char *s) { return strtol(s, NULL, 0); }

/* A thread blocked in msgrcv on the queue whose id is the argument. */
static volatile pid_t waiter_tid;
static void *receive_in_thread(void *arg) {
  struct { long type; char text[64]; } m;
  waiter_tid = gettid();
  msgrcv((int)(long)arg, &m, sizeof m.text, 0, MSG_NOERROR);
  return NULL;
}

/* Holds until stdin reaches EOF or a signal arrives, after saying "ready". */
static void hold(void) {
  printf("ready\n");
  fflush(stdout);
  char buf[64];
  while (read(0, buf, sizeof buf) > 0) {}
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: ipchelper COMMAND ...\n"); return 2; }
  const char *cmd = argv[1];
  if (!strcmp(cmd, "msg-create") && argc == 4) {          /* KEY MODE */
    int id = msgget((key_t)num(argv[2]), IPC_CREAT | IPC_EXCL | (int)num(argv[3]));
    if (id < 0) die("msgget");
    printf("%d\n", id);
  } else if (!strcmp(cmd, "msg-send") && argc == 5) {     /* ID TYPE TEXT */
    size_t n = strlen(argv[4]);
    struct { long type; char text[8192]; } m;
    m.type = num(argv[3]);
    memcpy(m.text, argv[4], n);
    if (msgsnd((int)num(argv[2]), &m, n, IPC_NOWAIT) < 0) die("msgsnd");
  } else if (!strcmp(cmd, "shm-create") && argc == 5) {   /* KEY SIZE MODE */
    int id = shmget((key_t)num(argv[2]), (size_t)num(argv[3]), IPC_CREAT | IPC_EXCL | (int)num(argv[4]));
    if (id < 0) die("shmget");
    printf("%d\n", id);
  } else if (!strcmp(cmd, "shm-hold") && argc >= 3) {     /* ID [rm]: attach, optionally remove */
    int id = (int)num(argv[2]);
    void *p = shmat(id, NULL, 0);
    if (p == (void *)-1) die("shmat");
    if (argc == 4 && !strcmp(argv[3], "rm") && shmctl(id, IPC_RMID, NULL) < 0) die("shmctl(IPC_RMID)");
    hold();
    shmdt(p);
  } else if (!strcmp(cmd, "msg-wait-thread") && argc == 3) { /* ID: a second thread blocks in msgrcv */
    pthread_t thread;
    if (pthread_create(&thread, NULL, receive_in_thread, (void *)num(argv[2])) != 0) die("pthread_create");
    /* "ready" once that thread sleeps in the kernel: its syscall line names msgrcv. */
    while (!waiter_tid) usleep(1000);
    char path[64], line[128] = "";
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)waiter_tid);
    for (;;) {
      FILE *f = fopen(path, "r");
      if (!f) die(path);
      int blocked = fgets(line, sizeof line, f) && atoi(line) == SYS_msgrcv;
      fclose(f);
      if (blocked) break;
      usleep(1000);
    }
    hold();
  } else if (!strcmp(cmd, "sem-create") && argc == 5) {   /* KEY NSEMS MODE */
    int id = semget((key_t)num(argv[2]), (int)num(argv[3]), IPC_CREAT | IPC_EXCL | (int)num(argv[4]));
    if (id < 0) die("semget");
    printf("%d\n", id);
  } else if (!strcmp(cmd, "sem-set") && argc == 5) {      /* ID NUM VALUE */
    union semun arg = {.val = (int)num(argv[4])};
    if (semctl((int)num(argv[2]), (int)num(argv[3]), SETVAL, arg) < 0) die("semctl(SETVAL)");
  } else if (!strcmp(cmd, "sem-op") && argc == 5) {       /* ID NUM DELTA: blocks as semop does; says "done" */
    struct sembuf op = {(unsigned short)num(argv[3]), (short)num(argv[4]), 0};
    if (semop((int)num(argv[2]), &op, 1) < 0) die("semop");
    printf("done\n");
  } else if (!strcmp(cmd, "sem-get") && argc == 4) {      /* ID NUM: print GETVAL */
    int v = semctl((int)num(argv[2]), (int)num(argv[3]), GETVAL);
    if (v < 0) die("semctl(GETVAL)");
    printf("%d\n", v);
  } else if ((!strcmp(cmd, "mem-write") || !strcmp(cmd, "mem-read")) && argc == 5) {
    /* mem-write ID|/NAME OFFSET TEXT; mem-read ID|/NAME OFFSET LENGTH (prints the bytes): through
     * shmat for a System V id, shm_open and mmap for a POSIX /name */
    int writing = !strcmp(cmd, "mem-write");
    char *p;
    if (argv[2][0] == '/') {
      int fd = shm_open(argv[2], writing ? O_RDWR : O_RDONLY, 0);
      if (fd < 0) die("shm_open");
      struct stat st;
      if (fstat(fd, &st) < 0) die("fstat");
      p = mmap(NULL, (size_t)st.st_size, writing ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, 0);
      if (p == MAP_FAILED) die("mmap");
      close(fd);
    } else {
      p = shmat((int)num(argv[2]), NULL, writing ? 0 : SHM_RDONLY);
      if (p == (void *)-1) die("shmat");
    }
    long off = num(argv[3]);
    if (writing) memcpy(p + off, argv[4], strlen(argv[4]));
    else fwrite(p + off, 1, (size_t)num(argv[4]), stdout);
  } else if (!strcmp(cmd, "psem-get") && argc == 3) {     /* NAME: print sem_getvalue */
    sem_t *s = sem_open(argv[2], 0);
    int v;
    if (s == SEM_FAILED) die("sem_open");
    if (sem_getvalue(s, &v) < 0) die("sem_getvalue");
    printf("%d\n", v);
  } else if ((!strcmp(cmd, "psem-wait") || !strcmp(cmd, "psem-post")) && argc == 3) { /* NAME */
    sem_t *s = sem_open(argv[2], 0);
    if (s == SEM_FAILED) die("sem_open");
    if (!strcmp(cmd, "psem-post") ? sem_post(s) : sem_wait(s)) die(cmd);
    printf("done\n");
  } else if (!strcmp(cmd, "rm") && argc == 4) {           /* msg|shm|sem ID */
    int id = (int)num(argv[3]), rc;
    if (!strcmp(argv[2], "msg")) rc = msgctl(id, IPC_RMID, NULL);
    else if (!strcmp(argv[2], "shm")) rc = shmctl(id, IPC_RMID, NULL);
    else rc = semctl(id, 0, IPC_RMID);
    if (rc < 0) die("IPC_RMID");
  } else if (!strcmp(cmd, "pshm-hold") && argc == 4) {    /* NAME SIZE: create, map and hold */
    int fd = shm_open(argv[2], O_CREAT | O_EXCL | O_RDWR, 0600);
    if (fd < 0) die("shm_open");
    if (ftruncate(fd, num(argv[3])) < 0) die("ftruncate");
    void *p = mmap(NULL, (size_t)num(argv[3]), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) die("mmap");
    close(fd);
    hold();
    shm_unlink(argv[2]);
  } else if (!strcmp(cmd, "psem-create") && argc == 4) {  /* NAME VALUE */
    sem_t *s = sem_open(argv[2], O_CREAT | O_EXCL, 0600, (unsigned)num(argv[3]));
    if (s == SEM_FAILED) die("sem_open");
    sem_close(s);
  } else if (!strcmp(cmd, "fill") && argc == 3) {       /* N: N private objects of each System V kind */
    int n = (int)num(argv[2]);
    for (int i = 0; i < n; i++) {
      if (msgget(IPC_PRIVATE, IPC_CREAT | 0600) < 0) die("msgget");
      if (shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600) < 0) die("shmget");
      if (semget(IPC_PRIVATE, 2, IPC_CREAT | 0600) < 0) die("semget");
    }
  } else if (!strcmp(cmd, "fill-fixed") && argc == 3) { /* N: ids 0..N-1 of each kind (private namespace only) */
    int n = (int)num(argv[2]);
    const char *files[3] = {"/proc/sys/kernel/msg_next_id", "/proc/sys/kernel/shm_next_id", "/proc/sys/kernel/sem_next_id"};
    for (int kind = 0; kind < 3; kind++) {
      for (int i = 0; i < n; i++) {
        FILE *f = fopen(files[kind], "w");
        if (!f || fprintf(f, "%d\n", i) < 0 || fclose(f) != 0) die(files[kind]);
        int id = kind == 0 ? msgget(IPC_PRIVATE, IPC_CREAT | 0600)
               : kind == 1 ? shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600)
                           : semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
        if (id != i) { fprintf(stderr, "ipchelper: expected id %d, got %d\n", i, id); return 1; }
      }
    }
  } else if (!strcmp(cmd, "msg-recv") && argc == 6) {    /* ID TYPE MAXSIZE FLAGS(n,e,t): print "type size" and the data hex, or the errno name */
    struct { long type; char text[65536]; } m;
    int flags = IPC_NOWAIT;
    if (strchr(argv[5], 'e')) flags |= MSG_EXCEPT;
    if (strchr(argv[5], 't')) flags |= MSG_NOERROR;
    ssize_t n = msgrcv((int)num(argv[2]), &m, (size_t)num(argv[4]), num(argv[3]), flags);
    if (n < 0) { printf("%s\n", errno == E2BIG ? "E2BIG" : errno == ENOMSG ? "ENOMSG" : strerror(errno)); return 0; }
    printf("%ld %zd ", m.type, n);
    for (ssize_t i = 0; i < n; i++) printf("%02x", (unsigned char)m.text[i]);
    printf("\n");
  } else if (!strcmp(cmd, "msg-sendfile") && argc == 5) { /* ID TYPE FILE: the file's bytes as one message */
    struct { long type; char text[65536]; } m;
    FILE *f = fopen(argv[4], "rb");
    if (!f) die("fopen");
    size_t n = fread(m.text, 1, sizeof m.text, f);
    fclose(f);
    m.type = num(argv[3]);
    if (msgsnd((int)num(argv[2]), &m, n, 0) < 0) die("msgsnd");
  } else if (!strcmp(cmd, "mq-recv") && argc == 3) {      /* NAME: print "priority size" and the data hex */
    char buf[65536];
    unsigned prio;
    mqd_t q = mq_open(argv[2], O_RDONLY | O_NONBLOCK);
    if (q == (mqd_t)-1) die("mq_open");
    ssize_t n = mq_receive(q, buf, sizeof buf, &prio);
    if (n < 0) die("mq_receive");
    printf("%u %zd ", prio, n);
    for (ssize_t i = 0; i < n; i++) printf("%02x", (unsigned char)buf[i]);
    printf("\n");
    mq_close(q);
  } else if (!strcmp(cmd, "mq-create") && argc == 5) {   /* NAME MAXMSG MSGSIZE */
    struct mq_attr attr = {.mq_maxmsg = num(argv[3]), .mq_msgsize = num(argv[4])};
    mqd_t q = mq_open(argv[2], O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
    if (q == (mqd_t)-1) die("mq_open");
    mq_close(q);
  } else if (!strcmp(cmd, "mq-send") && argc == 5) {     /* NAME PRIORITY TEXT */
    mqd_t q = mq_open(argv[2], O_WRONLY | O_NONBLOCK);
    if (q == (mqd_t)-1) die("mq_open");
    if (mq_send(q, argv[4], strlen(argv[4]), (unsigned)num(argv[3])) < 0) die("mq_send");
    mq_close(q);
  } else if (!strcmp(cmd, "mq-hold") && argc == 3) {     /* NAME: keep the queue open */
    mqd_t q = mq_open(argv[2], O_RDONLY);
    if (q == (mqd_t)-1) die("mq_open");
    hold();
    mq_close(q);
  } else {
    fprintf(stderr, "ipchelper: unknown command or wrong arguments: %s\n", cmd);
    return 2;
  }
  return 0;
}
