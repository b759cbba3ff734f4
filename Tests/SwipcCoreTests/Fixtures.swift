/// Real /proc/sysvipc text, as Linux 6.x and older kernels print it.
enum Fixtures {
  /// Linux 6.x: 14 columns; a key with the high bit set (printed negative), an IPC_PRIVATE queue,
  /// a queue holding messages.
  static let msg = """
           key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime
    -2147483647          0   600          11          2  8890     0     0     0     0     0 1795637821          0 1795637821
             0          1   644           0          0     0     0     0     0     0     0          0          0 1795637821
    -686730981          2   644           0          0     0     0 12345 12345 12345 12345          0          0 1795637821

    """

  /// Linux 6.x: 16 columns with rss and swap; a segment removed while attached (dest, 01000) and
  /// one locked (02000).
  static let shm16 = """
           key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap
          4660          0   640                 65536  8892     0      0     0     0     0     0          0          0 1795637821                     0                     0
             0          1  1600                  4096  8893  8896      1     0     0     0     0 1795637821          0 1795637821                  4096                     0
         22136          2  2666    18446744073692774399     1     1      3  1000  1000     0     0 1795637000 1795637001 1795636000              12288                  8192

    """

  /// Linux 2.6.x before rss/swap: 14 columns.
  static let shm14 = """
           key      shmid perms       size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime
             0      32768   600     524288  1234  1250      2  1000  1000  1000  1000 1300000000 1300000001 1299999999

    """

  /// A variant with rss but no swap: 15 columns.
  static let shm15 = """
           key      shmid perms       size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime        rss
             7          3   600       8192     9    10      0     0     0     0     0          0          0 1300000000       4096

    """

  static let sem = """
           key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime
           119          0   600          3     0     0     0     0          0 1795637821
    1780060805          1   666         10  1000   100  1000   100 1795637900 1795637821

    """
}
