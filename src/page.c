/* Pages (page.h). */
#include "page.h"
#include "segment.h"

/* Every direct entry of an uninitialised heap points here: no free block, so
 * the fast path falls through to the slow path without a separate check. */
xa_page_t xa__page_empty;

void xa__page_init(xa_page_t* page, size_t bin, size_t block_size, size_t area_size) {
  page->queue = (uint8_t)bin;
  page->block_size = block_size;
  page->reserved = (uint32_t)(area_size / block_size);
  page->capacity = 0;
  page->used = 0;
  page->free = NULL;
  page->local_free = NULL;
  atomic_store_explicit(&page->xthread_free, 0, memory_order_relaxed);
  atomic_store_explicit(&page->flags, 0, memory_order_relaxed);
}

void xa__page_extend(xa_page_t* page) {
  uint32_t left = page->reserved - page->capacity;
  if (left == 0) return;
  /* Carve about XA_EXTEND_BYTES at a time so that a page that is only partly
   * used only touches (and keeps resident) what it uses. */
  size_t n = XA_EXTEND_BYTES / page->block_size;
  if (n < 4) n = 4;  /* large blocks: a few at a time, not one slow path per block */
  if (n > left) n = left;
  uint8_t* first = page->start + (size_t)page->capacity * page->block_size;
  uint8_t* b = first;
  for (size_t i = 1; i < n; i++) {
    ((xa_block_t*)b)->next = (xa_block_t*)(b + page->block_size);
    b += page->block_size;
  }
  ((xa_block_t*)b)->next = page->free;
  page->free = (xa_block_t*)first;
  page->capacity += (uint32_t)n;
}

void xa__page_collect(xa_page_t* page) {
  if (page->local_free != NULL) {
    if (page->free == NULL) {
      page->free = page->local_free;
    } else {
      xa_block_t* tail = page->local_free;
      while (tail->next != NULL) tail = tail->next;
      tail->next = page->free;
      page->free = page->local_free;
    }
    page->local_free = NULL;
  }
  uintptr_t tagged = atomic_load_explicit(&page->xthread_free, memory_order_relaxed);
  if ((tagged & ~XA_XF_NOTIFY) == 0) return;
  /* Take the whole list, keep the NOTIFY bit as it is. */
  while (!atomic_compare_exchange_weak_explicit(&page->xthread_free, &tagged, tagged & XA_XF_NOTIFY,
                                                memory_order_acquire, memory_order_relaxed)) {
  }
  xa_block_t* list = (xa_block_t*)(tagged & ~XA_XF_NOTIFY);
  uint32_t count = 1;
  xa_block_t* tail = list;
  while (tail->next != NULL) {
    tail = tail->next;
    count++;
  }
  tail->next = page->free;
  page->free = list;
  page->used -= count;
}

bool xa__page_notify(xa_page_t* page, bool on) {
  uintptr_t tagged;
  if (on) tagged = atomic_fetch_or_explicit(&page->xthread_free, XA_XF_NOTIFY, memory_order_acq_rel);
  else tagged = atomic_fetch_and_explicit(&page->xthread_free, ~XA_XF_NOTIFY, memory_order_acq_rel);
  return (tagged & ~XA_XF_NOTIFY) != 0;
}

bool xa__page_block_is_free(const xa_page_t* page, const void* b) {
  for (const xa_block_t* f = page->free; f != NULL; f = f->next) if (f == b) return true;
  for (const xa_block_t* f = page->local_free; f != NULL; f = f->next) if (f == b) return true;
  return false;
}
