/* Memory goes back to the OS: a thread allocates 1 GiB in 64 KiB..1 MiB
 * blocks and frees most of it; after it exited, another thread frees the
 * rest; xa_collect(true) brings the RSS back near where it started. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include "lc_util.h"

#define TOTAL ((size_t)1 << 30)
#define MAXB 20000
static void* blocks[MAXB];
static size_t nblocks;

static size_t rss(void) {
  char buf[128] = {0};
  int fd = open("/proc/self/statm", O_RDONLY);
  CHECK(fd >= 0);
  CHECK(read(fd, buf, sizeof buf - 1) > 0);
  close(fd);
  unsigned long size = 0, res = 0;
  CHECK(sscanf(buf, "%lu %lu", &size, &res) == 2);
  return (size_t)res * (size_t)sysconf(_SC_PAGESIZE);
}

static void* allocator(void* arg) {
  (void)arg;
  size_t total = 0;
  uint32_t s = 12345;
  while (total < TOTAL && nblocks < MAXB) {
    s = s * 1103515245u + 12345u;
    size_t n = ((size_t)64 << 10) + (s >> 8) % (((size_t)1 << 20) - ((size_t)64 << 10));
    void* p = xa_malloc(n);
    CHECK(p != NULL);
    memset(p, 0x11, n);  /* make it resident */
    blocks[nblocks++] = p;
    total += n;
  }
  for (size_t i = 0; i < nblocks; i++) if (i % 4 != 0) { xa_free(blocks[i]); blocks[i] = NULL; }
  return NULL;  /* exits with a quarter live */
}

static void* freer(void* arg) {
  (void)arg;
  for (size_t i = 0; i < nblocks; i++) if (blocks[i] != NULL) xa_free(blocks[i]);
  return NULL;
}

int main(void) {
  size_t start = rss();
  pthread_join(lc_spawn(allocator, NULL), NULL);
  size_t peak = rss();
  CHECK(peak > start + (TOTAL / 8));  /* the test really used memory */
  pthread_join(lc_spawn(freer, NULL), NULL);
  xa_collect(true);
  VALIDATE();
  size_t end = rss();
  fprintf(stderr, "rss: start %zu KiB, peak %zu KiB, after collect %zu KiB\n", start >> 10, peak >> 10, end >> 10);
  CHECK_MSG(end <= start + ((size_t)16 << 20), "RSS after collect %zu KiB, start %zu KiB", end >> 10, start >> 10);
  return 0;
}
