/* The arena (arena.h). Reserved lazily on the first segment request: the
 * largest of 64, 16, 4 or 1 GiB the system grants (address space only; a
 * PROT_NONE reservation costs no memory), none under an address-space limit,
 * or the size the arena_reserve option gives. Chunks are handed out lowest
 * address first so the used part stays compact; the readable prefix grows
 * in 4 MiB steps and never shrinks. */
#include "arena.h"
#include "lock.h"
#include "options.h"
#include "os.h"
#include "track.h"

#define ARENA_MAX_CHUNKS ((size_t)64 << (30 - XA_SEGMENT_SHIFT))  /* 64 GiB */

_Atomic(uintptr_t) xa__arena_base;
_Atomic(size_t) xa__arena_readable;

static xa_lock_t arena_lock = XA_LOCK_INIT;
static bool arena_tried;
static size_t arena_chunks;           /* chunks reserved */
static size_t arena_readable_chunks;  /* chunks made readable (prefix) */
static uint64_t arena_used[ARENA_MAX_CHUNKS / 64];
static uint64_t arena_zero[ARENA_MAX_CHUNKS / 64];  /* readable chunk known to read as zero */
static bool arena_closed;  /* fork child whose parent forked inside arena_lock */

/* How much to reserve (XA_OPT_ARENA_RESERVE): -1 (automatic) is 64 GiB,
 * or less if the system refuses, unless the process has an address-space
 * limit (RLIMIT_AS): a reservation counts against it in full although it
 * costs no memory, so there is none then and segments are mapped one by
 * one. An explicit size is rounded up to 4 MiB (at most 64 GiB) and tried as
 * it is; 0 means none. */
static void arena_reserve(void) {
  arena_tried = true;
  int64_t opt = xa__option_get(XA_OPT_ARENA_RESERVE);
  size_t most = ARENA_MAX_CHUNKS, least = (size_t)1 << (30 - XA_SEGMENT_SHIFT);
  if (opt < 0 && xa__os_address_space_limited()) {
    xa__verbose("address space limited (RLIMIT_AS): segments are mapped one by one; arena MiB:", 0);
    return;
  }
  if (opt == 0) {
    xa__verbose("arena_reserve is 0: segments are mapped one by one; arena MiB:", 0);
    return;
  }
  if (opt > 0) {
    uint64_t chunks = ((uint64_t)opt + XA_SEGMENT_SIZE - 1) >> XA_SEGMENT_SHIFT;
    most = least = chunks < ARENA_MAX_CHUNKS ? (size_t)chunks : ARENA_MAX_CHUNKS;
  }
  for (size_t chunks = most; chunks >= least; chunks /= 4) {
    void* base = xa__os_reserve(chunks << XA_SEGMENT_SHIFT, XA_SEGMENT_SIZE);
    if (base != NULL) {
      atomic_store_explicit(&xa__arena_base, (uintptr_t)base, memory_order_relaxed);
      arena_chunks = chunks;
      xa__verbose("arena reserved, MiB:", (uintptr_t)(chunks << XA_SEGMENT_SHIFT) >> 20);
      return;
    }
  }
  xa__verbose("no arena could be reserved; segments are mapped one by one, MiB tried down to:",
              (uintptr_t)(least << XA_SEGMENT_SHIFT) >> 20);
}

static uintptr_t arena_base(void) { return atomic_load_explicit(&xa__arena_base, memory_order_relaxed); }

static bool bit(const uint64_t* map, size_t i) { return (map[i / 64] >> (i % 64)) & 1; }
static void bit_put(uint64_t* map, size_t i, bool on) {
  if (on) map[i / 64] |= (uint64_t)1 << (i % 64);
  else map[i / 64] &= ~((uint64_t)1 << (i % 64));
}

void* xa__arena_segment_alloc(bool* zeroed) {
  void* seg = NULL;
  xa__lock(&arena_lock);
  if (arena_closed) {
    xa__unlock(&arena_lock);
    return NULL;
  }
  if (!arena_tried) arena_reserve();
  size_t i = 0;
  for (; i < arena_readable_chunks; i++) {
    if (arena_used[i / 64] == ~(uint64_t)0) { i += 63; continue; }
    if (!bit(arena_used, i)) break;
  }
  if (i >= arena_readable_chunks && arena_readable_chunks < arena_chunks) {
    i = arena_readable_chunks;
    if (xa__os_make_usable((void*)(arena_base() + (i << XA_SEGMENT_SHIFT)), XA_SEGMENT_SIZE)) {
      arena_readable_chunks++;
      bit_put(arena_zero, i, true);
      atomic_store_explicit(&xa__arena_readable, arena_readable_chunks << XA_SEGMENT_SHIFT,
                            memory_order_release);
    } else {
      i = arena_chunks;  /* cannot grow: fall back to plain mappings */
    }
  }
  if (i < arena_readable_chunks) {
    bit_put(arena_used, i, true);
    *zeroed = bit(arena_zero, i);
    bit_put(arena_zero, i, false);
    seg = (void*)(arena_base() + (i << XA_SEGMENT_SHIFT));
  }
  xa__unlock(&arena_lock);
  return seg;
}

bool xa__arena_segment_free(void* seg) {
  if (!xa__in_arena(seg)) return false;
  size_t i = ((uintptr_t)seg - arena_base()) >> XA_SEGMENT_SHIFT;
  /* Purge outside the lock: the chunk is still marked used. */
  xa__track_quiet_begin();  /* the purge writes a marker into freed memory (os.h) */
  bool zero = xa__os_purge(seg, XA_SEGMENT_SIZE);
  xa__track_quiet_end();
  xa__lock(&arena_lock);
  if (!arena_closed) bit_put(arena_used, i, false);
  bit_put(arena_zero, i, zero);
  xa__unlock(&arena_lock);
  return true;
}

/* Held at the fork: the bitmaps may be half updated. Hand out no more
 * segments from the arena (new ones are mapped one by one); segments given
 * back are purged but not marked free (they leak). The readable prefix the
 * free path trusts is what was made usable: chunks below
 * arena_readable_chunks were made usable before it was counted. */
void xa__arena_fork_child(void) {
  if (!xa__lock_fork_child(&arena_lock)) return;
  arena_closed = true;
  atomic_store_explicit(&xa__arena_readable, arena_readable_chunks << XA_SEGMENT_SHIFT, memory_order_release);
}

size_t xa__arena_reserved(void) {
  xa__lock(&arena_lock);
  size_t bytes = arena_chunks << XA_SEGMENT_SHIFT;
  xa__unlock(&arena_lock);
  return bytes;
}
