/* The structures every module shares. Who may read and write each field is
 * stated next to it; docs/design.md explains the rules. */
#ifndef XA_TYPES_H
#define XA_TYPES_H

#include "config.h"
#include "lock.h"
#include <stdatomic.h>

/* A free block: its list link, and XA_FREED_MARK in its second word. Every
 * allocation path clears the mark before handing the block out, so a free
 * that finds it set is (almost surely) a double free; free checks before it
 * believes it (free.c). This is why no block is smaller than 16 bytes. */
typedef struct xa_block_s {
  struct xa_block_s* next;
  uintptr_t freed;
} xa_block_t;

/* Fits a sign-extended 32-bit immediate: one compare and one store on x86-64.
 * The secure build's mark is secret (secure.h, which every user includes). */
#if !XA_SECURE
#define XA_FREED_MARK ((uintptr_t)0xFFFFFFFFB10CF7EEull)
#endif
/* Second word of a block while an inbox drain holds it (free.c): a block
 * met twice in one drain is a cycle in a damaged list. */
#define XA_DRAIN_MARK ((uintptr_t)0xFFFFFFFFB10CD7A1ull)

typedef enum xa_kind_e {
  XA_KIND_SMALL = 0,   /* 64 pages of 64 KiB */
  XA_KIND_MEDIUM = 1,  /* 8 pages of 512 KiB */
  XA_KIND_LARGE = 2,   /* 1 page filling the segment */
  XA_KIND_HUGE = 3,    /* 1 page, 1 block, segment sized to the block */
} xa_kind_t;

/* page->flags: any bit set sends a local free to the slow path. */
#define XA_PF_UNQUEUED  1u  /* page is not in its bin queue (full, adopted) or is huge */
#define XA_PF_ALIGNED   2u  /* page handed out interior (aligned) pointers */
#define XA_PF_CORRUPT   4u  /* a free list of the page was found damaged: never allocated from again */
#define XA_PF_SAMPLED   8u  /* the heap profile may hold a block of the page (prof.c): frees look it up */
#define XA_PF_BIG      16u  /* blocks of XA_BIG_BLOCK or more: frees stamp them (heap.c, "Big blocks") */

/* page->xthread_free low bit: the owner wants the next cross-thread free to
 * be delivered through its inbox (the page sits in a full queue). */
#define XA_XF_NOTIFY    ((uintptr_t)1)

/* Queue ids beyond the bins. */
#define XA_QUEUE_FULL     XA_BIN_COUNT
#define XA_QUEUE_ADOPTED  (XA_BIN_COUNT + 1)
#define XA_QUEUE_COUNT    (XA_BIN_COUNT + 2)

struct xa_heap_s;
struct xa_tld_s;

typedef struct xa_page_s {
  xa_block_t* free;              /* owner: blocks to allocate from */
  uint32_t used;                 /* owner: blocks handed out and not yet taken back */
  _Atomic(uint8_t) flags;        /* owner writes; freers read XA_PF_ALIGNED (relaxed) */
  uint8_t in_use;                /* owner: allocated from its segment */
  uint8_t queue;                 /* owner: bin or XA_QUEUE_* it is linked in */
  uint8_t dirty;                 /* owner, under tld->lock while free: memory touched, not purged */
  uint32_t capacity;             /* owner: blocks carved into free lists so far */
  uint32_t reserved;             /* set while no block is live: blocks that fit */
  size_t block_size;             /* set while no block is live; read by freers */
  uint8_t* start;                /* set while no block is live: first block */
  xa_block_t* local_free;        /* owner: blocks the owner freed */
  _Atomic(uintptr_t) xthread_free; /* any thread pushes; owner takes; bit 0 = NOTIFY */
  struct xa_heap_s* heap;        /* owner: heap the page belongs to (NULL when abandoned) */
  struct xa_page_s* next;        /* owner: queue links */
  struct xa_page_s* prev;
  uint64_t purge_at;             /* free and dirty (tld->lock): clock (ms) from which it may be purged */
  /* Block geometry, set with block_size and, like it, read by freers
   * (page.h): p is the start of block i iff
   * rotr((p - start) * block_inv, block_shift) == i. */
  uint64_t block_inv;            /* inverse of block_size's odd part, mod 2^64 */
  uint64_t local_limit;          /* owner: capacity while flags == 0, else 0 (local free fast path) */
  uint8_t block_shift;           /* trailing zero bits of block_size */
  /* owner: the only page of its bin queue, kept when it last emptied
   * (heap.c): a free that empties it again has nothing to decide. Cleared
   * when another page joins the queue or this one leaves it. */
  uint8_t kept_alone;
  /* The counts below fit 16 bits: a page holds at most 4096 blocks (64 KiB
   * of 16-byte blocks), so that the descriptor stays at 120 bytes and 64 of
   * them fit the segment header. */
  /* Heap profile (prof.c). prof_live: sampled blocks of the page in the
   * profile; the owner adds, any freer of such a block subtracts before its
   * push. prof_run: owner, while profiling: blocks on `free` when the
   * profiling slow path last set it (the fast path may pop only those).
   * prof_mask: bit i % 64 set for a sampled block i (owner sets; cleared
   * with prof_live at 0), so that most frees of such a page need no look-up. */
  _Atomic(uint16_t) prof_live;
  uint16_t stat_used;            /* whoever syncs its statistics (stats.h): used at the last sync */
  uint16_t prof_run;
  union {
    _Atomic(uint64_t) prof_mask;
    /* The secure build has no heap profile (options.c) and keeps here,
     * set with block_size, the secret key of the page's links (secure.h). */
    uintptr_t key;
  };
} xa_page_t;

typedef struct xa_segment_s {
  _Atomic(uintptr_t) owner;      /* owning tld, or 0 while abandoned; read by every freer */
  size_t page_shift;             /* immutable after creation */
  size_t size;                   /* mapped bytes; set by the creator, and by a huge
                                    segment's owner while it resizes it (realloc;
                                    readers in other threads load it atomically) */
  xa_kind_t kind;                /* immutable */
  uint32_t page_count;           /* immutable */
  uint32_t used_pages;           /* owner */
  struct xa_segment_s* all_next; /* owner: tld's list of all its segments */
  struct xa_segment_s* all_prev;
  struct xa_segment_s* free_next; /* owner: tld's list of segments with free pages */
  struct xa_segment_s* free_prev;
  uint8_t in_free_list;          /* owner */
#if XA_SECURE
  uint8_t unguarded;             /* owner: huge, its end guard could not be set (segment.c) */
  size_t tail;                   /* owner: huge, inaccessible bytes that end the mapping: the
                                    guard page and room kept for growth (segment.c) */
#endif
  struct xa_segment_s* abandoned_next; /* abandoned-list lock */
  uint64_t abandoned_at;         /* abandoned-list lock: clock (ms) when abandoned */
  _Atomic(size_t) committed;     /* bytes of it counted as committed (limit.h); see segment.c */
  xa_page_t pages[];             /* page_count descriptors */
} xa_segment_t;

typedef struct xa_page_queue_s {
  xa_page_t* first;
  xa_page_t* last;
} xa_page_queue_t;

struct xa_heap_s {
  xa_page_t* direct[XA_DIRECT_COUNT]; /* (size+7)/8 -> page to allocate from (fast path) */
  xa_page_t* direct_mid[XA_MID_COUNT]; /* (size-1)/128 -> the same, for XA_DIRECT_MAX < size <= XA_MID_MAX */
  struct xa_tld_s* tld;               /* owning thread; NULL only for the empty heap */
  xa_page_queue_t queues[XA_QUEUE_COUNT];
  struct xa_heap_s* next;             /* tld's list of heaps */
  size_t page_count;
  bool is_original;
};
typedef struct xa_heap_s xa_heap_t;

/* Statistics a thread keeps (stats.h): written only by whoever acts as the
 * tld's owner, with relaxed loads and stores (no read-modify-write); any
 * thread may read them to merge. Per size class: pages in use, their block
 * slots, and the live blocks and bytes as of each page's last sync. */
typedef struct xa_bin_stats_s {
  _Atomic(int64_t) pages, slots, blocks, bytes;
} xa_bin_stats_t;

typedef struct xa_tld_stats_s {
  _Atomic(int64_t) allocated;    /* bytes that became live at page syncs */
  _Atomic(int64_t) freed;        /* bytes that stopped being live at page syncs */
  _Atomic(int64_t) xthread_frees;/* frees this thread made of other threads' blocks */
  _Atomic(int64_t) huge_allocs;  /* huge blocks allocated */
  xa_bin_stats_t bins[XA_BIN_COUNT];
} xa_tld_stats_t;

typedef struct xa_tld_s {
  /* Owner, or a purging thread under `lock`: the segment list, the cache and
   * the state of free pages (in_use, dirty, purge_at). The owner takes it
   * only on segment-level slow paths; others only try it. */
  xa_lock_t lock;
  xa_heap_t* heap_original;      /* the thread's first heap; never deleted while it runs */
  xa_heap_t* heap_default;       /* mirrors the TLS default-heap pointer */
  xa_heap_t* heaps;              /* all heaps of this thread, original included */
  xa_segment_t* segments;        /* all segments this thread owns */
  xa_segment_t* free_segments[2];/* small/medium segments with a free page */
  xa_segment_t* cache[XA_SEGMENT_CACHE]; /* empty segments kept for reuse, oldest first */
  uint64_t cache_since[XA_SEGMENT_CACHE]; /* clock (ms) when each was cached */
  size_t cache_count;
  _Atomic(xa_block_t*) inbox;    /* any thread pushes; the owner thread drains */
  struct xa_tld_s* pool_next;    /* pool lock: recycled thread data */
  struct xa_tld_s* all_next;     /* immutable once linked: every tld ever made (purge.c registry) */
  _Atomic(bool) active;          /* a thread is using it */
  _Atomic(uint64_t) active_ms;   /* owner: clock (ms) of its last slow path that read the clock */
  uint64_t collect_at;           /* owner: clock (ms) of its next look for pages others emptied */
  uint32_t slow_count;           /* owner: paces clock reads on free slow paths */
  uint64_t big_purge_at;         /* owner: clock (ms) when a freed big block may be due; 0: none */
  bool track_inner;              /* owner: inside a tracked allocation (track.h): not tracked again */
  uint64_t tid;                  /* OS thread id of the thread using it */
  _Atomic(int) late;             /* made after the thread's exit hook ran: watched for the thread's end */
  xa_tld_stats_t stats;          /* kept across reuse from the pool: totals are since process start */
  /* Heap profile (owner only; prof.c, alloc.c): the sampling PRNG, a guard
   * against sampling inside the sampler, and per size class the number of
   * allocations left before the next sampled one. */
  uint64_t prof_rng;
  uint64_t prof_drawn[2];        /* size classes whose prof_skip was drawn (bit per bin) */
  bool prof_ready;
  bool prof_busy;
  uint32_t prof_skip[XA_BIN_COUNT];
} xa_tld_t;

#endif
