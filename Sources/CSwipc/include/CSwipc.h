// Umbrella header of the C shim: only what Swift cannot import directly from Glibc.
// Every function is a thin wrapper named swipc_*; errors are reported through errno.
#ifndef CSWIPC_H
#define CSWIPC_H

#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/shm.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <mqueue.h>
#include <fcntl.h>
#include <time.h>
#include <sys/resource.h>
#include <signal.h>

/// The magic number statfs(2) reports for the mqueue filesystem.
#define SWIPC_MQUEUE_MAGIC 0x19800202

// Linux values of constants that the C library defines only under _GNU_SOURCE, which the Glibc
// module is imported without (the same on x86_64 and arm64).
/// open(2): __O_TMPFILE, to be combined with O_DIRECTORY as O_TMPFILE is.
#define SWIPC_O_TMPFILE_BASE 020000000
/// msgrcv(2): the first message not of the given type.
#define SWIPC_MSG_EXCEPT 020000
/// msgrcv(2): copy the message at an index without removing it.
#define SWIPC_MSG_COPY 040000

// semctl(2) is variadic and takes `union semun`, which callers must define themselves.
int swipc_semctl_stat(int semid, struct semid_ds *buf);
int swipc_semctl_set(int semid, const struct semid_ds *buf);
int swipc_semctl_rmid(int semid);
int swipc_semctl_cmd(int semid, int semnum, int cmd);
int swipc_semctl_setall(int semid, const unsigned short *values);
int swipc_semctl_setval(int semid, int semnum, int value);
/// semtimedop(2), declared by glibc only under _GNU_SOURCE; `timeout` NULL waits for ever.
int swipc_semtimedop(int semid, struct sembuf *ops, size_t nops, const struct timespec *timeout);

/// What the kernel counts for this IPC namespace (ipcs -u): MSG_INFO, SHM_INFO and SEM_INFO.
/// A field is -1 when its call failed.
struct swipc_ipc_usage {
  long msg_queues, msg_headers, msg_bytes;
  long shm_segments, shm_pages, shm_rss_pages, shm_swap_pages;
  long sem_sets, sem_semaphores;
};
void swipc_ipc_usage(struct swipc_ipc_usage *usage);

// Signals for blocking calls. The handlers only record the signal: they are installed without
// SA_RESTART so that msgrcv, msgsnd, semop and mq_* return EINTR, and the caller decides.
// SIGHUP and SIGQUIT count as interrupts like SIGINT and SIGTERM: a hung-up terminal or a
// Ctrl-\ must not leave a semaphore taken, a segment attached or a socket file behind.
/// Installs the handlers for SIGINT, SIGTERM, SIGHUP, SIGQUIT and SIGALRM (once).
void swipc_install_wait_handlers(void);
/// The interrupt signals: SIGINT, SIGTERM, SIGHUP and SIGQUIT.
void swipc_interrupt_signals(sigset_t *set);
/// The last SIGINT, SIGTERM, SIGHUP or SIGQUIT received since the handlers were installed, or 0.
int swipc_interrupt_signal(void);
/// Sleeps until an interrupt signal arrives (sigsuspend, no polling) and returns it.
int swipc_wait_for_interrupt(void);
/// Before exec: returns the interrupt already received, or 0 after giving the handled interrupt
/// signals back their default action, so that one arriving from then on acts on the process (and
/// on the command it becomes) instead of being recorded and lost.
int swipc_prepare_exec(void);
/// Also records SIGCHLD (no SA_RESTART), so that a blocking call returns EINTR when a child
/// exits: `swipc bench` notices a dead peer. And asks for SIGTERM when the parent dies
/// (PR_SET_PDEATHSIG) when `orphan_signal` is set: the peer follows a parent that is gone.
void swipc_install_bench_handlers(int orphan_signal);
/// pipe2(fds, O_CLOEXEC), declared by glibc only under _GNU_SOURCE.
int swipc_pipe_cloexec(int fds[2]);
/// Whether a SIGCHLD arrived since the bench handlers were installed.
int swipc_child_exited(void);
/// Forgets an earlier SIGCHLD (the previous peer's), before a new peer starts.
void swipc_reset_child_exited(void);
/// sched_setaffinity of this process to one CPU; -1 on failure.
int swipc_pin_to_cpu(int cpu);
/// The CPUs this process may run on (sched_getaffinity), at most `capacity` of them, in `cpus`.
int swipc_usable_cpus(int *cpus, int capacity);
/// In a statically linked swipc, limits user and group lookups to /etc/passwd and /etc/group
/// (NSS "files"): glibc cannot load its NSS modules into a static executable (libnss_systemd, which
/// Debian's nsswitch.conf names, crashes there on every name it does not know). Returns 1 when it
/// did so, 0 in a dynamically linked swipc, whose lookups use every source nsswitch.conf names.
int swipc_restrict_nss_if_static(void);
/// Atomic load (acquire) and store (release) of a 32-bit word in shared memory, for shm-spin.
static inline unsigned swipc_atomic_load(const volatile unsigned *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void swipc_atomic_store(volatile unsigned *p, unsigned v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
/// Sequentially consistent load and store, for the shm-futex ring: a side stores "I sleep" (or
/// its index) and then loads the other side's index (or flag); with both seq_cst, at least one of
/// the two sees the other's store, so no wake-up is lost.
static inline unsigned swipc_atomic_load_sc(const volatile unsigned *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static inline void swipc_atomic_store_sc(volatile unsigned *p, unsigned v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
/// FUTEX_WAIT on a word in shared memory (not FUTEX_PRIVATE: the sleeper and the waker are two
/// processes): sleeps while `*p == expected`; 0, or -1 with errno (EAGAIN, EINTR).
int swipc_futex_wait(volatile unsigned *p, unsigned expected);
/// FUTEX_WAKE of one sleeper on `p`.
void swipc_futex_wake(volatile unsigned *p);
static inline void swipc_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
// Pipes and unix sockets (streams.c).
/// tee(2): duplicates up to `length` bytes at the head of pipe `from` into pipe `to` without
/// consuming them (SPLICE_F_NONBLOCK when `nonblocking`).
long swipc_tee(int from, int to, unsigned long length, int nonblocking);
/// fcntl(F_GETPIPE_SZ): how many bytes a pipe holds.
int swipc_pipe_capacity(int fd);
/// fcntl(F_SETPIPE_SZ): makes a pipe hold `bytes` (rounded up to pages); the new size or -1.
int swipc_set_pipe_capacity(int fd, int bytes);
/// O_PATH, which <fcntl.h> defines only under _GNU_SOURCE (Linux's value).
#define SWIPC_O_PATH 010000000
/// pipe2(fds, O_CLOEXEC | O_NONBLOCK).
int swipc_pipe_nonblocking(int fds[2]);
// sock_diag netlink (what `ss -x` reads): the request and reply layouts and constants.
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

#endif
}

/// Arms ITIMER_REAL: first after `first_us`, then every `every_us` until disarmed (0, 0).
void swipc_set_alarm(long first_us, long every_us);

// sem_open(3) is variadic.
#include <semaphore.h>
sem_t *swipc_sem_open(const char *name, int oflag, mode_t mode, unsigned int value);

// A POSIX semaphore changed by N units in one step, through glibc's 64-bit sem_t layout (value
// in the low 32 bits of a 64-bit word, waiters in the high 32 bits, changed by compare-and-swap).
/// 1 when this C library's sem_t has that layout (checked once on a private semaphore) and `s`
/// is process-shared, else 0.
int swipc_psem_layout_known(sem_t *s);
/// Lowers the value by `n` when it is at least `n`; else -1 with EAGAIN and nothing changed.
int swipc_psem_take(sem_t *s, unsigned n);
/// Raises the value by `n` and wakes the waiters; -1 with EOVERFLOW (nothing changed) when the
/// value would pass SEM_VALUE_MAX.
int swipc_psem_give(sem_t *s, unsigned n);
/// Sets the value and wakes the waiters; -1 with EINVAL above SEM_VALUE_MAX.
int swipc_psem_set(sem_t *s, unsigned value);
/// Counts this process as a waiter, so that sem_post wakes it (as sem_wait does); undo with
/// swipc_psem_remove_waiter.
void swipc_psem_add_waiter(sem_t *s);
void swipc_psem_remove_waiter(sem_t *s);
/// While counted as a waiter: sleeps (futex) until the value is at least `n`, then lowers it by
/// `n` and returns 0; -1 with EINTR on a signal, ETIMEDOUT after `timeout` (relative, may be NULL).
int swipc_psem_wait_registered(sem_t *s, unsigned n, const struct timespec *timeout);

// mq_open(3) is variadic.
mqd_t swipc_mq_open(const char *name, int oflag, mode_t mode, const struct mq_attr *attr);

// Sockets: what glibc declares only under _GNU_SOURCE (accept4, struct ucred, SCM_CREDENTIALS).
#include <sys/socket.h>
/// accept4 with SOCK_CLOEXEC | SOCK_NONBLOCK.
int swipc_accept(int fd);
/// SO_PEERCRED of a connected unix socket.
int swipc_peer_credentials(int fd, int *pid, unsigned *uid, unsigned *gid);
/// recvmsg of one datagram with its sender's address and, where SO_PASSCRED is on, its
/// SCM_CREDENTIALS (pid stays -1 when none came).
long swipc_receive_datagram(int fd, void *buffer, unsigned long capacity, struct sockaddr_storage *from,
                            socklen_t *from_length, int *pid, unsigned *uid, unsigned *gid);

// The ipc_perm field whose name differs between C libraries.
key_t swipc_ipc_perm_key(const struct ipc_perm *perm);

// The semctl commands, which Swift does not import from <sys/sem.h>.
static inline int swipc_getval(void) { return GETVAL; }
static inline int swipc_getpid(void) { return GETPID; }
static inline int swipc_getncnt(void) { return GETNCNT; }
static inline int swipc_getzcnt(void) { return GETZCNT; }
// The *_STAT_ANY commands (Linux 4.17) read an object by index without a permission check.
/// The highest used index of each kind (MSG_INFO, SEM_INFO return it), or -1.
int swipc_msg_max_index(void);
int swipc_sem_max_index(void);
int swipc_shm_max_index(void);
int swipc_msg_stat_any(void);
int swipc_shm_stat_any(void);
int swipc_semctl_stat_any(int index, struct semid_ds *buf);

/// getrlimit(RLIMIT_MSGQUEUE): the bytes of POSIX queues one user may hold.
static inline int swipc_getrlimit_msgqueue(struct rlimit *rl) { return getrlimit(RLIMIT_MSGQUEUE, rl); }

// Pipes and unix sockets (streams.c).
/// tee(2): duplicates up to `length` bytes at the head of pipe `from` into pipe `to` without
/// consuming them (SPLICE_F_NONBLOCK when `nonblocking`).
long swipc_tee(int from, int to, unsigned long length, int nonblocking);
/// fcntl(F_GETPIPE_SZ): how many bytes a pipe holds.
int swipc_pipe_capacity(int fd);
/// fcntl(F_SETPIPE_SZ): makes a pipe hold `bytes` (rounded up to pages); the new size or -1.
int swipc_set_pipe_capacity(int fd, int bytes);
/// O_PATH, which <fcntl.h> defines only under _GNU_SOURCE (Linux's value).
#define SWIPC_O_PATH 010000000
/// pipe2(fds, O_CLOEXEC | O_NONBLOCK).
int swipc_pipe_nonblocking(int fds[2]);
// sock_diag netlink (what `ss -x` reads): the request and reply layouts and constants.
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

/// Whether threads `a` and `b` share one table of file descriptors (kcmp KCMP_FILES): 0 when
/// they do, any other value (also an error, such as a kernel without kcmp) when that is not known.
int swipc_same_files(int a, int b);
/// getdents64(2), which glibc declares only under _GNU_SOURCE: directory entries without the
/// fstat that opendir makes.
long swipc_getdents64(int fd, void *buffer, unsigned long size);

// Other IPC namespaces (namespaces.c).
/// setns(fd, CLONE_NEWIPC) for the calling thread only.
int swipc_setns_ipc(int fd);
/// A private, detached instance of the calling thread's IPC namespace's mqueue filesystem
/// (fsopen, fsmount; nothing is mounted anywhere): a readable directory descriptor, or -1.
int swipc_open_mqueue_instance(void);
/// Starts the thread `swipc_close_later` hands descriptors to. A thread is made in the IPC
/// namespace of the thread that makes it: call this on a thread in swipc's own.
void swipc_start_closing_thread(void);
/// Closes `fd` on that thread, and returns at once: the close of a detached mount's descriptor
/// unmounts it and waits for an RCU grace period (about 70 µs), which a listing of many
/// namespaces would otherwise wait out once per namespace. Closes at once when the thread was
/// not started, when 64 wait, or when `fd` is numbered a quarter of the descriptor limit or more
/// (so that those waiting never leave a listing short of descriptors). Only for a descriptor
/// nothing else will close or use.
void swipc_close_later(int fd);
/// openat2 of `path` with `root` as the root directory (RESOLVE_IN_ROOT, no magic links), so that
/// a symlink under another root resolves inside it.
int swipc_open_beneath_root(int root, const char *path, int flags);
/// The CLONE_NEW* type of the namespace file `fd` (ioctl NS_GET_NSTYPE), or -1.
int swipc_namespace_type(int fd);
/// A descriptor of the user namespace that owns the namespace `fd` (ioctl NS_GET_USERNS).
int swipc_namespace_owner(int fd);
/// CLONE_NEWIPC, which Swift does not import from <sched.h>.
#define SWIPC_CLONE_NEWIPC 0x08000000

#endif
