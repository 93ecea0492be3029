/* Secret keys of the secure build (secure.h). */
#include "secure.h"
#include "os.h"

#if XA_SECURE
uintptr_t xa__secure_inbox_key;
uintptr_t xa__secure_freed_mark = (uintptr_t)0xFFFFFFFFB10CF7EEull;  /* until xa__secure_init */
#endif
/* The secret behind the page keys: two words nothing else is derived from. */
static uint64_t key_secret[2];
static _Atomic(uint64_t) key_counter;

/* A 64-bit mixer (a bijection: keys must not come from it alone, see
 * xa__secure_page_key). */
static uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

void xa__secure_init(void) {
  if (!XA_SECURE || key_secret[0] != 0) return;
  /* Independent draws: the mark sits in plain sight in every free block,
   * so nothing else may be computable from it. */
  key_secret[1] = xa__os_random_u64();
#if XA_SECURE
  xa__secure_inbox_key = (uintptr_t)xa__os_random_u64() | 1;  /* odd: the tag's multiplier */
  /* Bits 0-3 set: no 16-aligned pointer and no small count equals it. */
  xa__secure_freed_mark = (uintptr_t)xa__os_random_u64() | 15;
#endif
  uint64_t k = xa__os_random_u64();
  key_secret[0] = k != 0 ? k : 1;  /* last: nonzero means initialised */
}

uint64_t xa__secure_batch_random(uintptr_t key, uint32_t at) {
  return mix64(mix64((uint64_t)key ^ key_secret[1]) + at);
}

uintptr_t xa__secure_page_key(void) {
  /* mix(mix(n ^ s0) + s1): a key and its counter value do not give s0 or s1
   * back (inverting the outer mix leaves a sum with an unknown term). */
  uint64_t n = atomic_fetch_add_explicit(&key_counter, 1, memory_order_relaxed);
  return (uintptr_t)mix64(mix64(n ^ key_secret[0]) + key_secret[1]);
}
