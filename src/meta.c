/* Metadata allocator: fixed-size slots (rounded to 64 bytes) bump-allocated
 * from 32 KiB OS chunks, with one free list per slot size. Used rarely
 * (thread start, heap creation), so a single lock is enough. Chunks are never
 * returned to the OS: thread data must stay readable forever (design.md). */
#include "meta.h"
#include "lock.h"
#include "os.h"
#include <string.h>

/* 32 KiB: about 10 threads' data (tld and original heap) per chunk. Small,
 * because under an address-space limit (RLIMIT_AS) a process's first
 * allocation pays for a whole chunk. */
#define META_CHUNK   ((size_t)32 << 10)
#define META_GRAIN   64
#define META_CLASSES (16384 / META_GRAIN)

typedef struct meta_free_s { struct meta_free_s* next; } meta_free_t;

static xa_lock_t meta_lock = XA_LOCK_INIT;
static meta_free_t* meta_free_lists[META_CLASSES + 1];
static uint8_t* meta_bump;
static size_t meta_bump_left;

void* xa__meta_alloc(size_t size) {
  if (size == 0 || size > 16384) return NULL;
  size_t cls = (size + META_GRAIN - 1) / META_GRAIN;
  size_t bytes = cls * META_GRAIN;
  void* p = NULL;
  xa__lock(&meta_lock);
  if (meta_free_lists[cls] != NULL) {
    meta_free_t* f = meta_free_lists[cls];
    meta_free_lists[cls] = f->next;
    p = f;
  } else {
    if (meta_bump_left < bytes) {
      uint8_t* chunk = xa__os_alloc_aligned(META_CHUNK, xa__os_page_size());
      if (chunk != NULL) {
        meta_bump = chunk;
        meta_bump_left = META_CHUNK;
      }
    }
    if (meta_bump_left >= bytes) {
      p = meta_bump;
      meta_bump += bytes;
      meta_bump_left -= bytes;
    }
  }
  xa__unlock(&meta_lock);
  if (p != NULL) memset(p, 0, bytes);
  return p;
}

void xa__meta_free(void* p, size_t size) {
  if (p == NULL) return;
  size_t cls = (size + META_GRAIN - 1) / META_GRAIN;
  meta_free_t* f = p;
  xa__lock(&meta_lock);
  f->next = meta_free_lists[cls];
  meta_free_lists[cls] = f;
  xa__unlock(&meta_lock);
}

/* Held at the fork: forget the free lists and the chunk being carved (their
 * slots leak; nothing is unmapped) and start from a fresh chunk. */
void xa__meta_fork_child(void) {
  if (!xa__lock_fork_child(&meta_lock)) return;
  memset(meta_free_lists, 0, sizeof(meta_free_lists));
  meta_bump = NULL;
  meta_bump_left = 0;
}
