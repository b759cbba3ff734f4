/* msgref: the C reference for `swipc msg send --lines`: the same loop with no tool around it.
 *   msgref send ID        one message (type 1) per line of stdin, without the newline
 *   msgref drain ID N     receive N messages and discard them
 * Both block when the queue is full or empty, as swipc does without --nowait. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: msgref send ID | msgref drain ID N\n"); return 2; }
  int id = atoi(argv[2]);
  static struct { long type; char text[8192]; } m;
  if (!strcmp(argv[1], "send")) {
    static char buf[1 << 16];
    setvbuf(stdin, buf, _IOFBF, sizeof buf);
    m.type = 1;
    while (fgets(m.text, sizeof m.text, stdin)) {
      size_t n = strlen(m.text);
      if (n && m.text[n - 1] == '\n') n--;
      if (msgsnd(id, &m, n, 0) < 0) { perror("msgsnd"); return 1; }
    }
    return 0;
  }
  long count = argc > 3 ? atol(argv[3]) : 0;
  for (long i = 0; i < count; i++)
    if (msgrcv(id, &m, sizeof m.text, 0, 0) < 0) { perror("msgrcv"); return 1; }
  return 0;
}
