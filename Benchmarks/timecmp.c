/* timecmp: times two commands alternately (A B A B ...) and prints the medians and A/B.
 * Usage: timecmp RUNS LABEL [SETUP] -- COMMAND_A... -- COMMAND_B...
 * SETUP, when given, is a shell command run before every timed run and not timed (for example
 * creating the objects that the commands remove).
 * Each run forks and execs the command with stdout and stderr on /dev/null; the wall-clock time
 * from fork to reaping is measured with CLOCK_MONOTONIC. Alternating cancels drift in machine load
 * between the two; the median discards outliers. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *setup;

static void prepare(void) {
  if (setup && system(setup) != 0) {
    fprintf(stderr, "timecmp: setup failed: %s\n", setup);
    exit(1);
  }
}

static double run(char **argv) {
  prepare();
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execvp(argv[0], argv);
    _exit(127);
  }
  int status;
  waitpid(pid, &status, 0);
  clock_gettime(CLOCK_MONOTONIC, &b);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "timecmp: %s exited with status %d\n", argv[0], WEXITSTATUS(status));
    exit(1);
  }
  return (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
}

static int cmp(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return a < b ? -1 : a > b;
}

int main(int argc, char **argv) {
  if (argc < 6) { fprintf(stderr, "usage: timecmp RUNS LABEL [SETUP] -- A... -- B...\n"); return 2; }
  int runs = atoi(argv[1]);
  const char *label = argv[2];
  int first = 4;
  if (strcmp(argv[3], "--")) { setup = argv[3]; first = 5; }
  char **a = argv + first, **b = NULL;
  for (int i = first; i < argc; i++)
    if (!strcmp(argv[i], "--")) { argv[i] = NULL; b = argv + i + 1; break; }
  if (!b || !*b || runs < 1) { fprintf(stderr, "timecmp: need two commands\n"); return 2; }
  double *ta = calloc(runs, sizeof *ta), *tb = calloc(runs, sizeof *tb);
  for (int w = 0; w < (runs < 10 ? 1 : 3); w++) { run(a); run(b); }  /* warm caches */
  for (int i = 0; i < runs; i++) { ta[i] = run(a); tb[i] = run(b); }
  qsort(ta, runs, sizeof *ta, cmp);
  qsort(tb, runs, sizeof *tb, cmp);
  double ma = ta[runs / 2], mb = tb[runs / 2];
  printf("%-44s %9.2f ms %9.2f ms %7.2fx\n", label, ma, mb, ma / mb);
  return 0;
}
