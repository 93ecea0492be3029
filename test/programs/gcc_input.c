/* Input for ov_prog_gcc (test/ov_programs.sh): compiled at -O2 by gcc running
 * on the system allocator and on xalloc; the object files must be identical
 * and the program must print the same output. Deterministic, self-contained:
 * a hash table, a sort, a tiny expression evaluator and a sieve, enough code
 * for the optimiser (inlining, vectorisation, loop transformations) to work. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
  char key[24];
  uint64_t value;
  struct entry* next;
};

struct table {
  struct entry** buckets;
  size_t nbuckets, count;
};

static uint64_t hash_str(const char* s) {
  uint64_t h = 1469598103934665603ull;
  while (*s) h = (h ^ (unsigned char)*s++) * 1099511628211ull;
  return h;
}

static void table_init(struct table* t, size_t n) {
  t->buckets = calloc(n, sizeof *t->buckets);
  t->nbuckets = n;
  t->count = 0;
}

static struct entry* table_get(struct table* t, const char* key, int create) {
  size_t b = hash_str(key) % t->nbuckets;
  for (struct entry* e = t->buckets[b]; e; e = e->next)
    if (strcmp(e->key, key) == 0) return e;
  if (!create) return NULL;
  struct entry* e = calloc(1, sizeof *e);
  snprintf(e->key, sizeof e->key, "%s", key);
  e->next = t->buckets[b];
  t->buckets[b] = e;
  t->count++;
  return e;
}

static void table_free(struct table* t) {
  for (size_t b = 0; b < t->nbuckets; b++) {
    struct entry* e = t->buckets[b];
    while (e) {
      struct entry* n = e->next;
      free(e);
      e = n;
    }
  }
  free(t->buckets);
}

static int cmp_u64(const void* a, const void* b) {
  uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
  return (x > y) - (x < y);
}

/* Recursive-descent evaluator for + - * / ( ) over integers. */
static const char* ep;
static int64_t expr(void);
static int64_t factor(void) {
  if (*ep == '(') {
    ep++;
    int64_t v = expr();
    ep++;
    return v;
  }
  if (*ep == '-') {
    ep++;
    return -factor();
  }
  int64_t v = 0;
  while (*ep >= '0' && *ep <= '9') v = v * 10 + (*ep++ - '0');
  return v;
}
static int64_t term(void) {
  int64_t v = factor();
  while (*ep == '*' || *ep == '/') {
    char op = *ep++;
    int64_t r = factor();
    v = op == '*' ? v * r : (r ? v / r : 0);
  }
  return v;
}
static int64_t expr(void) {
  int64_t v = term();
  while (*ep == '+' || *ep == '-') {
    char op = *ep++;
    int64_t r = term();
    v = op == '+' ? v + r : v - r;
  }
  return v;
}

static double dot(const double* a, const double* b, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

int main(void) {
  /* Hash table of generated keys. */
  struct table t;
  table_init(&t, 4099);
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 200000; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    char key[24];
    snprintf(key, sizeof key, "k%llu", (unsigned long long)(x % 50000));
    table_get(&t, key, 1)->value += x & 0xffff;
  }
  uint64_t* vals = malloc(t.count * sizeof *vals);
  size_t n = 0;
  for (size_t b = 0; b < t.nbuckets; b++)
    for (struct entry* e = t.buckets[b]; e; e = e->next) vals[n++] = e->value;
  qsort(vals, n, sizeof *vals, cmp_u64);
  printf("keys %zu, min %llu, median %llu, max %llu\n", n, (unsigned long long)vals[0],
         (unsigned long long)vals[n / 2], (unsigned long long)vals[n - 1]);
  struct entry* e = table_get(&t, "k4242", 0);
  printf("k4242 -> %llu\n", e ? (unsigned long long)e->value : 0ull);
  free(vals);
  table_free(&t);

  /* Expressions. */
  const char* exprs[] = {"1+2*3", "(1+2)*3", "100/7-3*(2-5)", "-(4*-(3+2))*17/3", "((((9))))*((8+1)*(7-2))"};
  for (size_t i = 0; i < sizeof exprs / sizeof exprs[0]; i++) {
    ep = exprs[i];
    printf("%s = %lld\n", exprs[i], (long long)expr());
  }

  /* Sieve and a vectorisable loop. */
  enum { N = 2000000 };
  unsigned char* composite = calloc(N + 1, 1);
  size_t primes = 0;
  uint64_t psum = 0;
  for (size_t i = 2; i <= N; i++) {
    if (composite[i]) continue;
    primes++;
    psum += i;
    for (size_t j = i * i; j <= N; j += i) composite[j] = 1;
  }
  free(composite);
  printf("primes <= %d: %zu, sum %llu\n", N, primes, (unsigned long long)psum);
  double* a = malloc(4096 * sizeof *a);
  double* b = malloc(4096 * sizeof *b);
  for (int i = 0; i < 4096; i++) a[i] = i * 0.5, b[i] = 4096 - i;
  printf("dot %.1f\n", dot(a, b, 4096));
  free(a);
  free(b);
  return 0;
}
