/* Address map of our segments (see segmap.h).
 *
 * Readers that inspect a segment they do not own (xa_heap_contains,
 * xa_usable_size of a foreign-looking pointer, the checker) bracket the
 * lookup with read_begin/read_end. Removal clears the bits and then waits
 * until no reader is active; with sequentially consistent operations on both
 * sides either the reader sees the cleared bit or the remover sees the reader
 * and waits, so no header is read after munmap. */
#include "segmap.h"
#include "os.h"

_Atomic(uint64_t) xa__segmap_start[XA_SEGMAP_WORDS];
static _Atomic(uint64_t) segmap_inside[XA_SEGMAP_WORDS];
static _Atomic(size_t) segmap_readers;

static void bits_set(_Atomic(uint64_t)* map, size_t chunk, bool on) {
  uint64_t bit = (uint64_t)1 << (chunk % 64);
  if (on) atomic_fetch_or(&map[chunk / 64], bit);
  else atomic_fetch_and(&map[chunk / 64], ~bit);
}

static bool bit_get(_Atomic(uint64_t)* map, size_t chunk) {
  return (atomic_load(&map[chunk / 64]) >> (chunk % 64)) & 1;
}

bool xa__segmap_add(uintptr_t base, size_t size) {
  size_t first = base >> XA_SEGMENT_SHIFT;
  size_t count = (size + XA_SEGMENT_SIZE - 1) >> XA_SEGMENT_SHIFT;
  if (first + count > XA_SEGMAP_CHUNKS || first + count < first) return false;
  for (size_t i = 0; i < count; i++) bits_set(segmap_inside, first + i, true);
  bits_set(xa__segmap_start, first, true);
  return true;
}

void xa__segmap_remove(uintptr_t base, size_t size) {
  size_t first = base >> XA_SEGMENT_SHIFT;
  size_t count = (size + XA_SEGMENT_SIZE - 1) >> XA_SEGMENT_SHIFT;
  bits_set(xa__segmap_start, first, false);
  for (size_t i = 0; i < count; i++) bits_set(segmap_inside, first + i, false);
  while (atomic_load(&segmap_readers) != 0) xa__os_yield();
}

uintptr_t xa__segmap_find(const void* p) {
  size_t chunk = (uintptr_t)p >> XA_SEGMENT_SHIFT;
  if (chunk >= XA_SEGMAP_CHUNKS || !bit_get(segmap_inside, chunk)) return 0;
  /* Walk back to the chunk that starts the segment (huge segments span many). */
  for (;;) {
    if (bit_get(xa__segmap_start, chunk)) return (uintptr_t)chunk << XA_SEGMENT_SHIFT;
    if (chunk == 0 || !bit_get(segmap_inside, chunk - 1)) return 0;
    chunk--;
  }
}

void xa__segmap_read_begin(void) { atomic_fetch_add(&segmap_readers, 1); }
void xa__segmap_read_end(void) { atomic_fetch_sub(&segmap_readers, 1); }
void xa__segmap_fork_child(void) { atomic_store(&segmap_readers, 0); }
