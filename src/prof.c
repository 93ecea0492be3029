/* The sampling heap profile (prof.h; docs/profile.md).
 *
 * Which allocations: per thread and size class, a countdown of allocations
 * (tld->prof_skip) drawn from an exponential distribution, so that every
 * allocation of a block of b bytes is sampled with probability
 * p = 1 - exp(-b / rate) independently of all others; a huge block draws for
 * itself. A sample counts for 1/p allocations and size/p bytes. The
 * allocation slow path (alloc.c) makes the decision: the fast path pops only
 * the blocks the slow path left on a page's `free` list, never more than the
 * countdown (page.c, xa__page_prof_expose).
 *
 * The table: live samples in a fixed array mapped from the OS at the first
 * sample (no malloc), found by block address through chained buckets, under
 * one spinlock that is never held while anything else is done (no
 * allocation, no other lock, no unwinding). A page that holds a sample has
 * XA_PF_SAMPLED, which sends its frees to the free slow path; that path asks
 * here. Full table: further samples are dropped and counted.
 *
 * The dump: the samples grouped by stack, in pprof's legacy heap-profile
 * text form with the process's mappings (for symbols), and as folded stacks
 * (path.folded) for flame graphs, named with the OS's symbol lookup. Built
 * in OS-mapped buffers, written with one call each. */
#include "xalloc.h"
#include "prof.h"
#include "lock.h"
#include "options.h"
#include "os.h"
#include "page.h"
#include "segment.h"
#include <errno.h>
#include <string.h>

#define PROF_DEPTH    28       /* frames kept per sample: 256-byte records */
#define PROF_SLOTS    65536    /* live samples (at 512 KiB: 32 GiB of live memory) */
#define PROF_BUCKETS  16384
#define PROF_SKIP     1        /* frames of the sampler itself (xa__prof_sample) */

typedef struct {
  uintptr_t addr;              /* block start; 0 while the slot is free */
  uint64_t size;               /* bytes asked for */
  double weight;               /* 1 / the probability it was sampled with */
  uint32_t next;               /* bucket chain, or free-slot chain: index + 1, 0 = end */
  uint32_t depth;
  void* frames[PROF_DEPTH];    /* return addresses, innermost first */
} prof_sample_t;

typedef struct {
  uint32_t buckets[PROF_BUCKETS];
  prof_sample_t slots[PROF_SLOTS];
} prof_table_t;

static xa_lock_t table_lock = XA_LOCK_INIT;
static prof_table_t* table;     /* mapped at the first sample, never unmapped */
static uint32_t slots_used;     /* slots ever handed out (the rest are untouched) */
static uint32_t free_slots;     /* chain of released slots */
static uint32_t live_count;
static uint64_t dropped;        /* samples lost to a full table */
static _Atomic(uint64_t) thread_seeds;

/* ---- numbers --------------------------------------------------------------------- */

static uint64_t splitmix(uint64_t* s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Natural logarithm of x in (0, 1] (no libm): x = m * 2^e with m in
 * [sqrt(1/2), sqrt(2)), ln m = 2 atanh(t), t = (m - 1) / (m + 1). */
static double prof_ln(double x) {
  uint64_t bits;
  memcpy(&bits, &x, sizeof(bits));
  int e = (int)((bits >> 52) & 0x7FF) - 1023;
  bits = (bits & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull;
  double m;
  memcpy(&m, &bits, sizeof(m));
  if (m > 1.4142135623730951) {
    m *= 0.5;
    e++;
  }
  double t = (m - 1.0) / (m + 1.0), t2 = t * t, term = t, sum = 0.0;
  for (int k = 1; k < 24; k += 2) {  /* t^2 <= 0.03: 12 terms are exact to double precision */
    sum += term / k;
    term *= t2;
  }
  return 2.0 * sum + e * 0.6931471805599453;
}

/* 1 - exp(-x) for x >= 0, accurate for small x too. */
static double one_minus_exp_neg(double x) {
  if (x > 40.0) return 1.0;
  if (x < 1.0) {  /* x - x^2/2! + x^3/3! - ... */
    double term = x, sum = 0.0;
    for (int n = 1; n < 30; n++) {
      sum += term;
      term *= -x / (n + 1);
    }
    return sum;
  }
  int k = (int)(x / 0.6931471805599453);
  double r = x - k * 0.6931471805599453, term = 1.0, e = 0.0;
  for (int n = 1; n < 30; n++) {  /* exp(-r), r in [0, ln 2) */
    e += term;
    term *= -r / n;
  }
  while (k-- > 0) e *= 0.5;
  return 1.0 - e;
}

/* An exponential variate of mean 1. */
static double draw_exp(xa_tld_t* tld) {
  uint64_t r = splitmix(&tld->prof_rng);
  double u = (double)((r >> 11) + 1) * (1.0 / 9007199254740992.0);  /* (0, 1] */
  return -prof_ln(u);
}

static double rate(void) { return (double)xa__option_get(XA_OPT_PROFILE_RATE); }

uint32_t xa__prof_draw_skip(xa_tld_t* tld, size_t block_size) {
  double k = draw_exp(tld) * rate() / (double)block_size;
  return k >= 4294967295.0 ? UINT32_MAX : (uint32_t)k;
}

bool xa__prof_draw_huge(xa_tld_t* tld, size_t size) { return draw_exp(tld) * rate() < (double)size; }

void xa__prof_thread_ready(xa_tld_t* tld) {
  if (xa_likely(tld->prof_ready)) return;
  /* A fixed seed, one stream per thread data in order of creation: a
   * single-threaded program samples the same allocations every run. */
  uint64_t n = atomic_fetch_add_explicit(&thread_seeds, 1, memory_order_relaxed);
  tld->prof_rng = 0x5EEDF00Dull + n * 0x100000001B3ull;
  memset(tld->prof_drawn, 0, sizeof(tld->prof_drawn));  /* each size class draws at its first use */
  tld->prof_ready = true;
}

/* ---- the table (under table_lock) ---------------------------------------------------- */

static uint32_t bucket_of(uintptr_t addr) {
  return (uint32_t)(((uint64_t)(addr >> 4) * 0x9E3779B97F4A7C15ull) >> 50);  /* 14 bits */
}
_Static_assert(PROF_BUCKETS == 1 << 14, "bucket_of gives 14 bits");

static bool table_insert(const prof_sample_t* s) {
  if (table == NULL) {
    size_t size = xa_align_up(sizeof(prof_table_t), xa__os_page_size());
    table = xa__os_alloc_aligned(size, xa__os_page_size());
    if (table == NULL) return false;
  }
  uint32_t i;
  if (free_slots != 0) {
    i = free_slots - 1;
    free_slots = table->slots[i].next;
  } else if (slots_used < PROF_SLOTS) {
    i = slots_used++;
  } else {
    return false;
  }
  prof_sample_t* slot = &table->slots[i];
  *slot = *s;
  uint32_t* head = &table->buckets[bucket_of(s->addr)];
  slot->next = *head;
  *head = i + 1;
  live_count++;
  return true;
}

/* Unlink the sample at *link (a bucket head or a next field) into the free chain. */
static void table_unlink(uint32_t* link) {
  uint32_t i = *link - 1;
  prof_sample_t* s = &table->slots[i];
  *link = s->next;
  s->addr = 0;
  s->next = free_slots;
  free_slots = i + 1;
  live_count--;
}

static bool table_remove(uintptr_t addr) {
  if (table == NULL) return false;
  for (uint32_t* link = &table->buckets[bucket_of(addr)]; *link != 0; link = &table->slots[*link - 1].next) {
    if (table->slots[*link - 1].addr == addr) {
      table_unlink(link);
      return true;
    }
  }
  return false;
}

/* ---- sampling and freeing ------------------------------------------------------------- */

/* The page's prof_mask bit of a block. */
static uint64_t mask_bit(const xa_page_t* page, const void* block) {
  if (xa__page_segment(page)->kind == XA_KIND_HUGE) return 1;
  return (uint64_t)1 << (xa__page_block_index(page, block) & 63);
}

XA_NOINLINE void xa__prof_sample(xa_tld_t* tld, xa_page_t* page, void* block, size_t size, size_t unit) {
  if (tld->prof_busy) return;  /* the unwinder allocated: not sampled */
  tld->prof_busy = true;
  prof_sample_t s;
  s.addr = (uintptr_t)block;
  s.size = size;
  s.weight = 1.0 / one_minus_exp_neg((double)unit / rate());
  s.next = 0;
  int n = xa__os_backtrace(s.frames, PROF_DEPTH, PROF_SKIP);
  s.depth = n > 0 ? (uint32_t)n : 0;
  xa__lock(&table_lock);
  bool in = table_insert(&s);
  if (!in) dropped++;
  xa__unlock(&table_lock);
  if (in) {
    atomic_fetch_or_explicit(&page->prof_mask, mask_bit(page, block), memory_order_relaxed);
    atomic_fetch_add_explicit(&page->prof_live, 1, memory_order_relaxed);
    xa__page_flags_set(page, XA_PF_SAMPLED);
  }
  tld->prof_busy = false;
}

void xa__prof_free(xa_page_t* page, const void* block, bool owner) {
  uint64_t mask = atomic_load_explicit(&page->prof_mask, memory_order_relaxed);
  if ((mask & mask_bit(page, block)) != 0 && atomic_load_explicit(&page->prof_live, memory_order_relaxed) != 0) {
    xa__lock(&table_lock);
    bool found = table_remove((uintptr_t)block);
    xa__unlock(&table_lock);
    if (found) atomic_fetch_sub_explicit(&page->prof_live, 1, memory_order_relaxed);
  }
  if (owner && atomic_load_explicit(&page->prof_live, memory_order_relaxed) == 0) {
    atomic_store_explicit(&page->prof_mask, 0, memory_order_relaxed);
    xa__page_flags_clear(page, XA_PF_SAMPLED);
  }
}

void xa__prof_moved(const void* from, void* to) {
  xa__lock(&table_lock);
  if (table != NULL) {
    for (uint32_t* link = &table->buckets[bucket_of((uintptr_t)from)]; *link != 0;
         link = &table->slots[*link - 1].next) {
      if (table->slots[*link - 1].addr == (uintptr_t)from) {
        prof_sample_t s = table->slots[*link - 1];
        table_unlink(link);
        s.addr = (uintptr_t)to;
        table_insert(&s);  /* a slot was just freed: cannot fail */
        break;
      }
    }
  }
  xa__unlock(&table_lock);
}

void xa__prof_forget_page(xa_page_t* page) {
  uintptr_t lo = (uintptr_t)page->start;
  uintptr_t hi = lo + (xa__page_segment(page)->kind == XA_KIND_HUGE ? 1 : (uintptr_t)page->reserved * page->block_size);
  xa__lock(&table_lock);
  for (uint32_t b = 0; table != NULL && b < PROF_BUCKETS; b++) {
    uint32_t* link = &table->buckets[b];
    while (*link != 0) {
      uintptr_t a = table->slots[*link - 1].addr;
      if (a >= lo && a < hi) table_unlink(link);
      else link = &table->slots[*link - 1].next;
    }
  }
  xa__unlock(&table_lock);
  atomic_store_explicit(&page->prof_live, 0, memory_order_relaxed);
  atomic_store_explicit(&page->prof_mask, 0, memory_order_relaxed);
}

void xa__prof_fork_child(void) {
  if (xa__lock_fork_child(&table_lock) && table != NULL) {
    /* Half changed, perhaps: start the child's profile empty (the mapping is reused). */
    memset(table->buckets, 0, sizeof(table->buckets));
    slots_used = free_slots = live_count = 0;
  }
}

/* ---- the dump ------------------------------------------------------------------------ */

typedef struct {
  char* buf;
  size_t len, cap;
} out_t;

static void out_mem(out_t* o, const char* s, size_t n) {
  if (n > o->cap - o->len) n = o->cap - o->len;  /* sized in advance; never cut in practice */
  memcpy(o->buf + o->len, s, n);
  o->len += n;
}
static void out_str(out_t* o, const char* s) { out_mem(o, s, strlen(s)); }
static void out_u64(out_t* o, uint64_t v) {
  char d[24];
  size_t n = 0;
  do {
    d[sizeof(d) - 1 - n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v != 0);
  out_mem(o, d + sizeof(d) - n, n);
}
static void out_hex(out_t* o, uintptr_t v) {
  char d[20];
  size_t n = 0;
  do {
    d[sizeof(d) - 1 - n++] = "0123456789abcdef"[v & 15];
    v >>= 4;
  } while (v != 0);
  out_str(o, "0x");
  out_mem(o, d + sizeof(d) - n, n);
}

static uint64_t stack_hash(const prof_sample_t* s) {
  uint64_t h = 1469598103934665603ull ^ s->depth;
  for (uint32_t i = 0; i < s->depth; i++) h = (h ^ (uintptr_t)s->frames[i]) * 1099511628211ull;
  return h;
}

static bool same_stack(const prof_sample_t* a, const prof_sample_t* b) {
  return a->depth == b->depth && memcmp(a->frames, b->frames, a->depth * sizeof(void*)) == 0;
}

typedef struct {
  uint64_t hash;
  uint32_t index;
} order_t;

static bool order_less(const order_t* a, const order_t* b) {
  return a->hash < b->hash || (a->hash == b->hash && a->index < b->index);
}

/* Heapsort: no recursion, no allocation (qsort may allocate). */
static void sift(order_t* v, size_t n, size_t i) {
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n) return;
    if (c + 1 < n && order_less(&v[c], &v[c + 1])) c++;
    if (!order_less(&v[i], &v[c])) return;
    order_t t = v[i];
    v[i] = v[c];
    v[c] = t;
    i = c;
  }
}
static void sort_orders(order_t* v, size_t n) {
  for (size_t i = n / 2; i-- > 0;) sift(v, n, i);
  for (size_t end = n; end-- > 1;) {
    order_t t = v[0];
    v[0] = v[end];
    v[end] = t;
    sift(v, end, 0);
  }
}

/* Leaf frames that belong to the allocator (xalloc's own shared library, or
 * a malloc-family name): dropped from the innermost end of the stacks. */
static bool is_allocator_frame(const void* ip) {
  char name[256];
  bool ours = false;
  if (xa__os_symbol(ip, name, sizeof(name), &ours) == 0) return false;
  if (ours) return true;
  static const char* const names[] = {"malloc", "calloc", "realloc", "reallocarray", "free", "aligned_alloc",
                                      "posix_memalign", "memalign", "valloc", "pvalloc", "_Znwm", "_Znam",
                                      "_ZnwmRKSt9nothrow_t", "_ZnamRKSt9nothrow_t", "_ZnwmSt11align_val_t",
                                      "_ZnamSt11align_val_t", NULL};
  if (strncmp(name, "xa_", 3) == 0) return true;
  for (int i = 0; names[i] != NULL; i++) {
    if (strcmp(name, names[i]) == 0) return true;
  }
  return false;
}

static void out_symbol(out_t* o, const void* ip) {
  char name[256];
  bool ours;
  size_t n = xa__os_symbol(ip, name, sizeof(name), &ours);
  if (n == 0) {
    out_hex(o, (uintptr_t)ip);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    if (name[i] == ';' || name[i] == ' ') name[i] = '_';  /* the folded format's separators */
  }
  out_mem(o, name, n);
}

/* path + suffix, with %p -> pid and %% -> % when expand; false if too long. */
static bool make_path(char* dst, size_t cap, const char* path, const char* suffix, bool expand) {
  size_t n = 0;
  for (const char* c = path; *c != 0; c++) {
    char piece[24];
    size_t k = 1;
    piece[0] = *c;
    if (expand && c[0] == '%' && c[1] == 'p') {
      out_t o = {piece, 0, sizeof(piece)};
      out_u64(&o, xa__os_pid());
      k = o.len;
      c++;
    } else if (expand && c[0] == '%' && c[1] == '%') {
      c++;
    }
    if (n + k >= cap) return false;
    memcpy(dst + n, piece, k);
    n += k;
  }
  size_t s = strlen(suffix);
  if (n + s >= cap) return false;
  memcpy(dst + n, suffix, s + 1);
  return true;
}

static int dump(const char* spec, bool expand) {
  char path[1024], folded_path[1040];
  if (spec == NULL || spec[0] == 0) return EINVAL;
  if (!make_path(path, sizeof(path), spec, "", expand) ||
      !make_path(folded_path, sizeof(folded_path), spec, ".folded", expand)) {
    return ENAMETOOLONG;
  }
  size_t page = xa__os_page_size();
  /* A copy of the live samples, taken under the lock; the rest without it. */
  xa__lock(&table_lock);
  uint32_t count = live_count, used = slots_used;
  uint64_t lost = dropped;
  size_t copy_size = xa_align_up((size_t)count * sizeof(prof_sample_t) + 1, page);
  prof_sample_t* copy = count != 0 ? xa__os_alloc_aligned(copy_size, page) : NULL;
  if (count != 0 && copy == NULL) {
    xa__unlock(&table_lock);
    return ENOMEM;
  }
  uint32_t n = 0;
  for (uint32_t i = 0; i < used && n < count; i++) {
    if (table->slots[i].addr != 0) copy[n++] = table->slots[i];
  }
  xa__unlock(&table_lock);

  size_t order_size = xa_align_up((size_t)n * sizeof(order_t) + 1, page);
  size_t maps_cap = (size_t)4 << 20;
  size_t heap_cap = xa_align_up((size_t)n * (80 + PROF_DEPTH * 19) + 256 + maps_cap, page);
  size_t fold_cap = xa_align_up((size_t)n * (40 + PROF_DEPTH * 258) + 256, page);
  order_t* order = xa__os_alloc_aligned(order_size, page);
  out_t heap = {xa__os_alloc_aligned(heap_cap, page), 0, heap_cap};
  out_t fold = {xa__os_alloc_aligned(fold_cap, page), 0, fold_cap};
  int err = 0;
  if (order == NULL || heap.buf == NULL || fold.buf == NULL) err = ENOMEM;
  if (err == 0) {
    for (uint32_t i = 0; i < n; i++) order[i] = (order_t){stack_hash(&copy[i]), i};
    sort_orders(order, n);
    double total_objs = 0, total_bytes = 0;
    for (uint32_t i = 0; i < n; i++) {
      total_objs += copy[i].weight;
      total_bytes += copy[i].weight * (double)copy[i].size;
    }
    /* Legacy pprof: "heapprofile" says the numbers are already scaled. */
    out_str(&heap, "heap profile: ");
    out_u64(&heap, (uint64_t)(total_objs + 0.5));
    out_str(&heap, ": ");
    out_u64(&heap, (uint64_t)(total_bytes + 0.5));
    out_str(&heap, " [");
    out_u64(&heap, (uint64_t)(total_objs + 0.5));
    out_str(&heap, ": ");
    out_u64(&heap, (uint64_t)(total_bytes + 0.5));
    out_str(&heap, "] @ heapprofile\n");
    for (uint32_t i = 0; i < n;) {
      const prof_sample_t* first = &copy[order[i].index];
      double objs = 0, bytes = 0;
      uint32_t j = i;
      for (; j < n && order[j].hash == order[i].hash && same_stack(&copy[order[j].index], first); j++) {
        objs += copy[order[j].index].weight;
        bytes += copy[order[j].index].weight * (double)copy[order[j].index].size;
      }
      uint64_t o = (uint64_t)(objs + 0.5), b = (uint64_t)(bytes + 0.5);
      out_u64(&heap, o);
      out_str(&heap, ": ");
      out_u64(&heap, b);
      out_str(&heap, " [");
      out_u64(&heap, o);
      out_str(&heap, ": ");
      out_u64(&heap, b);
      /* Both forms start at the allocator's caller where the allocator's
       * frames can be told (xalloc's shared library, malloc-family names). */
      uint32_t leaf = 0;
      while (leaf + 1 < first->depth && is_allocator_frame((const char*)first->frames[leaf] - 1)) leaf++;
      out_str(&heap, "] @");
      for (uint32_t f = leaf; f < first->depth; f++) {
        out_str(&heap, " ");
        out_hex(&heap, (uintptr_t)first->frames[f]);
      }
      out_str(&heap, "\n");
      /* Folded: outermost first, ';'-separated, then the bytes. */
      for (uint32_t f = first->depth; f-- > leaf;) {
        out_symbol(&fold, (const char*)first->frames[f] - 1);  /* the call, not the return point */
        if (f > leaf) out_str(&fold, ";");
      }
      if (first->depth == 0) out_str(&fold, "[unknown]");
      out_str(&fold, " ");
      out_u64(&fold, b);
      out_str(&fold, "\n");
      i = j;
    }
    out_str(&heap, "\nMAPPED_LIBRARIES:\n");
    heap.len += xa__os_memory_map(heap.buf + heap.len, heap.cap - heap.len);
    if (lost != 0) xa__verbose("heap profile: samples dropped (the table was full):", (uintptr_t)lost);
    err = xa__os_write_file(path, heap.buf, heap.len);
    if (err == 0) err = xa__os_write_file(folded_path, fold.buf, fold.len);
  }
  if (copy != NULL) xa__os_free(copy, copy_size);
  if (order != NULL) xa__os_free(order, order_size);
  if (heap.buf != NULL) xa__os_free(heap.buf, heap_cap);
  if (fold.buf != NULL) xa__os_free(fold.buf, fold_cap);
  return err;
}

XA_API int xa_profile_dump(const char* path) {
  int err = dump(path, false);
  if (err != 0) {
    errno = err;
    return -1;
  }
  return 0;
}

void xa__prof_at_exit(void) {
  static _Atomic(int) done;
  const char* spec = xa__os_getenv("XALLOC_PROFILE_FILE");
  if (spec == NULL || spec[0] == 0 || !xa__option(XA_OPT_PROFILE)) return;
  if (atomic_exchange(&done, 1) != 0) return;
  int err = dump(spec, true);
  if (err != 0) {
    char line[160] = "xalloc: cannot write the heap profile (XALLOC_PROFILE_FILE), error ";
    out_t o = {line, strlen(line), sizeof(line) - 1};
    out_u64(&o, (uint64_t)err);
    out_str(&o, "\n");
    xa__os_write_err(line, o.len);
  }
}
