/* The secure build (XA_SECURE=1: libxalloc-secure, docs/secure.md) and the
 * free-list links every build goes through.
 *
 * A free block's link lives in memory the program can overwrite: an 8-byte
 * overflow into a free neighbour sets where the page's next allocation
 * comes from. The secure build stores each link encoded with a secret key
 * of its page (inbox links with a process key) and the block's own address,
 * and checks what it decodes before following it: an overwritten link
 * decodes to noise, which is reported and the page taken out of use, not
 * handed out. The normal build stores plain pointers; the helpers compile
 * to a load or a store. */
#ifndef XA_SECURE_H
#define XA_SECURE_H

#include "config.h"
#include "types.h"

#if XA_SECURE
XA_INTERNAL extern uintptr_t xa__secure_inbox_key;
/* Set once at process start, before any block is freed. */
XA_INTERNAL extern uintptr_t xa__secure_freed_mark;
#define XA_FREED_MARK xa__secure_freed_mark
#endif

/* Keys and the mark from the OS's randomness (once, at process start). */
XA_INTERNAL void xa__secure_init(void);
/* A fresh secret key, for a page being (re)initialised: every call gives a
 * new one, unrelated to the others for whoever does not know the secret. */
XA_INTERNAL uintptr_t xa__secure_page_key(void);
/* Random bits for the carve order of the batch of a page (key) that starts
 * at block `at`: no shared counter (threads carve at once), and nothing of
 * the key or the secret can be computed back from them. */
XA_INTERNAL uint64_t xa__secure_batch_random(uintptr_t key, uint32_t at);

#if XA_SECURE
/* A stored link is (next | tag << 48) ^ key: block addresses fit in 48 bits
 * (user space on x86-64 and aarch64), the top 16 bits carry a tag, the top
 * 16 bits of (next + at) * key, at the block that holds the link. Keys are
 * odd (a multiplier must be) and secret, so the tag is a keyed hash of the
 * link and of its place: how a change of either moves the tag depends on
 * the key, too. Any change to the stored word (a planted address, one
 * flipped bit, a counter incremented after free) fails the tag with
 * probability about 1 - 2^-16. A failed tag decodes to next | 1: never
 * NULL, never a block start, so every walk's check (the walks' block
 * checks, the inbox drain's alignment check) rejects it; the pop
 * (xa__page_take) branches on xa__link_check directly. */
#define XA_LINK_BITS 48
#define XA_LINK_MASK ((((uintptr_t)1) << XA_LINK_BITS) - 1)
XA_INLINE uintptr_t xa__link_encode(uintptr_t key, const xa_block_t* at, const xa_block_t* next) {
  uintptr_t h = ((uintptr_t)next + (uintptr_t)at) * key;  /* unsigned: wraps */
  return ((uintptr_t)next ^ key) ^ ((h >> XA_LINK_BITS) << XA_LINK_BITS);
}
/* Decode `stored`, the link held at `at`, into *next; false if its tag
 * fails. One multiply; one shift compares the tag with the hash's top bits
 * (x ^ hash has its top 16 bits clear for a valid link). */
XA_INLINE bool xa__link_check(uintptr_t key, const xa_block_t* at, uintptr_t stored, xa_block_t** next) {
  uintptr_t x = stored ^ key;
  uintptr_t n = x & XA_LINK_MASK;
  *next = (xa_block_t*)n;
  return (((n + (uintptr_t)at) * key) ^ x) >> XA_LINK_BITS == 0;
}
XA_INLINE xa_block_t* xa__link_decode(uintptr_t key, const xa_block_t* at, uintptr_t stored) {
  xa_block_t* next;
  bool ok = xa__link_check(key, at, stored, &next);
  return (xa_block_t*)((uintptr_t)next | (uintptr_t)!ok);
}
#define XA_PAGE_KEY(page) ((page)->key)
#define XA_INBOX_KEY xa__secure_inbox_key
#else
XA_INLINE uintptr_t xa__link_encode(uintptr_t key, const xa_block_t* at, const xa_block_t* next) {
  (void)key;
  (void)at;
  return (uintptr_t)next;
}
XA_INLINE xa_block_t* xa__link_decode(uintptr_t key, const xa_block_t* at, uintptr_t stored) {
  (void)key;
  (void)at;
  return (xa_block_t*)stored;
}
#define XA_PAGE_KEY(page) ((uintptr_t)0)
#define XA_INBOX_KEY ((uintptr_t)0)
#endif

/* The link of b on one of page's lists (free, local_free, xthread_free). */
XA_INLINE xa_block_t* xa__block_next(const xa_page_t* page, const xa_block_t* b) {
  (void)page;
  return xa__link_decode(XA_PAGE_KEY(page), b, (uintptr_t)b->next);
}
XA_INLINE void xa__block_set_next(const xa_page_t* page, xa_block_t* b, const xa_block_t* next) {
  (void)page;
  b->next = (xa_block_t*)xa__link_encode(XA_PAGE_KEY(page), b, next);
}
/* The link of b on an inbox (blocks of many pages). */
XA_INLINE xa_block_t* xa__inbox_next(const xa_block_t* b) {
  return xa__link_decode(XA_INBOX_KEY, b, (uintptr_t)b->next);
}
XA_INLINE void xa__inbox_set_next(xa_block_t* b, const xa_block_t* next) {
  b->next = (xa_block_t*)xa__link_encode(XA_INBOX_KEY, b, next);
}

#endif
