/* When a thread counts as idle (purge.c, xa__owner_idle_ms): after the purge
 * delay when the threads that ran slow paths within it fit the cores, after
 * that delay times threads per core when they do not. With more running
 * threads than cores a thread that is waiting for a core has no slow path
 * for that long, and a freeing thread must not take it for idle and give
 * its big blocks back for it (they are taken again at once and faulted in:
 * docs/benchmarks.md, "Many threads on few cores"). */
#include "xa_test_os.h"
#include "options.h"
#include "os.h"
#include "purge.h"
#include "xalloc.h"
#include "xa_test.h"
#include <pthread.h>
#include <stdatomic.h>

static atomic_int stop;

static void* busy(void* arg) {
  (void)arg;
  while (!atomic_load(&stop)) {
    void* p = xa_malloc(600 << 10);  /* huge: every one takes the slow path, which reads the clock */
    CHECK(p != NULL);
    xa_free(p);
  }
  return NULL;
}

int main(void) {
  uint64_t delay = (uint64_t)xa__option_get(XA_OPT_PURGE_DELAY);
  CHECK(delay > 0);
  size_t cpus = xa__os_cpu_count();
  CHECK(cpus >= 1);
  /* This thread alone: the delay. */
  xa_free(xa_malloc(600 << 10));
  CHECK_MSG(xa__owner_idle_ms(xa__os_clock_ms() + 2 * delay) == delay, "one thread: %llu",
            (unsigned long long)xa__owner_idle_ms(xa__os_clock_ms()));
  /* Four running threads per core (at most 64). */
  size_t n = cpus * 4 > 64 ? 64 : cpus * 4;
  pthread_t t[64];
  for (size_t i = 0; i < n; i++) CHECK(pthread_create(&t[i], NULL, busy, NULL) == 0);
  uint64_t seen = 0;
  for (int tries = 0; tries < 50 && seen < 2 * delay; tries++) {
    xa__os_sleep_ms(delay + 10);  /* every thread ran within the last delay */
    seen = xa__owner_idle_ms(xa__os_clock_ms());
  }
  atomic_store(&stop, 1);
  for (size_t i = 0; i < n; i++) pthread_join(t[i], NULL);
  CHECK_MSG(seen >= 2 * delay, "%zu threads on %zu cores: idle after %llu ms (delay %llu)", n, cpus,
            (unsigned long long)seen, (unsigned long long)delay);
  CHECK(seen <= delay * (n + 1));
  /* They are gone: back to the delay once the count is a delay old. */
  uint64_t later = 0;
  for (int tries = 0; tries < 50 && later != delay; tries++) {
    xa__os_sleep_ms(delay + 10);
    later = xa__owner_idle_ms(xa__os_clock_ms());
  }
  CHECK_MSG(later == delay, "after the threads ended: %llu", (unsigned long long)later);
  return 0;
}
