/* nsref: the C reference of `swipc ls -A --format json` for the namespace benchmark.
 * Usage: nsref [-j 2] (as root). Writes the same JSON records as swipc, in its order.
 *
 * It does the same job as directly as single-threaded C can, through the same kernel interfaces
 * (or cheaper ones swipc could also use), so that the benchmark shows what the kernel work alone
 * costs:
 *  1. every process in /proc: ns/ipc and ns/mnt read as links, root stat'ed; the first process
 *     of each IPC namespace stands for it (the caller's first, then by pid); each new (mount
 *     namespace, root) has its dev/shm opened beneath that root (openat2 RESOLVE_IN_ROOT), when
 *     that mount namespace belongs to the caller's user namespace;
 *  2. per IPC namespace, entered with setns: MSG_STAT_ANY and SEM_STAT_ANY per index up to what
 *     MSG_INFO and SEM_INFO report, /proc/sysvipc/shm (the only source of rss and swap), the
 *     queues of a private mount of the namespace's mqueue filesystem (fsopen, fsmount), and the
 *     container recognised in the representative's cgroup file;
 *  3. the files of each /dev/shm found (shared memory, and semaphores with their values);
 *  4. holders of POSIX objects: every process's descriptor tables (its own, and those of threads
 *     with tables of their own, found with kcmp) stat'ed, and its maps when there are shared
 *     memory or semaphore files;
 *  5. the JSON, into one buffer written once.
 * Errors go to stderr as one line; a namespace that cannot be entered is left out, as swipc does.
 *
 * `nsref -j 2` measures what two cores could give: after the scan of /proc, two processes each
 * read every other namespace and scan every other process's files, recording all each holds;
 * once both have shared those, each counts the holders of its own objects and writes its own
 * records, and the first writes both, in order, with one writev. Kernel work is not shared
 * across cores for free (closing each detached mqueue mount waits for an expedited RCU grace
 * period, and those are serialised machine-wide), so this is measured rather than assumed to
 * halve the time. With NSREF_TIMES set, each phase's time goes to stderr. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <linux/nsfs.h>
#include <linux/openat2.h>
#include <mqueue.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MSG_STAT_ANY
#define MSG_STAT_ANY 13
#endif
#ifndef SEM_STAT_ANY
#define SEM_STAT_ANY 20
#endif
#define INITIAL_IPC_INODE 0xEFFFFFFFUL
#define KCMP_FILES 2

union semun { int val; struct semid_ds *buf; unsigned short *array; struct seminfo *__buf; };

static void *xrealloc(void *p, size_t n) {
  p = realloc(p, n);
  if (!p) { fputs("nsref: out of memory\n", stderr); exit(1); }
  return p;
}

/* ---- output buffer ---- */
static char *out;
static size_t outlen, outcap;
static int out_shared;  /* the second worker's records go straight to shared memory, which is not grown */
static inline void put(const void *s, size_t n) {
  if (__builtin_expect(outlen + n > outcap, 0)) {
    if (out_shared) { fputs("nsref: output too large to share\n", stderr); _exit(1); }
    outcap = (outlen + n) * 2 + 65536;
    out = xrealloc(out, outcap);
  }
  memcpy(out + outlen, s, n);
  outlen += n;
}
static void puts_(const char *s) { put(s, strlen(s)); }
/* A literal, its length known when compiled. */
#define PUTS(lit) put(lit, sizeof lit - 1)
static inline void putc_(char c) {
  if (__builtin_expect(outlen == outcap, 0)) put(&c, 1); else out[outlen++] = c;
}
static void putu(unsigned long long v) {
  char b[24];
  int i = 24;
  do { b[--i] = (char)('0' + v % 10); v /= 10; } while (v);
  put(b + i, 24 - i);
}
static void puti(long long v) {
  if (v < 0) { putc_('-'); putu(-(unsigned long long)v); } else putu((unsigned long long)v);
}

/* A JSON string: controls, quote and backslash escaped; invalid UTF-8 replaced by U+FFFD. */
static int utf8_length(const unsigned char *s, size_t n) {
  unsigned c = s[0];
  int len = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
  if (len == 0 || (size_t)len > n) return 0;
  for (int i = 1; i < len; i++) if ((s[i] & 0xC0) != 0x80) return 0;
  if (len == 3 && ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F))) return 0;
  if (len == 4 && ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] > 0x8F))) return 0;
  return len;
}
static int valid_utf8(const char *s, size_t n) {
  for (size_t i = 0; i < n;) {
    int l = utf8_length((const unsigned char *)s + i, n - i);
    if (!l) return 0;
    i += l;
  }
  return 1;
}
static void put_json_string(const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  putc_('"');
  for (size_t i = 0; i < n;) {
    unsigned char c = (unsigned char)s[i];
    int l = utf8_length((const unsigned char *)s + i, n - i);
    if (!l) { puts_("\xEF\xBF\xBD"); i++; continue; }
    if (l > 1) { put(s + i, l); i += l; continue; }
    i++;
    switch (c) {
    case '"': puts_("\\\""); break;
    case '\\': puts_("\\\\"); break;
    case '\n': puts_("\\n"); break;
    case '\r': puts_("\\r"); break;
    case '\t': puts_("\\t"); break;
    default:
      if (c < 32 || c == 127) { puts_("\\u00"); putc_(hex[c >> 4]); putc_(hex[c & 15]); } else putc_((char)c);
    }
  }
  putc_('"');
}
static void put_base64(const unsigned char *s, size_t n) {
  static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = s[i] << 16 | (i + 1 < n ? s[i + 1] << 8 : 0) | (i + 2 < n ? s[i + 2] : 0);
    putc_(a[v >> 18 & 63]); putc_(a[v >> 12 & 63]);
    putc_(i + 1 < n ? a[v >> 6 & 63] : '=');
    putc_(i + 2 < n ? a[v & 63] : '=');
  }
}

/* RFC 3339 UTC, or null for a time never set; the last one is kept, as most repeat. */
static void put_time(time_t t) {
  static time_t last = -1;
  static char text[32];
  if (t == 0) { puts_("null"); return; }
  if (t != last) {
    struct tm tm;
    if (!gmtime_r(&t, &tm) || tm.tm_year < -1900 || tm.tm_year > 8099) { puts_("null"); return; }
    if (strftime(text, sizeof text, "\"%Y-%m-%dT%H:%M:%SZ\"", &tm) != 22) { puts_("null"); return; }
    last = t;
  }
  put(text, 22);
}

/* ---- users and groups, from /etc/passwd and /etc/group, read once ---- */
struct idname { unsigned id; char *name; size_t len; };
/* `last`: the entry found last, as most objects have one owner. */
struct names { struct idname *v; size_t n; struct idname *last; };
static struct names users, groups;
static void load_names(const char *path, struct names *into) {
  FILE *f = fopen(path, "re");
  if (!f) return;
  char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, f) > 0) {
    char *name = line, *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2) continue;
    *c1 = 0;
    char *end;
    unsigned long id = strtoul(c2 + 1, &end, 10);
    if (end == c2 + 1 || *end != ':') continue;
    into->v = xrealloc(into->v, (into->n + 1) * sizeof *into->v);
    into->v[into->n++] = (struct idname){(unsigned)id, strdup(name), strlen(name)};
  }
  free(line);
  fclose(f);
}
static void put_name_of(struct names *n, unsigned id) {
  if (!n->last || n->last->id != id) {
    n->last = NULL;
    for (size_t i = 0; i < n->n && !n->last; i++) if (n->v[i].id == id) n->last = &n->v[i];
  }
  if (n->last) put_json_string(n->last->name, n->last->len); else PUTS("null");
}

/* ---- objects ---- */
enum kind { MSG, SHM, SEM, PMSG, PSHM, PSEM };
static const char *kind_names[] = {"msg", "shm", "sem", "pmsg", "pshm", "psem"};
struct object {
  enum kind kind;
  int ns;
  int id, key;
  char *name;  /* POSIX: "/name" */
  size_t name_len;
  unsigned mode, uid, gid, cuid, cgid;
  long long size, messages, max_messages, message_size, value, rss, swap; /* -1: unknown */
  long long nattch;
  int lspid, lrpid, cpid, lpid, notify_pid;
  unsigned nsems;
  time_t ctime, stime, rtime, atime, dtime, otime, mtime;
  dev_t dev;
  ino_t ino;
  int holders;
  int last_holder;
};
static struct object *objects;
static size_t nobjects, capobjects;
static struct object *new_object(enum kind kind, int ns) {
  if (nobjects == capobjects) {
    capobjects = capobjects * 2 + 256;
    objects = xrealloc(objects, capobjects * sizeof *objects);
  }
  struct object *o = &objects[nobjects++];
  memset(o, 0, sizeof *o);
  o->kind = kind;
  o->ns = ns;
  o->size = o->messages = o->max_messages = o->message_size = o->value = o->rss = o->swap = -1;
  o->nattch = -1;
  o->notify_pid = -1;
  return o;
}

/* ---- namespaces ---- */
#define MAX_DIRS 8
struct ns {
  unsigned long ino;
  int pid;
  int proc;  /* the representative's /proc/PID, kept open */
  int own;
  int dirs[MAX_DIRS], ndirs;  /* /dev/shm directories counted here */
  char *container;  /* recognised name, or NULL */
};
static struct ns *nss;
static size_t nns;

static int proc_fd;
static unsigned long own_ipc;
static struct stat own_userns;
struct place { unsigned long mnt; dev_t dev; ino_t ino; };
static struct place *places;
static size_t nplaces;
struct ident { dev_t dev; ino_t ino; };
static struct ident *dirs_seen;
static size_t ndirs_seen;
static int own_shm = -1;

static unsigned long link_inode(int dirfd, const char *path) {
  char text[64];
  ssize_t n = readlinkat(dirfd, path, text, sizeof text - 1);
  if (n <= 0) return 0;
  text[n] = 0;
  char *b = strchr(text, '[');
  return b ? strtoul(b + 1, NULL, 10) : 0;
}

/* The numeric entries of a directory, sorted. */
static int cmp_int(const void *a, const void *b) { int x = *(const int *)a, y = *(const int *)b; return (x > y) - (x < y); }
static int *numeric_entries(int dirfd, size_t *count) {
  static char buf[32768];
  int *v = NULL;
  size_t n = 0, cap = 0;
  lseek(dirfd, 0, SEEK_SET);
  long got;
  while ((got = syscall(SYS_getdents64, dirfd, buf, sizeof buf)) > 0) {
    for (long off = 0; off < got;) {
      struct dirent64 *d = (struct dirent64 *)(buf + off);
      off += d->d_reclen;
      if (d->d_name[0] < '1' || d->d_name[0] > '9') continue;
      char *end;
      long pid = strtol(d->d_name, &end, 10);
      if (*end) continue;
      if (n == cap) { cap = cap * 2 + 512; v = xrealloc(v, cap * sizeof *v); }
      v[n++] = (int)pid;
    }
  }
  qsort(v, n, sizeof *v, cmp_int);
  *count = n;
  return v;
}

/* dev/shm beneath a process's root, when its mount namespace belongs to the caller's user
 * namespace (in another one, dev/shm may be a bind mount of anything that user can reach). */
static int open_shm_beneath(int pfd, unsigned long mnt) {
  int m = openat(pfd, "ns/mnt", O_RDONLY | O_CLOEXEC);
  if (m < 0) return -1;
  int owner = ioctl(m, NS_GET_USERNS);
  close(m);
  if (owner < 0) return -1;
  struct stat st;
  int same = fstat(owner, &st) == 0 && st.st_ino == own_userns.st_ino && st.st_dev == own_userns.st_dev;
  close(owner);
  if (!same) return -1;
  int root = openat(pfd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return -1;
  struct open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  int fd = (int)syscall(SYS_openat2, root, "dev/shm", &how, sizeof how);
  close(root);
  /* The root opened was that of the mount namespace checked, not one the process moved to since. */
  if (fd >= 0 && link_inode(pfd, "ns/mnt") != mnt) { close(fd); return -1; }
  return fd;
}

static void scan_processes(void) {
  size_t npids;
  int *pids = numeric_entries(proc_fd, &npids);
  for (size_t i = 0; i < npids; i++) {
    char name[16];
    snprintf(name, sizeof name, "%d", pids[i]);
    int pfd = openat(proc_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pfd < 0) continue;
    unsigned long ipc = link_inode(pfd, "ns/ipc");
    if (!ipc) { close(pfd); continue; }
    size_t k = 0;
    while (k < nns && nss[k].ino != ipc) k++;
    int keep = 0;
    if (k == nns) {
      nss = xrealloc(nss, (nns + 1) * sizeof *nss);
      nss[nns++] = (struct ns){.ino = ipc, .pid = pids[i], .proc = pfd, .own = ipc == own_ipc};
      keep = 1;
    }
    unsigned long mnt = link_inode(pfd, "ns/mnt");
    struct stat root;
    if (mnt && fstatat(pfd, "root", &root, 0) == 0) {
      size_t p = 0;
      while (p < nplaces && !(places[p].mnt == mnt && places[p].dev == root.st_dev && places[p].ino == root.st_ino)) p++;
      if (p == nplaces) {
        places = xrealloc(places, (nplaces + 1) * sizeof *places);
        places[nplaces++] = (struct place){mnt, root.st_dev, root.st_ino};
        int fd = open_shm_beneath(pfd, mnt);
        struct stat st;
        if (fd >= 0 && fstat(fd, &st) == 0) {
          size_t d = 0;
          while (d < ndirs_seen && !(dirs_seen[d].dev == st.st_dev && dirs_seen[d].ino == st.st_ino)) d++;
          if (d == ndirs_seen && nss[k].ndirs < MAX_DIRS) {
            dirs_seen = xrealloc(dirs_seen, (ndirs_seen + 1) * sizeof *dirs_seen);
            dirs_seen[ndirs_seen++] = (struct ident){st.st_dev, st.st_ino};
            nss[k].dirs[nss[k].ndirs++] = fd;
            fd = -1;
          }
        }
        if (fd >= 0) close(fd);
      }
    }
    if (!keep) close(pfd);
  }
  free(pids);
  /* The caller's namespace first, with the caller's own /dev/shm first among its directories. */
  size_t own = 0;
  while (own < nns && !nss[own].own) own++;
  if (own == nns) {
    nss = xrealloc(nss, (nns + 1) * sizeof *nss);
    nss[nns++] = (struct ns){.ino = own_ipc, .pid = getpid(), .proc = openat(proc_fd, "self", O_RDONLY | O_DIRECTORY | O_CLOEXEC), .own = 1};
  }
  struct ns first = nss[own];
  memmove(nss + 1, nss, own * sizeof *nss);
  nss[0] = first;
  if (own_shm >= 0 && nss[0].ndirs < MAX_DIRS) {
    memmove(nss[0].dirs + 1, nss[0].dirs, nss[0].ndirs * sizeof(int));
    nss[0].dirs[0] = own_shm;
    nss[0].ndirs++;
  }
}

/* ---- System V, from inside the namespace ---- */
static struct object *sysv_object(enum kind kind, int ns, int id, const struct ipc_perm *perm) {
  struct object *o = new_object(kind, ns);
  o->id = id;
  o->key = perm->__key;
  o->mode = perm->mode;
  o->uid = perm->uid; o->gid = perm->gid; o->cuid = perm->cuid; o->cgid = perm->cgid;
  return o;
}

static void read_queues(int ns) {
  struct msginfo info;
  int max = msgctl(0, MSG_INFO, (struct msqid_ds *)&info);
  for (int i = 0; i <= max; i++) {
    struct msqid_ds ds;
    int id = msgctl(i, MSG_STAT_ANY, &ds);
    if (id < 0) continue;
    struct object *o = sysv_object(MSG, ns, id, &ds.msg_perm);
    o->size = (long long)ds.__msg_cbytes;
    o->messages = (long long)ds.msg_qnum;
    o->lspid = ds.msg_lspid; o->lrpid = ds.msg_lrpid;
    o->ctime = ds.msg_ctime; o->stime = ds.msg_stime; o->rtime = ds.msg_rtime;
  }
}

static void read_semaphores(int ns) {
  struct seminfo info;
  union semun arg = {.__buf = &info};
  int max = semctl(0, 0, SEM_INFO, arg);
  for (int i = 0; i <= max; i++) {
    struct semid_ds ds;
    arg.buf = &ds;
    int id = semctl(i, 0, SEM_STAT_ANY, arg);
    if (id < 0) continue;
    struct object *o = sysv_object(SEM, ns, id, &ds.sem_perm);
    o->nsems = (unsigned)ds.sem_nsems;
    o->ctime = ds.sem_ctime; o->otime = ds.sem_otime;
  }
}

static char *read_all(int dirfd, const char *path, size_t *len) {
  int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t cap = 65536, n = 0;
  char *text = xrealloc(NULL, cap + 1);
  ssize_t got;
  while ((got = read(fd, text + n, cap - n)) > 0) {
    n += got;
    if (n == cap) {
      /* A process can make its maps as long as it likes: no more is read than swipc reads. */
      if (cap >= (64UL << 20)) break;
      cap *= 2;
      text = xrealloc(text, cap + 1);
    }
  }
  close(fd);
  text[n] = 0;
  *len = n;
  return text;
}

/* /proc/sysvipc/shm of the namespace entered: key shmid perms size cpid lpid nattch uid gid cuid
 * cgid atime dtime ctime rss swap. */
static void read_segments(int ns) {
  size_t len;
  char *text = read_all(AT_FDCWD, "/proc/sysvipc/shm", &len);
  if (!text) return;
  char *line = strchr(text, '\n');
  while (line && *++line) {
    long long v[16];
    int n = 0;
    char *end = line;
    while (n < 16) {
      while (*end == ' ') end++;
      if (*end == '\n' || !*end) break;
      /* perms, the third column, is octal. */
      char *start = end;
      long long x = strtoll(start, &end, n == 2 ? 8 : 10);
      if (end == start) break;
      v[n++] = x;
    }
    line = strchr(end, '\n');
    if (n < 14) continue;
    struct object *p = new_object(SHM, ns);
    p->key = (int)v[0]; p->id = (int)v[1]; p->mode = (unsigned)v[2];
    p->size = v[3]; p->cpid = (int)v[4]; p->lpid = (int)v[5];
    p->nattch = v[6]; p->holders = (int)v[6];
    p->uid = (unsigned)v[7]; p->gid = (unsigned)v[8]; p->cuid = (unsigned)v[9]; p->cgid = (unsigned)v[10];
    p->atime = (time_t)v[11]; p->dtime = (time_t)v[12]; p->ctime = (time_t)v[13];
    if (n == 16) { p->rss = v[14]; p->swap = v[15]; }
  }
  free(text);
}

/* ---- files of a directory: mqueue mount or /dev/shm ---- */
struct entry { char *name; size_t len; struct stat st; };
static int cmp_entry(const void *a, const void *b) {
  const struct entry *x = a, *y = b;
  int c = memcmp(x->name, y->name, x->len < y->len ? x->len : y->len);
  return c ? c : (x->len > y->len) - (x->len < y->len);
}
/* Regular files, sorted by name; the descriptor's position is left where it was found. */
static struct entry *regular_files(int dirfd, size_t *count) {
  static char buf[32768];
  struct entry *v = NULL;
  size_t n = 0;
  int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) { *count = 0; return NULL; }
  long got;
  while ((got = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
    for (long off = 0; off < got;) {
      struct dirent64 *d = (struct dirent64 *)(buf + off);
      off += d->d_reclen;
      if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, "..")) continue;
      struct stat st;
      if (fstatat(fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
      v = xrealloc(v, (n + 1) * sizeof *v);
      v[n].len = strlen(d->d_name);
      v[n].name = strdup(d->d_name);
      v[n].st = st;
      n++;
    }
  }
  close(fd);
  qsort(v, n, sizeof *v, cmp_entry);
  *count = n;
  return v;
}

static char *slash_name(const char *name, size_t len) {
  char *s = xrealloc(NULL, len + 2);
  s[0] = '/';
  memcpy(s + 1, name, len);
  s[len + 1] = 0;
  return s;
}

static void file_object(struct object *o, const char *name, size_t len, const struct stat *st) {
  o->name = slash_name(name, len);
  o->name_len = len + 1;
  o->mode = st->st_mode & 07777;
  o->uid = st->st_uid;
  o->gid = st->st_gid;
  /* A queue's ctime moves at every read of its status: its mtime stands in, as in swipc. */
  o->ctime = o->kind == PMSG ? st->st_mtim.tv_sec : st->st_ctim.tv_sec;
  o->mtime = st->st_mtim.tv_sec;
  o->dev = st->st_dev;
  o->ino = st->st_ino;
}

/* The namespace's queues, through a private mount of its mqueue filesystem. */
static void read_posix_queues(int ns) {
  int fs = (int)syscall(SYS_fsopen, "mqueue", FSOPEN_CLOEXEC);
  if (fs < 0) return;
  int mnt = -1;
  if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
    mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0);
  close(fs);
  if (mnt < 0) return;
  size_t n;
  struct entry *files = regular_files(mnt, &n);
  for (size_t i = 0; i < n; i++) {
    struct object *o = new_object(PMSG, ns);
    file_object(o, files[i].name, files[i].len, &files[i].st);
    int q = openat(mnt, files[i].name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (q >= 0) {
      struct stat st;
      if (fstat(q, &st) == 0 && S_ISREG(st.st_mode)) {
        char text[256];
        ssize_t got = pread(q, text, sizeof text - 1, 0);
        if (got > 0) {
          text[got] = 0;
          unsigned long long qsize;
          int notify;
          char *s = strstr(text, "QSIZE:"), *p = strstr(text, "NOTIFY_PID:");
          if (s && p && sscanf(s + 6, "%llu", &qsize) == 1 && sscanf(p + 11, "%d", &notify) == 1) {
            o->size = (long long)qsize;
            o->notify_pid = notify;
          }
        }
        struct mq_attr attr;
        if (syscall(SYS_mq_getsetattr, q, NULL, &attr) == 0) {
          o->max_messages = attr.mq_maxmsg;
          o->message_size = attr.mq_msgsize;
          o->messages = attr.mq_curmsgs;
        }
      }
      close(q);
    }
    free(files[i].name);
  }
  free(files);
  close(mnt);
}

/* Shared memory and semaphores of one /dev/shm (psem: `sem.NAME`, value in its first word). */
static void read_directory(int ns, int dirfd) {
  size_t n;
  struct entry *files = regular_files(dirfd, &n);
  for (int pass = 0; pass < 2; pass++) {
    for (size_t i = 0; i < n; i++) {
      int sem = files[i].len > 4 && !memcmp(files[i].name, "sem.", 4);
      if (sem != pass) continue;
      struct object *o = new_object(sem ? PSEM : PSHM, ns);
      file_object(o, files[i].name + (sem ? 4 : 0), files[i].len - (sem ? 4 : 0), &files[i].st);
      if (!sem) { o->size = files[i].st.st_size; continue; }
      int fd = openat(dirfd, files[i].name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
      if (fd < 0) continue;
      struct stat st;
      uint64_t word;
      if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 32 && pread(fd, &word, 8, 0) == 8)
        o->value = (long long)((uint32_t)word & 0x7fffffff);
      close(fd);
    }
  }
  for (size_t i = 0; i < n; i++) free(files[i].name);
  free(files);
}

/* ---- containers: the outermost Docker, containerd, CRI-O, podman or Kubernetes id on any line ---- */
static int is_container_id(const char *s, size_t n) {
  if (n != 64) return 0;
  for (size_t i = 0; i < n; i++) if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
  return 1;
}
static int pod_uid(const char *s, size_t n, char *uid) {
  const char *p = s;
  size_t len = n;
  if (n > 15 && !memcmp(s, "kubepods-", 9) && !memcmp(s + n - 6, ".slice", 6)) {
    const char *dash = memrchr(s, '-', n - 6);
    p = dash + 1;
    len = (size_t)(s + n - 6 - p);
  }
  if (len != 39 || memcmp(p, "pod", 3)) return 0;
  for (size_t i = 0; i < 36; i++) {
    char c = p[3 + i] == '_' ? '-' : p[3 + i];
    if (!(c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return 0;
    uid[i] = c;
  }
  uid[36] = 0;
  return 1;
}
static char *recognise_path(const char *path, size_t n, int *rank) {
  static const char *prefixes[] = {"docker-", "cri-containerd-", "crio-", "libpod-"};
  static const char *runtimes[] = {"docker", "cri-containerd", "crio", "podman"};
  char pod[37] = "", prev[128] = "", user[32] = "";
  const char *end = path + n;
  for (const char *p = path; p < end;) {
    const char *slash = memchr(p, '/', (size_t)(end - p));
    size_t len = (size_t)((slash ? slash : end) - p);
    const char *runtime = NULL, *id = NULL;
    if (len) {
      if (!*user && len > 13 && !memcmp(p, "user@", 5) && !memcmp(p + len - 8, ".service", 8)) {
        snprintf(user, sizeof user, "user-%.*s/", (int)(len - 13), p + 5);
      } else if (!pod_uid(p, len, pod[0] ? (char[37]){0} : pod)) {
        size_t l = len >= 6 && !memcmp(p + len - 6, ".scope", 6) ? len - 6 : len;
        for (int i = 0; i < 4 && !runtime; i++) {
          size_t pl = strlen(prefixes[i]);
          if (l > pl && !memcmp(p, prefixes[i], pl) && is_container_id(p + pl, l - pl)) { runtime = runtimes[i]; id = p + pl; }
        }
        if (!runtime && is_container_id(p, len)) {
          char tmp[37];
          if (!strcmp(prev, "docker")) runtime = "docker";
          else if (pod[0] && pod_uid(prev, strlen(prev), tmp)) runtime = "k8s";
          else if (!strcmp(prev, "libpod_parent")) runtime = "podman";
          if (runtime) id = p;
        }
      }
      if (runtime) {
        char *name = xrealloc(NULL, 128);
        if (pod[0]) snprintf(name, 128, "%sk8s/%s/%.12s", user, pod, id), *rank = 4;
        else snprintf(name, 128, "%s%s/%.12s", user, runtime, id), *rank = 3;
        return name;
      }
      snprintf(prev, sizeof prev, "%.*s", (int)(len < 127 ? len : 127), p);
    }
    p += len + 1;
  }
  if (pod[0]) {
    char *name = xrealloc(NULL, 96);
    snprintf(name, 96, "%sk8s/%s", user, pod);
    *rank = 2;
    return name;
  }
  return NULL;
}
static char *recognise_container(int pfd) {
  size_t len;
  char *text = read_all(pfd, "cgroup", &len);
  if (!text) return NULL;
  char *best = NULL;
  int best_rank = -1;
  for (char *line = text; line < text + len;) {
    char *nl = memchr(line, '\n', (size_t)(text + len - line));
    char *eol = nl ? nl : text + len;
    char *c1 = memchr(line, ':', (size_t)(eol - line));
    char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(eol - c1 - 1)) : NULL;
    if (c2 && eol - c2 - 1 > 1) {
      int rank = 0;
      char *found = recognise_path(c2 + 1, (size_t)(eol - c2 - 1), &rank);
      if (found && rank > best_rank) { free(best); best = found; best_rank = rank; } else free(found);
    }
    line = eol + 1;
  }
  free(text);
  return best;
}

/* ---- holders ---- */
struct held { dev_t dev; ino_t ino; struct object *object; };
static struct held *held;
static size_t nheld;
static int cmp_held(const void *a, const void *b) {
  const struct held *x = a, *y = b;
  if (x->dev != y->dev) return x->dev < y->dev ? -1 : 1;
  return (x->ino > y->ino) - (x->ino < y->ino);
}
static dev_t anon_dev;
static int have_anon;
/* With -j 2: every file each process holds, matched once both workers are done. */
struct triple { dev_t dev; ino_t ino; int pid; };
static struct triple *triples;
static size_t ntriples, captriples;
static int recording, worker, workers = 1;

static void holds(int pid, dev_t dev, ino_t ino) {
  if (recording) {
    if (ntriples == captriples) { captriples = captriples * 2 + 1024; triples = xrealloc(triples, captriples * sizeof *triples); }
    triples[ntriples++] = (struct triple){dev, ino, pid};
    return;
  }
  struct held key = {dev, ino, NULL};
  struct held *h = bsearch(&key, held, nheld, sizeof *held, cmp_held);
  if (!h) return;
  /* Equal (dev, inode) pairs are adjacent: every object of that file. */
  while (h > held && !cmp_held(h - 1, &key)) h--;
  for (; h < held + nheld && !cmp_held(h, &key); h++)
    if (h->object->last_holder != pid) { h->object->last_holder = pid; h->object->holders++; }
}

static void scan_table(int pid, int table) {
  static char buf[32768];
  int fds = openat(table, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fds < 0) return;
  long got;
  while ((got = syscall(SYS_getdents64, fds, buf, sizeof buf)) > 0) {
    for (long off = 0; off < got;) {
      struct dirent64 *d = (struct dirent64 *)(buf + off);
      off += d->d_reclen;
      if (d->d_name[0] == '.') continue;
      struct stat st;
      if (fstatat(fds, d->d_name, &st, 0) != 0) continue;
      holds(pid, st.st_dev, st.st_ino);
      if (have_anon && st.st_dev == anon_dev) {
        /* An io_uring may hold registered files it names only by path: read, as swipc does. */
        char link[64];
        ssize_t n = readlinkat(fds, d->d_name, link, sizeof link - 1);
        if (n > 0 && (link[n] = 0, !strcmp(link, "anon_inode:[io_uring]"))) {
          char path[300];
          snprintf(path, sizeof path, "fdinfo/%s", d->d_name);
          size_t len;
          free(read_all(table, path, &len));
        }
      }
    }
  }
  close(fds);
}

static void scan_maps(int pid, int pfd) {
  size_t len;
  char *text = read_all(pfd, "maps", &len);
  if (!text) return;
  for (char *line = text; line < text + len;) {
    char *nl = memchr(line, '\n', (size_t)(text + len - line));
    unsigned maj, min;
    unsigned long long ino;
    if (sscanf(line, "%*x-%*x %*s %*x %x:%x %llu", &maj, &min, &ino) == 3 && ino)
      holds(pid, makedev(maj, min), (ino_t)ino);
    if (!nl) break;
    line = nl + 1;
  }
  free(text);
}

static void scan_holders(int mappings) {
  qsort(held, nheld, sizeof *held, cmp_held);
  int self = 0;
  char me[16];
  ssize_t n = readlinkat(proc_fd, "self", me, sizeof me - 1);
  if (n > 0) { me[n] = 0; self = atoi(me); }
  size_t npids;
  int *pids = numeric_entries(proc_fd, &npids);
  int *seen = NULL;
  size_t nseen = 0;
  /* A process born during the scan may hold what its exited parent held: /proc is listed
   * again and newcomers scanned, a bounded number of times. */
  for (int round = 0; round < 4 && npids; round++) {
    seen = xrealloc(seen, (nseen + npids) * sizeof *seen);
    memcpy(seen + nseen, pids, npids * sizeof *pids);
    nseen += npids;
    qsort(seen, nseen, sizeof *seen, cmp_int);
    for (size_t i = 0; i < npids; i++) {
      int pid = pids[i];
      if (pid == self || pid % workers != worker) continue;
      char name[16];
      snprintf(name, sizeof name, "%d", pid);
      int pfd = openat(proc_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (pfd < 0) continue;
      scan_table(pid, pfd);
      struct stat task;
      if (fstatat(pfd, "task", &task, 0) == 0 && task.st_nlink != 3) {
        int tfd = openat(pfd, "task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        size_t nt = 0;
        int *tids = tfd >= 0 ? numeric_entries(tfd, &nt) : NULL;
        for (size_t t = 0; t < nt; t++) {
          if (tids[t] == pid || syscall(SYS_kcmp, pid, tids[t], KCMP_FILES, 0UL, 0UL) == 0) continue;
          snprintf(name, sizeof name, "%d", tids[t]);
          int th = openat(tfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
          if (th >= 0) { scan_table(pid, th); close(th); }
        }
        free(tids);
        if (tfd >= 0) close(tfd);
      }
      if (mappings) scan_maps(pid, pfd);
      close(pfd);
    }
    free(pids);
    int *all = numeric_entries(proc_fd, &npids);
    size_t fresh = 0;
    for (size_t i = 0; i < npids; i++)
      if (!bsearch(&all[i], seen, nseen, sizeof *seen, cmp_int)) all[fresh++] = all[i];
    npids = fresh;
    pids = all;
  }
  free(pids);
  free(seen);
}

/* ---- the records ---- */
#define put_key(k) PUTS(",\"" k "\":")
#define put_opt(k, v) do { long long v_ = (v); put_key(k); if (v_ < 0) PUTS("null"); else puti(v_); } while (0)
/* Each creator's command is read once (most segments share a creator), as its JSON text. */
struct command { int pid; char *json; size_t len; };
static struct command *commands;
static size_t ncommands;
static void put_command_text(int pid);
static void put_command(int pid) {
  for (size_t i = 0; i < ncommands; i++)
    if (commands[i].pid == pid) { put(commands[i].json, commands[i].len); return; }
  size_t start = outlen;
  put_command_text(pid);
  commands = xrealloc(commands, (ncommands + 1) * sizeof *commands);
  commands[ncommands].pid = pid;
  commands[ncommands].len = outlen - start;
  commands[ncommands].json = xrealloc(NULL, outlen - start);
  memcpy(commands[ncommands].json, out + start, outlen - start);
  ncommands++;
}
static void put_command_text(int pid) {
  char name[32];
  snprintf(name, sizeof name, "%d/cmdline", pid);
  size_t len;
  char *text = pid > 0 ? read_all(proc_fd, name, &len) : NULL;
  if (!text) { puts_("null"); return; }
  if (len > 4096) len = 4096;
  while (len && !text[len - 1]) len--;
  if (len) {
    for (size_t i = 0; i < len; i++) if (!text[i]) text[i] = ' ';
    put_json_string(text, len);
  } else {
    free(text);
    snprintf(name, sizeof name, "%d/comm", pid);
    text = read_all(proc_fd, name, &len);
    if (!text) { puts_("null"); return; }
    while (len && (text[len - 1] == '\n' || text[len - 1] == ' ')) len--;
    char *s = xrealloc(NULL, len + 2);
    s[0] = '[';
    memcpy(s + 1, text, len);
    s[len + 1] = ']';
    put_json_string(s, len + 2);
    free(s);
  }
  free(text);
}
static time_t latest(time_t a, time_t b) { return a > b ? a : b; }

static void write_record(const struct object *o, time_t now) {
  const struct ns *n = &nss[o->ns];
  int sysv = o->kind <= SEM;
  PUTS("{\"type\":\""); puts_(kind_names[o->kind]);
  PUTS("\",\"namespace\":\"ipc:["); putu(n->ino); PUTS("]\"");
  put_key("container");
  if (n->container) put_json_string(n->container, strlen(n->container)); else puts_("null");
  put_key("pid"); puti(n->pid);
  if (sysv) {
    static const char hex[] = "0123456789abcdef";
    char key[12] = "\"0x";
    for (int i = 0; i < 8; i++) key[3 + i] = hex[(unsigned)o->key >> (28 - 4 * i) & 15];
    key[11] = '"';
    put_key("key"); put(key, 12);
    put_key("id"); puti(o->id);
  } else {
    put_key("name"); put_json_string(o->name, o->name_len);
    if (!valid_utf8(o->name, o->name_len)) { put_key("name_base64"); putc_('"'); put_base64((const unsigned char *)o->name, o->name_len); putc_('"'); }
  }
  char perms[6] = {'"', '0', (char)('0' + (o->mode >> 6 & 7)), (char)('0' + (o->mode >> 3 & 7)), (char)('0' + (o->mode & 7)), '"'};
  put_key("perms"); put(perms, 6);
  put_key("owner"); put_name_of(&users, o->uid);
  put_key("uid"); putu(o->uid);
  put_key("group"); put_name_of(&groups, o->gid);
  put_key("gid"); putu(o->gid);
  if (sysv) {
    put_key("cuser"); put_name_of(&users, o->cuid);
    put_key("cuid"); putu(o->cuid);
    put_key("cgroup"); put_name_of(&groups, o->cgid);
    put_key("cgid"); putu(o->cgid);
  }
  time_t last = 0;
  switch (o->kind) {
  case MSG:
    put_opt("usedbytes", o->size); put_opt("msgs", o->messages);
    put_key("ctime"); put_time(o->ctime); put_key("send"); put_time(o->stime); put_key("recv"); put_time(o->rtime);
    put_key("lspid"); puti(o->lspid); put_key("lrpid"); puti(o->lrpid);
    last = latest(o->stime, o->rtime);
    break;
  case SHM:
    put_opt("size", o->size); put_opt("nattch", o->nattch);
    put_key("status"); putc_('[');
    if (o->mode & 01000) puts_("\"dest\"");
    if (o->mode & 02000) puts_(o->mode & 01000 ? ",\"locked\"" : "\"locked\"");
    putc_(']');
    put_key("holders"); puti(o->holders);
    put_key("ctime"); put_time(o->ctime); put_key("attach"); put_time(o->atime); put_key("detach"); put_time(o->dtime);
    put_key("cpid"); puti(o->cpid); put_key("lpid"); puti(o->lpid);
    put_opt("rss", o->rss); put_opt("swap", o->swap);
    last = latest(o->atime, o->dtime);
    break;
  case SEM:
    put_key("nsems"); putu(o->nsems);
    put_key("ctime"); put_time(o->ctime); put_key("otime"); put_time(o->otime);
    last = o->otime;
    break;
  case PMSG:
    put_opt("usedbytes", o->size); put_opt("msgs", o->messages);
    put_opt("maxmsg", o->max_messages); put_opt("msgsize", o->message_size);
    break;
  case PSHM: put_opt("size", o->size); break;
  case PSEM: put_opt("value", o->value); break;
  }
  if (!sysv) {
    put_key("holders"); puti(o->holders);
    put_key("ctime"); put_time(o->ctime); put_key("mtime"); put_time(o->mtime);
    if (o->kind == PMSG) { put_key("notifypid"); if (o->notify_pid < 0) puts_("null"); else puti(o->notify_pid); }
    last = o->mtime;
  }
  put_key("age");
  if (o->ctime) puti((long long)(now - o->ctime)); else puts_("null");
  put_key("last"); put_time(last);
  if (o->kind == SHM) { put_key("command"); put_command(o->cpid); }
  putc_('}');
}

static int read_namespaces(int own_ns);
static int write_output(void);
/* With NSREF_TIMES set, each phase's wall-clock milliseconds on stderr: where the time goes. */
static int timing;
static void phase(const char *name) {
  static struct timespec last;
  struct timespec now;
  if (!timing) return;
  clock_gettime(CLOCK_MONOTONIC, &now);
  if (*name) fprintf(stderr, "nsref: %-10s %7.2f ms\n", name, (now.tv_sec - last.tv_sec) * 1e3 + (now.tv_nsec - last.tv_nsec) / 1e6);
  last = now;
}
static int split(int own_ns);

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-j") && i + 1 < argc && !strcmp(argv[i + 1], "2")) {
      workers = 2;
      i++;
    } else {
      fputs("nsref: usage: nsref [-j 2]\n", stderr);
      return 64;
    }
  }
  timing = getenv("NSREF_TIMES") != NULL;
  phase("");
  outcap = 4 << 20;
  out = xrealloc(NULL, outcap);
  proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (proc_fd < 0) { perror("nsref: /proc: open"); return 1; }
  own_ipc = link_inode(AT_FDCWD, "/proc/thread-self/ns/ipc");
  int own_ns = open("/proc/thread-self/ns/ipc", O_RDONLY | O_CLOEXEC);
  if (!own_ipc || own_ns < 0 || stat("/proc/self/ns/user", &own_userns) != 0) {
    perror("nsref: /proc/thread-self/ns: open");
    return 1;
  }
  int fd = inotify_init1(IN_CLOEXEC);
  struct stat st;
  if (fd >= 0 && fstat(fd, &st) == 0) { anon_dev = st.st_dev; have_anon = 1; }
  if (fd >= 0) close(fd);
  /* The caller's /dev/shm, seen by every process of its mount namespace and root. */
  own_shm = open("/dev/shm", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct stat mnt, root;
  if (own_shm >= 0 && fstat(own_shm, &st) == 0) {
    dirs_seen = xrealloc(NULL, sizeof *dirs_seen);
    dirs_seen[ndirs_seen++] = (struct ident){st.st_dev, st.st_ino};
    if (stat("/proc/self/ns/mnt", &mnt) == 0 && stat("/proc/self/root", &root) == 0) {
      places = xrealloc(NULL, sizeof *places);
      places[nplaces++] = (struct place){mnt.st_ino, root.st_dev, root.st_ino};
    }
  }
  load_names("/etc/passwd", &users);
  load_names("/etc/group", &groups);

  phase("setup");
  scan_processes();
  phase("scan");
  if (workers == 2) return split(own_ns);
  if (read_namespaces(own_ns) != 0) return 1;
  phase("namespaces");

  int mapped = 0;
  for (size_t i = 0; i < nobjects; i++) {
    struct object *o = &objects[i];
    if (o->kind < PMSG) continue;
    mapped |= o->kind != PMSG;
    held = xrealloc(held, (nheld + 1) * sizeof *held);
    held[nheld++] = (struct held){o->dev, o->ino, o};
  }
  if (nheld) scan_holders(mapped);
  phase("holders");
  return write_output();
}

/* This worker's namespaces (every one without -j), each entered in turn, then left. */
/* Milliseconds spent in /proc/sysvipc/shm (0) and in the mqueue mounts (1), with NSREF_TIMES. */
static double parts[2];
static void part(int which) {
  static struct timespec last;
  struct timespec now;
  if (!timing) return;
  clock_gettime(CLOCK_MONOTONIC, &now);
  if (which >= 0) parts[which] += (now.tv_sec - last.tv_sec) * 1e3 + (now.tv_nsec - last.tv_nsec) / 1e6;
  last = now;
}

static int read_namespaces(int own_ns) {
  int entered = 0;
  for (size_t k = 0; k < nns; k++) {
    if ((int)(k % (size_t)workers) != worker) continue;
    size_t before = nobjects;
    if (!nss[k].own) {
      int nsfd = openat(nss[k].proc, "ns/ipc", O_RDONLY | O_CLOEXEC);
      if (nsfd < 0 || setns(nsfd, CLONE_NEWIPC) != 0) {
        fprintf(stderr, "nsref: ipc:[%lu] (pid %d): setns: %s (run as root)\n", nss[k].ino, nss[k].pid, strerror(errno));
        if (nsfd >= 0) close(nsfd);
        continue;
      }
      close(nsfd);
      entered = 1;
    } else if (entered) {
      setns(own_ns, CLONE_NEWIPC);
      entered = 0;
    }
    read_queues((int)k);
    part(-1);
    read_segments((int)k);
    part(0);
    read_semaphores((int)k);
    part(-1);
    read_posix_queues((int)k);
    part(1);
    for (int d = 0; d < nss[k].ndirs; d++) read_directory((int)k, nss[k].dirs[d]);
    if (nobjects > before && nss[k].ino != INITIAL_IPC_INODE) nss[k].container = recognise_container(nss[k].proc);
  }
  if (entered && setns(own_ns, CLONE_NEWIPC) != 0) { perror("nsref: setns back"); return 1; }
  if (timing) fprintf(stderr, "nsref:  of which /proc/sysvipc/shm %.2f ms, mqueue mounts and queues %.2f ms\n", parts[0], parts[1]);
  return 0;
}

/* The records, each after ",\n  ", and where each namespace's begin and end (`starts`, `ends`,
 * when given): the first record's comma becomes the array's bracket where they are assembled. */
static void write_records(size_t *starts, size_t *ends) {
  time_t now = time(NULL);
  size_t i = 0;
  for (size_t k = 0; k < nns; k++) {
    if (starts) starts[k] = outlen;
    for (; i < nobjects && objects[i].ns == (int)k; i++) {
      PUTS(",\n  ");
      write_record(&objects[i], now);
    }
    if (ends) ends[k] = outlen;
  }
}

static int write_all(const char *text, size_t len) {
  for (size_t done = 0; done < len;) {
    ssize_t n = write(1, text + done, len - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) { perror("nsref: stdout: write"); return 1; }
    done += (size_t)n;
  }
  return 0;
}

/* `out` holds the records as write_records wrote them: made a JSON array and written. */
static int finish_output(void) {
  if (outlen) {
    out[0] = '[';
    PUTS("\n]\n");
  } else {
    PUTS("[]\n");
  }
  phase("json");
  return write_all(out, outlen);
}

static int write_output(void) {
  write_records(NULL, NULL);
  return finish_output();
}

/* ---- -j 2 ---- */
/* What the workers share: a barrier count, whether any found files that can be mapped, every
 * file each process scanned holds (each worker's own area), and the second worker's records
 * with where each namespace's are. */
#define MAX_TRIPLES (1UL << 22)
struct shared {
  int stage, has_files;
  size_t ntriples[2], nout;
  size_t starts[256], ends[256];
};
#define SHARED_SIZE (sizeof(struct shared) + 2 * MAX_TRIPLES * sizeof(struct triple) + (256UL << 20))

static void barrier(struct shared *sh, int stage) {
  __atomic_add_fetch(&sh->stage, 1, __ATOMIC_SEQ_CST);
  while (__atomic_load_n(&sh->stage, __ATOMIC_SEQ_CST) < 2 * stage) sched_yield();
}

static int split(int own_ns) {
  if (nns > 256) { fputs("nsref: -j 2 handles up to 256 namespaces\n", stderr); return 1; }
  struct shared *sh = mmap(NULL, SHARED_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (sh == MAP_FAILED) { perror("nsref: mmap"); return 1; }
  struct triple *areas[2] = {(struct triple *)(sh + 1), (struct triple *)(sh + 1) + MAX_TRIPLES};
  char *text = (char *)(areas[1] + MAX_TRIPLES);
  fflush(NULL);
  pid_t child = fork();
  if (child < 0) { perror("nsref: fork"); return 1; }
  worker = child == 0;
  int failed = read_namespaces(own_ns);
  int files = 0;
  for (size_t i = 0; i < nobjects; i++) files |= objects[i].kind >= PSHM;
  if (files) __atomic_store_n(&sh->has_files, 1, __ATOMIC_SEQ_CST);
  if (!worker) phase("namespaces");
  barrier(sh, 1);
  if (!worker) phase("wait");
  /* Each scans every other process, recording all each holds: the files are both workers'. */
  recording = 1;
  scan_holders(__atomic_load_n(&sh->has_files, __ATOMIC_SEQ_CST));
  if (ntriples > MAX_TRIPLES) { fputs("nsref: too many open files to share\n", stderr); failed = 1; ntriples = 0; }
  memcpy(areas[worker], triples, ntriples * sizeof *triples);
  sh->ntriples[worker] = ntriples;
  if (!worker) phase("holders");
  barrier(sh, 2);
  if (failed) { if (worker) _exit(1); waitpid(child, NULL, 0); return 1; }
  /* Each counts the holders of its own objects: a process's files are together in one area. */
  recording = 0;
  nheld = 0;
  for (size_t i = 0; i < nobjects; i++) {
    if (objects[i].kind < PMSG) continue;
    held = xrealloc(held, (nheld + 1) * sizeof *held);
    held[nheld++] = (struct held){objects[i].dev, objects[i].ino, &objects[i]};
  }
  qsort(held, nheld, sizeof *held, cmp_held);
  for (int w = 0; w < 2; w++)
    for (size_t i = 0; i < sh->ntriples[w]; i++) holds(areas[w][i].pid, areas[w][i].dev, areas[w][i].ino);
  if (!worker) phase("count");
  if (worker) {
    out = text;
    outcap = 256UL << 20;
    outlen = 0;
    out_shared = 1;
    write_records(sh->starts, sh->ends);
    sh->nout = outlen;
    barrier(sh, 3);
    _exit(0);
  }
  size_t starts[256], ends[256];
  write_records(starts, ends);
  barrier(sh, 3);
  /* Namespaces alternate between the workers: their records are interleaved in that order,
   * written from where each worker put them; the first record's comma is the array's bracket. */
  struct iovec iov[2 * 256 + 2];
  int n = 0;
  for (size_t k = 0; k < nns; k++) {
    char *base = k % 2 ? text + sh->starts[k] : out + starts[k];
    size_t len = k % 2 ? sh->ends[k] - sh->starts[k] : ends[k] - starts[k];
    if (len) iov[n++] = (struct iovec){base, len};
  }
  if (n) {
    iov[0].iov_base = (char *)iov[0].iov_base + 1;
    iov[0].iov_len--;
  }
  static char open_bracket[] = "[", close_bracket[] = "\n]\n", empty[] = "[]\n";
  memmove(iov + 1, iov, n * sizeof *iov);
  iov[0] = n ? (struct iovec){open_bracket, 1} : (struct iovec){empty, 3};
  n++;
  if (n > 1) iov[n++] = (struct iovec){close_bracket, 3};
  phase("json");
  int failed_write = 0;
  for (int i = 0; i < n && !failed_write;) {
    ssize_t done = writev(1, iov + i, n - i);
    if (done < 0 && errno == EINTR) continue;
    if (done <= 0) { perror("nsref: stdout: write"); failed_write = 1; break; }
    while (i < n && (size_t)done >= iov[i].iov_len) done -= (ssize_t)iov[i++].iov_len;
    if (i < n) { iov[i].iov_base = (char *)iov[i].iov_base + done; iov[i].iov_len -= (size_t)done; }
  }
  int status;
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status)) {
    fputs("nsref: the second worker failed\n", stderr);
    return 1;
  }
  return failed_write;
}
