/*
 * xalloc's ownership protocol (docs/design.md) as a Promela model, checked
 * with spin. What is modelled and what is left out: README.md next to this
 * file. docs/model/check.sh runs every configuration and every mutation.
 *
 * State, abstracted: two segments with one page each (segment s holds page
 * s); page 0 holds blocks 0 and 1, page 1 holds block 2. A block is in one
 * place at a time (bst[]): on its page's free list (or its page is not in
 * use), live, on the page's xthread_free, in an inbox (binbox[]: a tld's, or
 * the orphans'), or in the hands of a thread that is freeing it (TRANSIT:
 * between the program's free() and the push, or between an inbox drain and
 * the block's free). Lists are sets: the order of blocks on a list plays no
 * part in the protocol. page->used is kept as the real counter.
 *
 * Threads:
 *   Worker  (tld T_W): the owner. Allocates (maybe from user heaps), hands
 *           blocks to the others, frees its own, deletes or destroys a
 *           heap, exits (init.c: tld_done).
 *   Main    (tld T_M): frees what it was given, reclaims abandoned segments
 *           on its allocation slow path, runs the process-exit hook.
 *   Freer   (no tld: xa__tld_empty): frees what it was given, cross-thread.
 *   Purger  (no tld; config PURGE_THREAD): the purge thread's passes.
 *   Monitor: checks an invariant in every state.
 *
 * Atomics are single atomic steps (a CAS loop is one step: its successful
 * CAS); owner-private bookkeeping is folded into the neighbouring step;
 * locks are busy-wait mutexes. Each step names the function it models.
 *
 * Configurations (-D): BASIC, PURGE, DELETE, DESTROY, ADOPT (see check.sh).
 * Mutations (-D MUT_*): each breaks one rule; check.sh expects a violation.
 */

#define NB 3            /* blocks */
#define NP 2            /* pages = segments */
#define NONE 255
#define PG(b) ((b) < 2 -> 0 : 1)
/* some block of page p is in state st */
#define ON(p, st) ((p) == 0 -> (bst[0] == (st) || bst[1] == (st)) : (bst[2] == (st)))

/* thread data (tld) indices; also inbox indices */
#define T_M 0
#define T_W 1
#define ORPH 2          /* the orphan inbox (free.c: orphan_inbox) */
#define T_NONE 3        /* xa__tld_empty: owns nothing */
/* who holds a live block in the program */
#define HOLD_F 5

/* heaps */
#define H_M 0           /* Main's original heap */
#define H_W 1           /* Worker's original heap */
#define H_U 2           /* Worker's user heap */
#define H_U2 3          /* Worker's second user heap (ADOPT: the default when H_U is deleted) */
#define NH 4

/* block states */
#define B_FREE 0        /* on its page's free list / local_free, or its page is not in use */
#define B_LIVE 1        /* allocated, not yet freed */
#define B_XF 2          /* on page->xthread_free */
#define B_INBOX 3       /* in inbox binbox[b] */
#define B_TRANSIT 4     /* a thread is freeing it (counted in page->used) */
#define B_LOST 5        /* dropped from every list while still counted (only mutations) */

/* page queues of a heap */
#define Q_NONE 0
#define Q_BIN 1
#define Q_FULL 2
#define Q_ADOPTED 3

/* segment states */
#define S_NEW 0         /* never mapped */
#define S_OWNED 1       /* owned by sowner[] (NONE: being abandoned) */
#define S_ABANDONED 2   /* on the abandoned list, owner 0 */
#define S_CACHED 3      /* in scache[]'s segment cache, owner 0 */
#define S_SWEPT 4       /* taken off the abandoned list by a sweep, to be unmapped */
#define S_RELEASED 5    /* unmapped */

/* a purge pass is scheduled: only the purge thread looks (config PURGE) */
#ifdef PURGE_THREAD
#define SCHEDULE due = true
#else
#define SCHEDULE skip
#endif

#ifndef NALLOC
#define NALLOC 3
#endif

byte bst[NB];
byte binbox[NB];
byte bheap[NB];         /* heap the block was allocated from */
byte holder[NB];        /* T_W, T_M, HOLD_F, or NONE: the program no longer uses it */
bool early[NB];         /* pushed into a tld's inbox before that tld's exit took its last drain */

bool in_use[NP];
byte pheap[NP];
byte pq[NP];
bool notify[NP];        /* XA_XF_NOTIFY, bit 0 of page->xthread_free */
byte used[NP];
bool owin[NP];          /* the owner is between setting NOTIFY and acting on its answer */

byte sst[NP];
byte sowner[NP];        /* segment->owner: a tld, or NONE (0) */
byte scache[NP];        /* the tld whose cache holds it */

bool tactive[2];         /* tld->active */
bool final_drain[2];    /* the tld's exit took its last inbox drain */
byte defheap[2];
bool halive[NH];

bool lk_aband;          /* abandoned_lock (segment.c) */
bool lk_tld[2];         /* tld->lock */
bool pass_running;      /* purge.c: pass_running */
bool due;               /* a purge pass is scheduled (segment.c: purge_due) */

bool w_done, m_done, f_done, p_done;
bool hook_ran_last;     /* the exit hook started after every other thread ended */

/* ---- properties ------------------------------------------------------------ */

/* No access to a released segment: every read of a segment header or page
 * descriptor asserts this. */
#define SEG_MAPPED(s) (sst[s] != S_RELEASED)
/* A live block keeps its segment mapped (design.md, rule 2). */
#define NOTHING_LIVE_IN(s) (!ON(s, B_LIVE) && !ON(s, B_XF) && !ON(s, B_INBOX) && !ON(s, B_TRANSIT))
/* Outside the owner's re-check, NOTIFY set means xthread_free is empty:
 * otherwise blocks sit on a page whose owner is never told (stranded). */
#define STRANDED(p) (in_use[p] && notify[p] && ON(p, B_XF) && !owin[p])

inline seg_touch(s) { assert(SEG_MAPPED(s)) }

inline lock(l) { atomic { !l -> l = true } }
inline unlock(l) { l = false }
inline trylock(l, ok) { atomic { if :: !l -> l = true; ok = true :: else -> ok = false fi } }

/* ---- pages (page.c) ----------------------------------------------------------- */

/* page.c: xa__page_collect — takes xthread_free whole (one CAS, NOTIFY kept) */
inline page_collect(pp) {
#ifndef MUT_COLLECT_SPLIT
  d_step {
    seg_touch(pp);
    owin[pp] = false;
    i = 0;
    do
    :: i < NB ->
       if
       :: PG(i) == pp && bst[i] == B_XF -> assert(used[pp] > 0); bst[i] = B_FREE; used[pp]--
       :: else -> skip
       fi;
       i++
    :: else -> break
    od;
    i = 0
  }
#else
  /* MUTATION: the list is read, then cleared with a plain store: a push in
   * between is dropped */
  d_step {
    seg_touch(pp);
    snap = 0; i = 0;
    do
    :: i < NB -> if :: PG(i) == pp && bst[i] == B_XF -> snap = snap | (1 << i) :: else -> skip fi; i++
    :: else -> break
    od;
    i = 0
  }
  d_step {
    owin[pp] = false;
    i = 0;
    do
    :: i < NB ->
       if
       :: PG(i) == pp && bst[i] == B_XF && (snap & (1 << i)) -> bst[i] = B_FREE; used[pp]--
       :: PG(i) == pp && bst[i] == B_XF && !(snap & (1 << i)) -> bst[i] = B_LOST
       :: else -> skip
       fi;
       i++
    :: else -> break
    od;
    i = 0; snap = 0
  }
#endif
}

/* take a free block of page pp for heap hh (the owner pops page->free) */
inline page_take(pp, hh, who) {
  d_step {
    i = 0;
    do
    :: i < NB && PG(i) == pp && bst[i] == B_FREE -> break
    :: i < NB && !(PG(i) == pp && bst[i] == B_FREE) -> i++
    :: i >= NB -> break
    od;
    if
    :: i < NB -> b = i; bst[b] = B_LIVE; used[pp]++; bheap[b] = hh; holder[b] = who
    :: else -> skip
    fi;
    i = 0
  }
}

/* ---- segments (segment.c) ------------------------------------------------------ */

/* segment.c: segment_unmap — nothing live may remain (rule 2) */
inline segment_unmap(ss) {
  d_step { assert(NOTHING_LIVE_IN(ss)); sst[ss] = S_RELEASED; sowner[ss] = NONE; scache[ss] = NONE }
}

/* segment.c: segment_release (caller holds tld->lock): cache it (owner 0)
 * or unmap it */
inline segment_release(tl, ss) {
  if
  :: d_step { sst[ss] = S_CACHED; scache[ss] = tl; sowner[ss] = NONE; SCHEDULE }
  :: segment_unmap(ss)
  fi
}

/* segment.c: xa__segment_page_free; heap.c: page_free (queue_remove) when
 * the page was queued. wh != NONE: heap.c: xa__heap_free_own_pages frees the
 * page wholesale for xa_heap_destroy(wh). */
inline page_free(tl, pp, wh) {
  lock(lk_tld[tl]);
  d_step {
    seg_touch(pp);
    assert(in_use[pp] && sowner[pp] == tl);
    assert(wh != NONE || used[pp] == 0);
    i = 0;
    do
    :: i < NB ->
       if
       :: PG(i) == pp ->
          /* destroy frees only blocks allocated from it that the program no longer uses */
          assert(bst[i] != B_LIVE || (wh != NONE && bheap[i] == wh && holder[i] == NONE));
          /* a block in transit (an inbox, or a freeing thread) would be freed again later */
          assert(bst[i] != B_INBOX && bst[i] != B_TRANSIT);
          if :: bst[i] != B_LOST -> bst[i] = B_FREE :: else -> skip fi
       :: else -> skip
       fi;
       i++
    :: else -> break
    od;
    i = 0;
    in_use[pp] = false; pheap[pp] = NONE; pq[pp] = Q_NONE; notify[pp] = false; used[pp] = 0; owin[pp] = false
  }
  segment_release(tl, pp);
  unlock(lk_tld[tl])
}

/* segment.c: segment_alloc (the tld's cache first, else a new segment),
 * then xa__segment_page_alloc and heap.c: page_fresh (page_init, attach to
 * hh's bin queue). Sets ns to the segment or NONE. */
inline segment_alloc(tl, hh, ns) {
  ns = NONE;
  lock(lk_tld[tl]);
  d_step {
    if
    :: sst[0] == S_CACHED && scache[0] == tl -> ns = 0
    :: else -> if :: sst[1] == S_CACHED && scache[1] == tl -> ns = 1 :: else -> skip fi
    fi;
    if :: ns != NONE -> sst[ns] = S_OWNED; scache[ns] = NONE :: else -> skip fi
  }
  unlock(lk_tld[tl]);
  d_step {
    if
    :: ns == NONE && sst[0] == S_NEW -> ns = 0
    :: ns == NONE && sst[0] != S_NEW && sst[1] == S_NEW -> ns = 1
    :: else -> skip
    fi;
    if
    :: ns != NONE ->
       assert(!ON(ns, B_LIVE) && !ON(ns, B_XF) && !ON(ns, B_INBOX) && !ON(ns, B_TRANSIT));
       sst[ns] = S_OWNED; sowner[ns] = tl;       /* owner store (release) */
       in_use[ns] = true; used[ns] = 0; notify[ns] = false; owin[ns] = false;
       pheap[ns] = hh; pq[ns] = Q_BIN
    :: else -> skip
    fi
  }
}

/* segment.c: xa__segment_abandon */
inline segment_abandon(tl, ss) {
  d_step { seg_touch(ss); sowner[ss] = NONE }   /* from here every free is cross-thread */
  lock(lk_aband);
  sst[ss] = S_ABANDONED;
  unlock(lk_aband);
  SCHEDULE                                    /* xa__purge_schedule */
}

/* segment.c: xa__segment_cache_release */
inline segment_cache_release(tl) {
  lock(lk_tld[tl]);
  q = 0;
  do
  :: q < NP -> if :: sst[q] == S_CACHED && scache[q] == tl -> segment_unmap(q) :: else -> skip fi; q++
  :: else -> break
  od;
  unlock(lk_tld[tl])
}

/* ---- heaps (heap.c) ----------------------------------------------------------------- */

/* heap.c: page_unfull; page.c: xa__page_notify(page, false) */
inline page_unfull(pp) {
  d_step { notify[pp] = false; owin[pp] = false; pq[pp] = Q_BIN }
}

/* heap.c: page_to_full; page.c: xa__page_notify(page, true) answers whether
 * a free slipped in before NOTIFY */
inline page_to_full(pp) {
  d_step {
    seg_touch(pp);
    pq[pp] = Q_FULL; notify[pp] = true; r = ON(pp, B_XF);
#ifndef MUT_NO_RECHECK
    owin[pp] = r
#else
    r = false   /* MUTATION: the answer is ignored */
#endif
  }
  if :: r -> page_unfull(pp) :: else -> skip fi
}

/* heap.c: xa__heap_page_retire — the only page of its queue is kept */
inline page_retire(tl, hh, pp) {
  if
  :: in_use[1 - pp] && pheap[1 - pp] == hh && pq[1 - pp] == pq[pp] -> page_free(tl, pp, NONE)
  :: else -> skip
  fi
}

/* heap.c: adopted_settle */
inline adopted_settle(tl, pp) {
  do
  :: page_collect(pp);
     if
     :: used[pp] == 0 -> page_free(tl, pp, NONE); break
     :: else ->
        d_step { notify[pp] = true; r = ON(pp, B_XF); owin[pp] = r };
        if :: !r -> break :: else -> skip fi
     fi
  od;
  skip
}

/* heap.c: xa__heap_page_unqueued_free (full or adopted page got a block back) */
inline page_unqueued_free(tl, hh, pp) {
  if
  :: pq[pp] == Q_ADOPTED -> adopted_settle(tl, pp)
  :: else -> page_unfull(pp); if :: used[pp] == 0 -> page_retire(tl, hh, pp) :: else -> skip fi
  fi
}

/* heap.c: page_take_over — where a live page goes when heap `to` takes it */
inline page_take_over(to, pp) {
  if
  :: to != H_M && to != H_W ->       /* a user heap: adopted queue, never allocated from */
     d_step { pheap[pp] = to; pq[pp] = Q_ADOPTED; notify[pp] = true; r = ON(pp, B_XF); owin[pp] = r };
     if :: r -> adopted_settle(T_W, pp) :: else -> skip fi
  :: else ->
     if
     :: pq[pp] == Q_FULL -> pheap[pp] = to     /* NOTIFY stays set */
     :: else -> d_step { notify[pp] = false; owin[pp] = false; pheap[pp] = to; pq[pp] = Q_BIN }
     fi
  fi
}

/* heap.c: xa__heap_collect_pages */
inline heap_collect_pages(tl, hh) {
  q = 0;
  do
  :: q < NP ->
     if
     :: in_use[q] && pheap[q] == hh ->
        page_collect(q);
        if
        :: used[q] == 0 -> page_free(tl, q, NONE)
        :: used[q] != 0 && pq[q] == Q_FULL && ON(q, B_FREE) -> page_unfull(q)
        :: else -> skip
        fi
     :: else -> skip
     fi;
     q++
  :: else -> break
  od
}

/* heap.c: xa__heap_move_pages (live pages to `to`, empty ones freed) */
inline heap_move_pages(from, to) {
  q = 0;
  do
  :: q < NP ->
     if
     :: in_use[q] && pheap[q] == from ->
        page_collect(q);
        if :: used[q] == 0 -> page_free(T_W, q, NONE) :: else -> page_take_over(to, q) fi
     :: else -> skip
     fi;
     q++
  :: else -> break
  od
}

/* ---- free (free.c) ------------------------------------------------------------------ */

/* free.c: free_local (the caller owns the segment) */
inline free_local(fb, tl) {
  d_step {
    p = PG(fb);
    seg_touch(p);
    assert(in_use[p] && pheap[p] != NONE && bst[fb] == B_TRANSIT && used[p] > 0);
    bst[fb] = B_FREE; used[p]--; h = pheap[p]
  }
  if
  :: pq[p] == Q_FULL || pq[p] == Q_ADOPTED -> page_unqueued_free(tl, h, p)
  :: else -> if :: used[p] == 0 -> page_retire(tl, h, p) :: else -> skip fi
  fi
}

/* free.c: free_xthread and xthread_push */
inline free_xthread(fb, tl) {
  d_step {
    p = PG(fb);
    seg_touch(p);
    /* page->reserved and the block's mark are read; a block freed twice shows here */
    assert(in_use[p] && bst[fb] == B_TRANSIT)
  }
  /* free.c: xthread_push — one CAS: clear NOTIFY, or push on xthread_free */
  d_step {
    seg_touch(p);
    assert(in_use[p] && bst[fb] == B_TRANSIT);
    if
    :: notify[p] -> notify[p] = false; r = true
    :: else -> bst[fb] = B_XF; r = false
    fi
  }
  if
  :: r ->
     /* free.c: xthread_push — owner = seg->owner (the block keeps the segment mapped) */
     d_step { seg_touch(p); ow = sowner[p] }
     /* free.c: xthread_push — live = owner->active (thread data is never unmapped) */
     if
     :: ow == T_M || ow == T_W -> live = tactive[ow]
     :: else -> live = false
     fi;
     /* free.c: inbox_push — one CAS on the owner's inbox or the orphans' */
     d_step {
       assert(bst[fb] == B_TRANSIT);
       bst[fb] = B_INBOX;
       if
       :: live -> binbox[fb] = ow; early[fb] = !final_drain[ow]
       :: else -> binbox[fb] = ORPH; early[fb] = false
       fi
     }
#ifndef MUT_NO_LATE_RECHECK
     /* free.c: xthread_push — after the push, owner->active again (seq_cst
      * fence; the pass's drain exchange is seq_cst): an owner that ended
      * meanwhile gets a pass scheduled for this block */
     if
     :: live -> live = tactive[ow]
     :: else -> skip
     fi;
#endif
     if :: !live -> SCHEDULE :: else -> skip fi   /* xa__purge_schedule */
  :: else -> skip
  fi
}

/* free.c: free_slow — local when segment->owner is the caller's tld */
inline free_block(fb, tl) {
  d_step { seg_touch(PG(fb)); r = (sowner[PG(fb)] == tl) }
  if
  :: r -> free_local(fb, tl)
  :: else -> free_xthread(fb, tl)
  fi;
  d_step { p = 0; h = 0; ow = 0; r = false; live = false }
}

/* the program frees a block it holds: xa_free */
inline prog_free(fb, who, tl) {
  d_step { assert(holder[fb] == who && bst[fb] == B_LIVE); holder[fb] = NONE; bst[fb] = B_TRANSIT }
  free_block(fb, tl)
}

/* free.c: xa__inbox_drain — one exchange takes the whole inbox, then each
 * block gets its one free from its segment's current owner's view. fin:
 * the last drain of the tld's exit. */
inline inbox_drain(ib, tl, fin) {
  d_step {
    taken = 0; i = 0;
    do
    :: i < NB ->
       if
       :: bst[i] == B_INBOX && binbox[i] == ib -> taken = taken | (1 << i); bst[i] = B_TRANSIT; binbox[i] = NONE
       :: else -> skip
       fi;
       i++
    :: else -> break
    od;
    i = 0;
    if :: fin -> final_drain[ib] = true :: else -> skip fi
  }
  d = 0;
  do
  :: d < NB ->
     if :: taken & (1 << d) -> free_block(d, tl) :: else -> skip fi;
     d++
  :: else -> break
  od;
  taken = 0; d = 0
}

/* ---- reclaim (segment.c: xa__segment_reclaim, heap.c: xa__heap_reclaim_segment) */

inline reclaim(tl, orig, wait) {
  s = NONE;
  if :: wait -> lock(lk_aband); got = true :: else -> trylock(lk_aband, got) fi;
  if
  :: got ->
     d_step {
       if
       :: sst[0] == S_ABANDONED -> s = 0
       :: else -> if :: sst[1] == S_ABANDONED -> s = 1 :: else -> skip fi
       fi;
       if :: s != NONE -> sst[s] = S_OWNED; sowner[s] = tl :: else -> skip fi
     }
     unlock(lk_aband)
  :: else -> skip
  fi;
  if
  :: s != NONE ->
     SCHEDULE;
     assert(in_use[s]);
     page_collect(s);
     if
     :: used[s] == 0 ->
        /* empty pages are freed last: the segment may go with the last one */
        page_free(tl, s, NONE);
#ifdef MUT_TOUCH_AFTER_RELEASE
        d_step { seg_touch(s) }   /* MUTATION: per-segment work after its last page was freed */
#endif
        skip
     :: else -> pq[s] = Q_BIN; page_take_over(orig, s)
     fi
  :: else -> skip
  fi
}

/* ---- the purge pass (purge.c: xa__purge_run) ---------------------------------------- */

/* init.c: drain_idle_inboxes — the orphans and pooled tlds' inboxes */
inline drain_idle_inboxes(tl) {
  inbox_drain(ORPH, tl, false);
  if :: !tactive[T_W] -> inbox_drain(T_W, tl, false) :: else -> skip fi
}

/* segment.c: xa__segments_purge_due — try-lock; cached segments past the delay are unmapped */
inline segments_purge_due(tl, old) {
  trylock(lk_tld[tl], got);
  if
  :: got ->
     q = 0;
     do
     :: q < NP ->
        if
        :: sst[q] == S_CACHED && scache[q] == tl ->
           if :: segment_unmap(q) :: !old -> SCHEDULE fi   /* aged out, or not yet */
        :: else -> skip
        fi;
        q++
     :: else -> break
     od;
     unlock(lk_tld[tl])
  :: else -> SCHEDULE   /* busy: retried later */
  fi
}

/* segment.c: xa__abandoned_sweep — under the abandoned-list lock the pass is
 * the segments' only bookkeeper */
inline abandoned_sweep(old) {
  trylock(lk_aband, got);
  if
  :: got ->
     q = 0;
     do
     :: q < NP ->
        if
        :: sst[q] == S_ABANDONED ->
           if
           :: !old -> SCHEDULE                 /* not abandoned for the delay yet */
           :: true ->
              page_collect(q);
#ifndef MUT_SWEEP_INBOX
              if
              :: used[q] == 0 ->
#else
              /* MUTATION: a page whose blocks are all on xthread_free or in an
               * inbox counts as empty */
              if
              :: !ON(q, B_LIVE) && !ON(q, B_XF) ->
#endif
                 d_step {
                   in_use[q] = false; used[q] = 0; pheap[q] = NONE; pq[q] = Q_NONE; notify[q] = false;
                   sst[q] = S_SWEPT            /* off the list; unmapped below */
                 }
              :: else -> if :: !old -> SCHEDULE :: else -> skip fi   /* look again later */
              fi
           fi
        :: else -> skip
        fi;
        q++
     :: else -> break
     od;
     unlock(lk_aband);
     q = 0;
     do
     :: q < NP -> if :: sst[q] == S_SWEPT -> segment_unmap(q) :: else -> skip fi; q++
     :: else -> break
     od
  :: else -> SCHEDULE
  fi
}

/* purge.c: xa__purge_run; init.c: ended_threads_pass first */
inline purge_run(tl, old) {
  if
  :: atomic { !pass_running -> pass_running = true }
#ifndef MUT_PASS_NO_POOLED
     drain_idle_inboxes(tl);
#endif
     segments_purge_due(T_M, old);
     segments_purge_due(T_W, old);
     abandoned_sweep(old);
     pass_running = false
  :: else -> SCHEDULE
  fi
}

/* ---- threads --------------------------------------------------------------------------- */

proctype Worker() {
  byte i, b, p, q, h, s, d, ow, n, taken, snap, ns, hh;
  bool r, got, live;

  /* init.c: xa__thread_init */
  tactive[T_W] = true;
  defheap[T_W] = H_W;
  hh = H_W;
#if defined(DELETE) || defined(DESTROY) || defined(ADOPT)
  halive[H_U] = true; hh = H_U;                    /* heap_api.c: xa_heap_new */
#endif
  n = 0;
  do
  :: n < NALLOC ->
#ifdef ADOPT
     if
     :: n == 2 ->
        halive[H_U2] = true; defheap[T_W] = H_U2;  /* xa_heap_new, xa_heap_set_default */
        /* heap_api.c: xa_heap_delete(U): its live pages go to the default, U2 */
        inbox_drain(T_W, T_W, false);
        heap_move_pages(H_U, H_U2);
        halive[H_U] = false;
        hh = H_U2
     :: else -> skip
     fi;
#endif
     /* alloc.c: xa__malloc_generic — fast path: front page of the bin queue */
     b = NONE;
     q = 0;
     do
     :: q < NP -> if :: b == NONE && in_use[q] && pheap[q] == hh && pq[q] == Q_BIN -> page_take(q, hh, T_W) :: else -> skip fi; q++
     :: else -> break
     od;
     if
     :: b == NONE ->
        /* slow path: drain the inbox and the orphans, then heap.c: queue_find */
        inbox_drain(T_W, T_W, false);
        inbox_drain(ORPH, T_W, false);
        q = 0;
        do
        :: q < NP ->
           if
           :: b == NONE && in_use[q] && pheap[q] == hh && pq[q] == Q_BIN ->
              if :: !ON(q, B_FREE) -> page_collect(q) :: else -> skip fi;
              if
              :: ON(q, B_FREE) -> page_take(q, hh, T_W)
              :: else ->
                 page_to_full(q);
                 if
                 :: pq[q] == Q_BIN ->       /* a free slipped in: it went back */
                    page_collect(q);
                    if :: ON(q, B_FREE) -> page_take(q, hh, T_W) :: else -> skip fi
                 :: else -> skip
                 fi
              fi
           :: else -> skip
           fi;
           q++
        :: else -> break
        od;
        if
        :: b == NONE ->                     /* heap.c: page_fresh */
           segment_alloc(T_W, hh, ns);
           if :: ns != NONE -> page_take(ns, hh, T_W) :: else -> skip fi
        :: else -> skip
        fi
     :: else -> skip
     fi;
     if
     :: b == NONE -> break                  /* no segment left: the model's memory is full */
     :: else -> skip
     fi;
     /* the program hands the block to another thread, or keeps it */
     if
#ifdef HAND_M
     :: holder[b] = T_M
#endif
#ifdef HAND_F
     :: holder[b] = HOLD_F
#endif
     :: skip
     fi;
     d_step { n++; b = 0; q = 0; r = false; ns = 0 }
  :: else -> break
  od;

  /* the Worker frees some of the blocks it kept (xa_free: local) */
  d = 0;
  do
  :: d < NB ->
     if
     :: holder[d] == T_W -> if :: prog_free(d, T_W, T_W) :: skip fi
     :: else -> skip
     fi;
     d++
  :: else -> break
  od;

#ifdef DELETE
  /* heap_api.c: xa_heap_delete(U) — live pages move to the default heap (the original) */
  inbox_drain(T_W, T_W, false);
  heap_move_pages(H_U, H_W);
  halive[H_U] = false;
#endif
#if defined(DESTROY) || defined(ADOPT)
  /* xa_heap_destroy(hd) — the contract: the program no longer uses the
   * heap's blocks, and frees of them by other threads have returned */
#ifdef ADOPT
  hh = H_U2;
#else
  hh = H_U;
#endif
  d_step {
    i = 0;
    do
    :: i < NB -> if :: holder[i] == T_W && bheap[i] == hh -> holder[i] = NONE :: else -> skip fi; i++
    :: else -> break
    od;
    i = 0
  }
  (!(bheap[0] == hh && (holder[0] != NONE || bst[0] == B_TRANSIT)) &&
   !(bheap[1] == hh && (holder[1] != NONE || bst[1] == B_TRANSIT)) &&
   !(bheap[2] == hh && (holder[2] != NONE || bst[2] == B_TRANSIT)));
  /* heap_api.c: xa_heap_destroy */
#ifndef MUT_DESTROY_NO_DRAIN
  inbox_drain(T_W, T_W, false);
#endif
  if :: defheap[T_W] == hh -> defheap[T_W] = H_W :: else -> skip fi;
  /* heap.c: xa__heap_free_own_pages */
  q = 0;
  do
  :: q < NP ->
     if
     :: in_use[q] && pheap[q] == hh ->
        if
#ifndef MUT_DESTROY_ADOPTED
        :: pq[q] == Q_ADOPTED ->
#else
        :: false ->       /* MUTATION: adopted pages are freed wholesale too */
#endif
           page_collect(q);
           if :: used[q] == 0 -> page_free(T_W, q, NONE) :: else -> page_take_over(H_W, q) fi
        :: else -> page_free(T_W, q, hh)          /* wholesale */
        fi
     :: else -> skip
     fi;
     q++
  :: else -> break
  od;
  halive[hh] = false;
#endif

  /* init.c: tld_done — 1. drain the inbox */
  inbox_drain(T_W, T_W, false);
  /* 2. user heaps: live pages move to the original heap */
  if :: halive[H_U] -> heap_move_pages(H_U, H_W); halive[H_U] = false :: else -> skip fi;
  if :: halive[H_U2] -> heap_move_pages(H_U2, H_W); halive[H_U2] = false :: else -> skip fi;
  /* 3. free what is free */
  heap_collect_pages(T_W, H_W);
  /* 4. heap.c: xa__heap_detach_all (NOTIFY cleared), then abandon each segment */
  q = 0;
  do
  :: q < NP ->
     if
     :: in_use[q] && pheap[q] == H_W -> d_step { notify[q] = false; owin[q] = false; pheap[q] = NONE; pq[q] = Q_NONE }
     :: else -> skip
     fi;
     q++
  :: else -> break
  od;
  q = 0;
  do
  :: q < NP -> if :: sst[q] == S_OWNED && sowner[q] == T_W -> segment_abandon(T_W, q) :: else -> skip fi; q++
  :: else -> break
  od;
  /* 5. blocks that arrived meanwhile, then the cache */
#ifndef MUT_EXIT_NO_DRAIN
  inbox_drain(T_W, T_W, true);
#else
  final_drain[T_W] = true;   /* MUTATION: the second drain is forgotten */
#endif
  segment_cache_release(T_W);
  tactive[T_W] = false;
  /* init.c: tld_release — pooled; a late push is for the next pass */
  d_step {
    assert(!(bst[0] == B_INBOX && binbox[0] == T_W && early[0]) &&
           !(bst[1] == B_INBOX && binbox[1] == T_W && early[1]) &&
           !(bst[2] == B_INBOX && binbox[2] == T_W && early[2]));
    SCHEDULE
  }
  w_done = true
}

#define HELD(who) (holder[0] == (who) || holder[1] == (who) || holder[2] == (who))

proctype Main() {
  byte i, b, p, q, h, s, d, ow, taken, snap;
  bool r, got, live;

  tactive[T_M] = true;
  defheap[T_M] = H_M;
  do
  :: holder[0] == T_M -> prog_free(0, T_M, T_M)
  :: holder[1] == T_M -> prog_free(1, T_M, T_M)
  :: holder[2] == T_M -> prog_free(2, T_M, T_M)
  :: sst[0] == S_ABANDONED || sst[1] == S_ABANDONED ->
     /* alloc.c: xa__malloc_generic slow path — drains, then heap.c:
      * xa__heap_find_page reclaims into the original heap */
     inbox_drain(T_M, T_M, false);
     inbox_drain(ORPH, T_M, false);
     reclaim(T_M, H_M, false);
     s = 0
#ifdef EARLY_HOOK
  :: !HELD(T_M) -> break                    /* exit while others still run */
#endif
  :: w_done && f_done && !HELD(T_M) -> break
  od;
#ifdef EXIT_HOOK
  /* init.c: xa_process_done -> xa__thread_collect(tld, abandoned, force) */
  hook_ran_last = w_done && f_done;
  inbox_drain(T_M, T_M, false);
  heap_collect_pages(T_M, H_M);
  drain_idle_inboxes(T_M);
  do
  :: reclaim(T_M, H_M, true); if :: s == NONE -> break :: else -> skip fi
  od;
  s = 0;
  /* segment.c: xa__segments_purge (force) */
  lock(lk_tld[T_M]);
  q = 0;
  do
  :: q < NP -> if :: sst[q] == S_CACHED && scache[q] == T_M -> segment_unmap(q) :: else -> skip fi; q++
  :: else -> break
  od;
  unlock(lk_tld[T_M]);
  purge_run(T_M, true);
#endif
  m_done = true
}

proctype Freer() {
  byte i, b, p, q, h, s, d, ow, taken, snap;
  bool r, got, live;
  do
  :: holder[0] == HOLD_F -> prog_free(0, HOLD_F, T_NONE)
  :: holder[1] == HOLD_F -> prog_free(1, HOLD_F, T_NONE)
  :: holder[2] == HOLD_F -> prog_free(2, HOLD_F, T_NONE)
  :: w_done && !HELD(HOLD_F) -> break
  od;
  f_done = true
}

/* purge.c: purge_thread_main — a pass whenever one is due; the last passes,
 * once every other thread has ended, find every deadline passed */
proctype Purger() {
  byte i, b, p, q, h, s, d, ow, taken, snap;
  bool r, got, live, old;
  do
  :: atomic { due -> due = false; old = w_done && m_done && f_done };   /* xa__purge_claim */
     purge_run(T_NONE, old)
  :: !due && w_done && m_done && f_done -> break
  od;
  p_done = true
}

proctype Monitor() {
end: atomic { (STRANDED(0) || STRANDED(1)) -> assert(false) }
}

init {
  byte i;
  atomic {
    i = 0;
    do
    :: i < NB -> binbox[i] = NONE; bheap[i] = NONE; holder[i] = NONE; i++
    :: else -> break
    od;
    i = 0;
    do
    :: i < NP -> pheap[i] = NONE; sowner[i] = NONE; scache[i] = NONE; i++
    :: else -> break
    od;
    run Worker();
#ifdef RUN_MAIN
    run Main();
#else
    m_done = true;
#endif
#ifdef HAND_F
    run Freer();
#else
    f_done = true;
#endif
#ifdef PURGE_THREAD
    run Purger();
#else
    p_done = true;
#endif
    run Monitor()
  }
  (w_done && m_done && f_done && p_done);
  /* end state: no lost block. Every block freed has reached a free list
   * (its page's, xthread_free included) or its segment is gone; none is left
   * in an inbox, checked when the exit hook ran last or the purge thread
   * ran the final passes. */
  d_step {
    i = 0;
    do
    :: i < NB ->
       assert(bst[i] != B_LOST && bst[i] != B_TRANSIT);
#if defined(PURGE_THREAD)
       /* design.md's one stated exception: a block in the inbox of a
        * thread that is still live waits for that thread's next slow path
        * (its pages are its own); the program goes on, so it comes. */
       assert(bst[i] != B_INBOX || (binbox[i] != ORPH && tactive[binbox[i]]));
#else
       assert(!hook_ran_last || bst[i] != B_INBOX);
#endif
       assert(bst[i] != B_XF || in_use[PG(i)]);
       i++
    :: else -> break
    od
  }
}
