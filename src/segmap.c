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

_Atomic(xa_segmap_leaf_t*) xa__segmap_leaves[XA_SEGMAP_LEAVES];
static _Atomic(size_t) segmap_readers;

/* The leaf of chunk, mapped (zeroed) on first use; NULL if the OS refuses. */
static xa_segmap_leaf_t* leaf_get(size_t chunk) {
  _Atomic(xa_segmap_leaf_t*)* slot = &xa__segmap_leaves[chunk >> XA_SEGMAP_LEAF_SHIFT];
  xa_segmap_leaf_t* leaf = atomic_load_explicit(slot, memory_order_acquire);
  if (leaf != NULL) return leaf;
  xa_segmap_leaf_t* fresh = xa__os_alloc_aligned(sizeof(xa_segmap_leaf_t), xa__os_page_size());
  if (fresh == NULL) return NULL;
  if (!atomic_compare_exchange_strong_explicit(slot, &leaf, fresh, memory_order_acq_rel, memory_order_acquire)) {
    xa__os_free(fresh, sizeof(xa_segmap_leaf_t));  /* another thread was first */
    return leaf;
  }
  return fresh;
}

/* Chunks of a registered segment: their leaf exists. */
static _Atomic(uint64_t)* word_of(bool start, size_t chunk) {
  xa_segmap_leaf_t* leaf = atomic_load_explicit(&xa__segmap_leaves[chunk >> XA_SEGMAP_LEAF_SHIFT], memory_order_acquire);
  if (leaf == NULL) return NULL;
  size_t i = (chunk & (XA_SEGMAP_LEAF_CHUNKS - 1)) / 64;
  return start ? &leaf->start[i] : &leaf->inside[i];
}

static void bits_set(bool start, size_t chunk, bool on) {
  _Atomic(uint64_t)* w = word_of(start, chunk);
  uint64_t bit = (uint64_t)1 << (chunk % 64);
  if (w == NULL) return;
  if (on) atomic_fetch_or(w, bit);
  else atomic_fetch_and(w, ~bit);
}

static bool bit_get(bool start, size_t chunk) {
  _Atomic(uint64_t)* w = word_of(start, chunk);
  return w != NULL && ((atomic_load(w) >> (chunk % 64)) & 1);
}

bool xa__segmap_add(uintptr_t base, size_t size) {
  size_t first = base >> XA_SEGMENT_SHIFT;
  size_t count = (size + XA_SEGMENT_SIZE - 1) >> XA_SEGMENT_SHIFT;
  if (first + count > XA_SEGMAP_CHUNKS || first + count < first) return false;
  for (size_t c = first; c < first + count; c = (c | (XA_SEGMAP_LEAF_CHUNKS - 1)) + 1) {
    if (leaf_get(c) == NULL) return false;
  }
  for (size_t i = 0; i < count; i++) bits_set(false, first + i, true);
  bits_set(true, first, true);
  return true;
}

void xa__segmap_remove(uintptr_t base, size_t size) {
  size_t first = base >> XA_SEGMENT_SHIFT;
  size_t count = (size + XA_SEGMENT_SIZE - 1) >> XA_SEGMENT_SHIFT;
  bits_set(true, first, false);
  for (size_t i = 0; i < count; i++) bits_set(false, first + i, false);
  while (atomic_load(&segmap_readers) != 0) xa__os_yield();
}

void xa__segmap_shrink(uintptr_t base, size_t old_size, size_t new_size) {
  size_t first = base >> XA_SEGMENT_SHIFT;
  size_t keep = (new_size + XA_SEGMENT_SIZE - 1) >> XA_SEGMENT_SHIFT;
  size_t count = (old_size + XA_SEGMENT_SIZE - 1) >> XA_SEGMENT_SHIFT;
  for (size_t i = keep; i < count; i++) bits_set(false, first + i, false);
}

uintptr_t xa__segmap_find(const void* p) {
  size_t chunk = (uintptr_t)p >> XA_SEGMENT_SHIFT;
  if (chunk >= XA_SEGMAP_CHUNKS || !bit_get(false, chunk)) return 0;
  /* Walk back to the chunk that starts the segment (huge segments span many). */
  for (;;) {
    if (bit_get(true, chunk)) return (uintptr_t)chunk << XA_SEGMENT_SHIFT;
    if (chunk == 0 || !bit_get(false, chunk - 1)) return 0;
    chunk--;
  }
}

void xa__segmap_read_begin(void) { atomic_fetch_add(&segmap_readers, 1); }
void xa__segmap_read_end(void) { atomic_fetch_sub(&segmap_readers, 1); }
void xa__segmap_fork_child(void) { atomic_store(&segmap_readers, 0); }
