/* Secret keys of the secure build (secure.h). */
#include "secure.h"
#include "os.h"

#if XA_SECURE
uintptr_t xa__secure_inbox_key;
uintptr_t xa__secure_freed_mark = (uintptr_t)0xFFFFFFFFB10CF7EEull;  /* until xa__secure_init */
#endif
static uintptr_t secure_seed;

/* A strong 64-bit mixer: keys derived from the seed and public values
 * (addresses) tell nothing about the seed or about each other. */
static uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

void xa__secure_init(void) {
  if (!XA_SECURE || secure_seed != 0) return;
  uint64_t seed = xa__os_random_u64();
  if (seed == 0) seed = 1;
  secure_seed = (uintptr_t)seed;
#if XA_SECURE
  xa__secure_inbox_key = (uintptr_t)mix64(seed ^ 0x1b0c5ull);
  /* Bits 0-3 set: no 16-aligned pointer and no small count equals it. */
  xa__secure_freed_mark = (uintptr_t)mix64(seed ^ 0xf7eeull) | 15;
#endif
}

uintptr_t xa__secure_page_key(const void* page, uintptr_t old_key) {
  return (uintptr_t)mix64(secure_seed ^ mix64((uintptr_t)page ^ (old_key << 1)));
}
