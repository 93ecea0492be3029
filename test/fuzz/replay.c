/* Runs a libFuzzer target on files without libFuzzer, for compilers that
 * have none (gcc, mingw, cross builds): every argument is a file, or a
 * directory whose files are run in name order. Prints how many inputs ran;
 * a failing input aborts inside the target, after the line that names it.
 *
 * usage: fuzz_api_replay FILE|DIR...
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static size_t g_runs;

static int run_file(const char* path) {
  FILE* f = fopen(path, "rb");
  if (f == NULL) {
    fprintf(stderr, "replay: cannot open %s\n", path);
    return 1;
  }
  size_t cap = 4096, n = 0;
  uint8_t* buf = malloc(cap);
  if (buf == NULL) return 1;
  for (;;) {
    n += fread(buf + n, 1, cap - n, f);
    if (n < cap) break;
    uint8_t* bigger = realloc(buf, cap * 2);
    if (bigger == NULL) {
      free(buf);
      fclose(f);
      return 1;
    }
    buf = bigger;
    cap *= 2;
  }
  int err = ferror(f);
  fclose(f);
  if (err) {
    fprintf(stderr, "replay: cannot read %s\n", path);
    free(buf);
    return 1;
  }
  fprintf(stderr, "replay: %s (%zu bytes)\n", path, n);
  LLVMFuzzerTestOneInput(buf, n);
  free(buf);
  g_runs++;
  return 0;
}

static int compare_names(const void* a, const void* b) {
  return strcmp(*(char* const*)a, *(char* const*)b);
}

static int run_dir(const char* dir) {
  DIR* d = opendir(dir);
  if (d == NULL) {
    fprintf(stderr, "replay: cannot open directory %s\n", dir);
    return 1;
  }
  size_t n = 0, cap = 64;
  char** names = malloc(cap * sizeof *names);
  if (names == NULL) return 1;
  int rc = 0;
  for (struct dirent* e; (e = readdir(d)) != NULL;) {
    if (e->d_name[0] == '.') continue;
    if (n == cap) {
      char** more = realloc(names, 2 * cap * sizeof *names);
      if (more == NULL) {
        rc = 1;
        break;
      }
      names = more;
      cap *= 2;
    }
    size_t len = strlen(dir) + 1 + strlen(e->d_name) + 1;
    names[n] = malloc(len);
    if (names[n] == NULL) {
      rc = 1;
      break;
    }
    snprintf(names[n], len, "%s/%s", dir, e->d_name);
    n++;
  }
  closedir(d);
  qsort(names, n, sizeof *names, compare_names);
  for (size_t i = 0; i < n; i++) {
    if (rc == 0) rc = run_file(names[i]);
    free(names[i]);
  }
  free(names);
  return rc;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
    return 2;
  }
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      fprintf(stderr, "replay: no such file or directory: %s\n", argv[i]);
      return 1;
    }
    int rc = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i]);
    if (rc != 0) return rc;
  }
  if (g_runs == 0) {
    fprintf(stderr, "replay: no input found\n");
    return 1;
  }
  printf("replay: %zu inputs ran\n", g_runs);
  return 0;
}
