/* Options (src/options.c, docs/options.md).
 *
 *   options_test               every option round-trips through XALLOC_<NAME>,
 *                              XALLOC_CONF and xa_option_set/get; each
 *                              malformed form gets its message once and the
 *                              option keeps its value. Environments are tried
 *                              in child processes (this program re-run with
 *                              "child", stdout and stderr to files).
 *   options_test docs FILE     FILE's option table matches the code's table.
 *   options_test child         prints name=value for every option. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"
#include "options.h"
#include "xa_test.h"

#if defined(_WIN32)
#include <fcntl.h>
#include <io.h>
#include <process.h>
#include <windows.h>
#define getpid _getpid
#else
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
extern char** environ;
#endif

#define GIB (1LL << 30)

/* ---- values every option is tried with --------------------------------------------- */

typedef struct {
  const char* name;
  const char* text;     /* a non-default value as a user writes it */
  long long value;      /* what xa_option_get then answers */
  const char* text2;    /* another one, for the precedence case */
  long long value2;
} sample_t;

/* Every option of the table must be here: a new option fails this test
 * until it is covered. */
static const sample_t samples[] = {
  {"show_stats", "json", 2, "TEXT", 1},
  {"verbose", "yes", 1, "On", 1},
  {"purge_delay", "250", 250, "-1", -1},
  {"purge_mode", "free", 1, "FREE", 1},
  {"purge_thread", "on", 1, "true", 1},
  {"segment_cache", "3", 3, "0", 0},
  {"arena_reserve", "1G", GIB, "0", 0},
  {"limit", "2G", 2 * GIB, "64MiB", 64LL << 20},
  {"thp", "never", 0, "always", 2},
  {"profile", "on", 1, "false", 0},
  {"profile_rate", "64K", 64LL << 10, "1M", 1LL << 20},
};
#define NSAMPLES (sizeof(samples) / sizeof(samples[0]))

static const sample_t* sample_of(const char* name) {
  for (size_t i = 0; i < NSAMPLES; i++) {
    if (strcmp(samples[i].name, name) == 0) return &samples[i];
  }
  return NULL;
}

static void upper(char* dst, const char* src) {
  for (; *src; src++) *dst++ = (*src >= 'a' && *src <= 'z') ? (char)(*src - 'a' + 'A') : *src;
  *dst = 0;
}

/* ---- child processes ------------------------------------------------------------------ */

typedef struct {
  long long value[XA_OPT_COUNT];
  char* err;  /* the child's stderr */
  int status;
} child_t;

static char* read_file(const char* path) {
  FILE* f = fopen(path, "rb");
  CHECK_MSG(f != NULL, "%s", path);
  size_t cap = 4096, len = 0;
  char* buf = malloc(cap);
  size_t n;
  while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
    len += n;
    if (cap - len < 2) buf = realloc(buf, cap *= 2);
  }
  fclose(f);
  buf[len] = 0;
  return buf;
}

static char self_path[4096];
#if !defined(_WIN32)
static const char* cgroup_procs;  /* a cgroup the next child joins (Linux) */
#endif

/* Run this program as "child" with the parent's environment minus every
 * XALLOC_ variable, plus vars (NULL-terminated "NAME=value" strings). */
static child_t run_child(const char* const* vars) {
  static char* envp[512];
  size_t n = 0;
#if defined(_WIN32)
  char** parent = _environ;
#else
  char** parent = environ;
#endif
  for (char** e = parent; *e != NULL && n < 400; e++) {
    if (strncmp(*e, "XALLOC_", 7) != 0) envp[n++] = *e;
  }
  for (const char* const* v = vars; *v != NULL; v++) envp[n++] = (char*)*v;
  envp[n] = NULL;

  char out_path[64], err_path[64];
  snprintf(out_path, sizeof(out_path), "options_test.%d.out", (int)getpid());
  snprintf(err_path, sizeof(err_path), "options_test.%d.err", (int)getpid());
  fflush(stdout);
  fflush(stderr);
  child_t c;
  memset(&c, 0, sizeof(c));
#if defined(_WIN32)
  int fo = _open(out_path, _O_WRONLY | _O_CREAT | _O_TRUNC | _O_BINARY, 0600);
  int fe = _open(err_path, _O_WRONLY | _O_CREAT | _O_TRUNC | _O_BINARY, 0600);
  CHECK(fo >= 0 && fe >= 0);
  int save_out = _dup(1), save_err = _dup(2);
  _dup2(fo, 1);
  _dup2(fe, 2);
  const char* args[] = {self_path, "child", NULL};
  intptr_t r = _spawnve(_P_WAIT, self_path, args, (const char* const*)envp);
  _dup2(save_out, 1);
  _dup2(save_err, 2);
  _close(save_out);
  _close(save_err);
  _close(fo);
  _close(fe);
  CHECK_MSG(r != -1, "spawn %s failed", self_path);
  c.status = (int)r;
#else
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    if (cgroup_procs != NULL) {
      int fd = open(cgroup_procs, O_WRONLY);
      char num[32];
      int len = snprintf(num, sizeof(num), "%d\n", (int)getpid());
      if (fd < 0 || write(fd, num, (size_t)len) != len) _exit(97);
      close(fd);
    }
    int fo = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int fe = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fo < 0 || fe < 0 || dup2(fo, 1) < 0 || dup2(fe, 2) < 0) _exit(98);
    /* Cross-built: run the child through the same emulator (qemu-user
     * passes an execve of a foreign binary straight to the host kernel). */
    char* args[16];
    int k = 0;
    static char emulator[1024];
    const char* emu = getenv("XA_TEST_EMULATOR");
    if (emu != NULL && *emu != 0) {
      snprintf(emulator, sizeof(emulator), "%s", emu);
      for (char* t = strtok(emulator, ";"); t != NULL && k < 12; t = strtok(NULL, ";")) args[k++] = t;
    }
    args[k++] = self_path;
    args[k++] = (char*)"child";
    args[k] = NULL;
    if (k > 2) execvpe(args[0], args, envp);
    else execve(self_path, args, envp);
    _exit(99);  /* reported by the parent as the child's status */
  }
  int st = 0;
  CHECK(waitpid(pid, &st, 0) == pid);
  c.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
#endif
  char* out = read_file(out_path);
  c.err = read_file(err_path);
  remove(out_path);
  remove(err_path);
  CHECK_MSG(c.status == 0, "child exited with %d; stderr:\n%s", c.status, c.err);
  for (int i = 0; i < XA_OPT_COUNT; i++) {
    const char* name = xa__option_name((xa_option_t)i);
    char key[64];
    snprintf(key, sizeof(key), "\n%s=", name);
    const char* at = strstr(out, key);
    CHECK_MSG(at != NULL, "child printed no %s:\n%s", name, out);
    c.value[i] = strtoll(at + strlen(key), NULL, 10);
  }
  free(out);
  return c;
}

static int count(const char* text, const char* what) {
  int n = 0;
  for (const char* p = text; (p = strstr(p, what)) != NULL; p += strlen(what)) n++;
  return n;
}

/* The child's stderr has exactly one line containing each of the given texts
 * and no other xalloc option complaint. */
static void expect_messages(const child_t* c, const char* const* texts) {
  int expected = 0;
  for (const char* const* t = texts; *t != NULL; t++, expected++) {
    CHECK_MSG(count(c->err, *t) == 1, "expected once on stderr: %s\nstderr:\n%s", *t, c->err);
  }
  int complaints = count(c->err, "xalloc: XALLOC_");
  CHECK_MSG(complaints == expected, "%d complaints, %d expected; stderr:\n%s", complaints, expected, c->err);
}
static const char* const no_messages[] = {NULL};

static int option_index(const char* name) {
  for (int i = 0; i < XA_OPT_COUNT; i++) {
    if (strcmp(xa__option_name((xa_option_t)i), name) == 0) return i;
  }
  CHECK_MSG(0, "no option %s", name);
  return -1;
}

static void expect_defaults_but(const child_t* c, const char* const* changed) {
  for (int i = 0; i < XA_OPT_COUNT; i++) {
    bool skip = false;
    for (const char* const* ch = changed; *ch != NULL; ch++) skip |= strcmp(*ch, xa__option_name((xa_option_t)i)) == 0;
    if (skip) continue;
    CHECK_MSG(c->value[i] == xa__option_default((xa_option_t)i), "%s is %lld, not its default %lld",
              xa__option_name((xa_option_t)i), c->value[i], (long long)xa__option_default((xa_option_t)i));
  }
}

/* ---- the environment cases ------------------------------------------------------------ */

static char var_buf[64][128];

static void test_env(void) {
  /* Nothing set: defaults, no message. */
  const char* const none[] = {NULL};
  child_t c = run_child(none);
  expect_defaults_but(&c, none);
  expect_messages(&c, no_messages);
  free(c.err);

  /* Each option by its variable; then all of them in XALLOC_CONF, with ':'
   * and '=' and spaces after the commas. */
  const char* vars[XA_OPT_COUNT + 2];
  char conf[1024] = "XALLOC_CONF=";
  for (int i = 0; i < XA_OPT_COUNT; i++) {
    const char* name = xa__option_name((xa_option_t)i);
    const sample_t* s = sample_of(name);
    CHECK_MSG(s != NULL, "option %s has no sample values in options_test.c", name);
    char up[64];
    upper(up, name);
    snprintf(var_buf[i], sizeof(var_buf[i]), "XALLOC_%s=%s", up, s->text);
    vars[i] = var_buf[i];
    size_t len = strlen(conf);
    snprintf(conf + len, sizeof(conf) - len, "%s%s%c%s", i == 0 ? "" : ", ", name, i % 2 ? '=' : ':', s->text);
  }
  vars[XA_OPT_COUNT] = NULL;
  c = run_child(vars);
  for (int i = 0; i < XA_OPT_COUNT; i++) {
    const sample_t* s = sample_of(xa__option_name((xa_option_t)i));
    CHECK_MSG(c.value[i] == s->value, "XALLOC_%s=%s gave %lld", s->name, s->text, c.value[i]);
  }
  expect_messages(&c, no_messages);
  free(c.err);

  const char* conf_only[] = {conf, NULL};
  c = run_child(conf_only);
  for (int i = 0; i < XA_OPT_COUNT; i++) {
    const sample_t* s = sample_of(xa__option_name((xa_option_t)i));
    CHECK_MSG(c.value[i] == s->value, "%s gave %lld for %s", conf, c.value[i], s->name);
  }
  expect_messages(&c, no_messages);
  free(c.err);

  /* Precedence: XALLOC_<NAME> overrides XALLOC_CONF, option by option. */
  for (int i = 0; i < XA_OPT_COUNT; i++) {
    const sample_t* s = sample_of(xa__option_name((xa_option_t)i));
    char up[64];
    upper(up, s->name);
    snprintf(var_buf[i], sizeof(var_buf[i]), "XALLOC_%s=%s", up, s->text2);
  }
  vars[0] = conf;
  for (int i = 0; i < XA_OPT_COUNT; i++) vars[i + 1] = var_buf[i];
  vars[XA_OPT_COUNT + 1] = NULL;
  c = run_child(vars);
  for (int i = 0; i < XA_OPT_COUNT; i++) {
    const sample_t* s = sample_of(xa__option_name((xa_option_t)i));
    CHECK_MSG(c.value[i] == s->value2, "XALLOC_%s=%s did not override XALLOC_CONF: %lld", s->name, s->text2,
              c.value[i]);
  }
  free(c.err);
  printf("env, XALLOC_CONF and precedence: ok\n");
}

static void test_env_errors(void) {
  /* Malformed XALLOC_CONF entries: each reported once (the environment is
   * read twice), the rest of the string still applies. */
  const char* const vars[] = {
    "XALLOC_CONF=limit:12Q,purge_delay:abc,thp:,foo:1,segment_cache:3,verbose",
    NULL,
  };
  child_t c = run_child(vars);
  const char* const msgs[] = {
    "xalloc: XALLOC_CONF: limit:12Q: expected a size such as 512K, 64M or 2G",
    "xalloc: XALLOC_CONF: purge_delay:abc: expected milliseconds from -1 to 2147483647 (0 = at once, -1 = never); keeping the default 100\n",
    "xalloc: XALLOC_CONF: thp:: empty value; expected never, madvise or always; keeping the default madvise\n",
    "xalloc: XALLOC_CONF: foo:1: unknown option \"foo\"; the options are show_stats, verbose,",
    "xalloc: XALLOC_CONF: verbose: expected name:value pairs separated by commas",
    NULL,
  };
  expect_messages(&c, msgs);
  CHECK_MSG(strstr(c.err, "limit:12Q: expected a size such as 512K, 64M or 2G (0 = no limit), or cgroup; keeping the default 0\n"),
            "%s", c.err);
  const char* const changed[] = {"segment_cache", NULL};
  expect_defaults_but(&c, changed);
  CHECK(c.value[option_index("segment_cache")] == 3);
  free(c.err);

  /* A trailing comma and an empty entry. */
  const char* const vars2[] = {"XALLOC_CONF=purge_delay:7,,limit:1M,", NULL};
  c = run_child(vars2);
  const char* const msgs2[] = {
    "xalloc: XALLOC_CONF: empty entry after \"purge_delay:7\"; expected name:value pairs separated by commas",
    "xalloc: XALLOC_CONF: trailing comma after \"limit:1M\"; expected name:value pairs separated by commas",
    NULL,
  };
  expect_messages(&c, msgs2);
  CHECK(c.value[option_index("purge_delay")] == 7 && c.value[option_index("limit")] == 1 << 20);
  free(c.err);

  /* Variables: a typo, an unknown name, bad values; the known non-option
   * variables are no typos. A bad variable keeps what XALLOC_CONF set. */
  char cache_var[64], cache_msg[160];
  snprintf(cache_var, sizeof(cache_var), "XALLOC_SEGMENT_CACHE=%d", XA_SEGMENT_CACHE + 1);
  snprintf(cache_msg, sizeof(cache_msg), "xalloc: %s: expected a count from 0 to %d; keeping the default %d\n",
           cache_var, XA_SEGMENT_CACHE, XA_SEGMENT_CACHE);
  const char* const vars3[] = {
    "XALLOC_SHOW_STAT=1", "XALLOC_FROBNICATE=1", "XALLOC_LIMIT=12Q", "XALLOC_PURGE_DELAY=abc",
    "XALLOC_VERBOSE=", cache_var, "XALLOC_ARENA_RESERVE=-2", "XALLOC_PURGE_MODE=sometimes",
    "XALLOC_CONF=purge_delay:20", "XALLOC_STATS_FILE=/dev/null", "XALLOC_LIB=x", "XALLOC_PATCH_CRT=1",
    NULL,
  };
  c = run_child(vars3);
  const char* const msgs3[] = {
    "xalloc: XALLOC_SHOW_STAT: unknown variable, ignored; did you mean XALLOC_SHOW_STATS?\n",
    "xalloc: XALLOC_FROBNICATE: unknown variable, ignored; the options are XALLOC_SHOW_STATS,",
    "xalloc: XALLOC_LIMIT=12Q: expected a size such as 512K, 64M or 2G (0 = no limit), or cgroup; keeping the default 0\n",
    "xalloc: XALLOC_PURGE_DELAY=abc: expected milliseconds from -1 to 2147483647 (0 = at once, -1 = never); keeping 20\n",
    "xalloc: XALLOC_VERBOSE=: empty value; expected 1/0, true/false, yes/no or on/off; keeping the default 0\n",
    cache_msg,
    "xalloc: XALLOC_ARENA_RESERVE=-2: expected a size such as 512K, 64M or 64G, 0 for none, or auto; keeping the default auto\n",
    "xalloc: XALLOC_PURGE_MODE=sometimes: expected dontneed or free; keeping the default dontneed\n",
    NULL,
  };
  expect_messages(&c, msgs3);
  const char* const changed3[] = {"purge_delay", NULL};
  expect_defaults_but(&c, changed3);
  CHECK(c.value[option_index("purge_delay")] == 20);
  free(c.err);
  printf("malformed values and names: ok\n");
}

/* XALLOC_SHOW_STATS=off once turned statistics on. */
static void test_show_stats(void) {
  const char* const off[] = {"XALLOC_SHOW_STATS=off", NULL};
  child_t c = run_child(off);
  CHECK(c.value[option_index("show_stats")] == 0);
  CHECK_MSG(strstr(c.err, "xalloc statistics") == NULL, "statistics printed with show_stats off:\n%s", c.err);
  free(c.err);
  const char* const on[] = {"XALLOC_CONF=show_stats:on", NULL};
  c = run_child(on);
  CHECK(c.value[option_index("show_stats")] == 1);
  CHECK_MSG(count(c.err, "xalloc statistics") == 1, "statistics not printed once:\n%s", c.err);
  free(c.err);
  printf("show_stats off/on: ok\n");
}

/* limit:cgroup: the same value as the API finds in this process's cgroup;
 * and, where this test may make a cgroup with a memory limit, exactly it. */
static void test_cgroup(void) {
  errno = 0;
  bool ok = xa_option_set("limit", "cgroup");
  long long here = -1;
  const char* const vars[] = {"XALLOC_LIMIT=cgroup", NULL};
  child_t c = run_child(vars);
  if (ok) {
    CHECK(xa_option_get("limit", &here));
    CHECK_MSG(c.value[option_index("limit")] == here, "child %lld, API %lld", c.value[option_index("limit")], here);
    const char* const none[] = {NULL};
    expect_messages(&c, none);
    printf("limit:cgroup here: %lld (0 = no limit)\n", here);
  } else {
    CHECK(errno == ENOENT);
    const char* const msg[] = {"xalloc: XALLOC_LIMIT=cgroup: no cgroup memory limit could be read", NULL};
    expect_messages(&c, msg);
    CHECK(c.value[option_index("limit")] == 0);
    printf("limit:cgroup: no cgroup limit readable here (message checked)\n");
  }
  free(c.err);
  CHECK(xa_option_set("limit", "0"));
#if defined(__linux__)
  /* Make a cgroup (v2, else v1 memory) under ours with a 300 MiB limit. */
  char buf[4096];
  FILE* f = fopen("/proc/self/cgroup", "r");
  const char* why = NULL;
  char dir[1024] = "", limit_file[1100], procs[1100];
  if (f == NULL) why = "no /proc/self/cgroup";
  while (f != NULL && fgets(buf, sizeof(buf), f) != NULL) {
    buf[strcspn(buf, "\n")] = 0;
    char* c1 = strchr(buf, ':');
    char* c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (c2 == NULL) continue;
    *c2 = 0;
    if (strcmp(buf, "0:") == 0 && access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0) {
      snprintf(dir, sizeof(dir), "/sys/fs/cgroup%s/xa_options_test.%d", strcmp(c2 + 1, "/") ? c2 + 1 : "", (int)getpid());
      snprintf(limit_file, sizeof(limit_file), "%s/memory.max", dir);
      break;
    }
    if (strstr(c1 + 1, "memory") != NULL && (strcmp(c1 + 1, "memory") == 0 || strstr(c1 + 1, ",memory") || strstr(c1 + 1, "memory,"))) {
      snprintf(dir, sizeof(dir), "/sys/fs/cgroup/memory%s/xa_options_test.%d", strcmp(c2 + 1, "/") ? c2 + 1 : "", (int)getpid());
      snprintf(limit_file, sizeof(limit_file), "%s/memory.limit_in_bytes", dir);
    }
  }
  if (f != NULL) fclose(f);
  if (why == NULL && dir[0] == 0) why = "no cgroup v2 or v1 memory hierarchy in /proc/self/cgroup";
  if (why == NULL && mkdir(dir, 0755) != 0) why = "cannot make a cgroup (no permission?)";
  if (why == NULL) {
    FILE* lf = fopen(limit_file, "w");
    bool wrote = lf != NULL && fprintf(lf, "%lld\n", 300LL << 20) > 0;
    if (lf != NULL && fclose(lf) != 0) wrote = false;
    if (!wrote) why = "cannot set the cgroup's memory limit (memory controller not enabled?)";
  }
  if (why == NULL) {
    snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
    cgroup_procs = procs;
    /* qemu-user keeps host memory for every reserved guest page (about
     * 18 MiB per GiB): the default 64 GiB arena alone would fill this
     * cgroup and qemu aborts. Natively the reservation costs nothing. */
    const char* emu = getenv("XA_TEST_EMULATOR");
    const char* const emulated_vars[] = {"XALLOC_LIMIT=cgroup", "XALLOC_ARENA_RESERVE=0", NULL};
    c = run_child(emu != NULL && *emu != 0 ? emulated_vars : vars);
    cgroup_procs = NULL;
    /* The room left: the limit less what the cgroup already holds (the
     * child itself, some page cache), which is small in a fresh cgroup. */
    long long got = c.value[option_index("limit")];
    CHECK_MSG(got <= 300LL << 20 && got >= 236LL << 20, "limit:cgroup in a 300 MiB cgroup gave %lld", got);
    free(c.err);
    printf("limit:cgroup in a cgroup of 300 MiB: %lld MiB of room: ok\n", got >> 20);
  } else {
    printf("skip: limit:cgroup in a cgroup of our own: %s\n", why);
  }
  if (dir[0] != 0) rmdir(dir);
#endif
}

/* ---- the API, in this process ---------------------------------------------------------- */

typedef struct { const char* name; const char* text; long long value; } form_t;

static const form_t good_forms[] = {
  {"limit", "512K", 512LL << 10}, {"limit", "512k", 512LL << 10}, {"limit", "64MiB", 64LL << 20},
  {"limit", "64mib", 64LL << 20}, {"limit", "64MB", 64LL << 20},  {"limit", "2G", 2 * GIB},
  {"limit", "2gb", 2 * GIB},      {"limit", "1T", 1LL << 40},     {"limit", "1TiB", 1LL << 40},
  {"limit", "7B", 7},             {"limit", "7", 7},              {"limit", "0", 0},
  {"limit", "+3K", 3 << 10},      {"verbose", "1", 1},            {"verbose", "0", 0},
  {"verbose", "TRUE", 1},         {"verbose", "false", 0},        {"verbose", "Yes", 1},
  {"verbose", "no", 0},           {"verbose", "on", 1},           {"verbose", "OFF", 0},
  {"show_stats", "text", 1},      {"show_stats", "json", 2},      {"show_stats", "off", 0},
  {"show_stats", "yes", 1},       {"show_stats", "false", 0},     {"show_stats", "2", 2},
  {"purge_delay", "-1", -1},      {"purge_delay", "0", 0},        {"purge_delay", "2147483647", 2147483647},
  {"purge_mode", "free", 1},      {"purge_mode", "dontneed", 0},  {"purge_mode", "1", 1},
  {"segment_cache", "0", 0},      {"segment_cache", "16", 16},    {"PURGE_THREAD", "1", 1},
  {"purge_thread", "0", 0},
};

static const form_t bad_forms[] = {
  {"limit", "12Q", 0},          {"limit", "1KK", 0},         {"limit", "1.5G", 0},
  {"limit", "", 0},             {"limit", "-5", 0},          {"limit", " 5", 0},
  {"limit", "5 ", 0},           {"limit", "K", 0},           {"limit", "9223372036854775807K", 0},
  {"limit", "4611686018427387905", 0}, {"limit", "99999999999999999999", 0}, {"limit", "5iB", 0},
  {"limit", "cgroups", 0},      {"verbose", "2", 0},         {"verbose", "enable", 0},
  {"verbose", "", 0},           {"show_stats", "3", 0},      {"show_stats", "xml", 0},
  {"purge_delay", "-2", 0},     {"purge_delay", "2147483648", 0}, {"purge_delay", "1s", 0},
  {"purge_delay", "abc", 0},    {"purge_mode", "madvise", 0}, {"segment_cache", "100000", 0},
  {"segment_cache", "-1", 0},   {"segment_cache", "1K", 0},
};

static void test_api(void) {
  long long v, before;
  for (size_t i = 0; i < sizeof(good_forms) / sizeof(good_forms[0]); i++) {
    const form_t* f = &good_forms[i];
    errno = 1234;
    CHECK_MSG(xa_option_set(f->name, f->text), "%s %s", f->name, f->text);
    CHECK(errno == 1234);  /* success leaves errno alone */
    CHECK(xa_option_get(f->name, &v));
    CHECK_MSG(v == f->value, "%s:%s read back as %lld, not %lld", f->name, f->text, v, f->value);
  }
  for (size_t i = 0; i < sizeof(bad_forms) / sizeof(bad_forms[0]); i++) {
    const form_t* f = &bad_forms[i];
    CHECK(xa_option_get(f->name, &before));
    errno = 0;
    CHECK_MSG(!xa_option_set(f->name, f->text), "%s:\"%s\" was accepted", f->name, f->text);
    CHECK(errno == EINVAL);
    CHECK(xa_option_get(f->name, &v) && v == before);
  }
  /* Unknown names and NULLs. */
  errno = 0;
  CHECK(!xa_option_set("purge_dealy", "1") && errno == EINVAL);
  errno = 0;
  CHECK(!xa_option_get("purge_dealy", &v) && errno == EINVAL);
  errno = 0;
  CHECK(!xa_option_get(NULL, &v) && errno == EINVAL);
  errno = 0;
  CHECK(!xa_option_get("limit", NULL) && errno == EINVAL);
  errno = 0;
  CHECK(!xa_option_set(NULL, "1") && errno == EINVAL);
  errno = 0;
  CHECK(!xa_option_set("limit", NULL) && errno == EINVAL);

  /* Every option: start-up ones refuse with EPERM (xalloc is running);
   * run-time ones take their sample, the text xa__option_format gives for
   * it, and the number xa_option_get answers. */
  for (int i = 0; i < XA_OPT_COUNT; i++) {
    const char* name = xa__option_name((xa_option_t)i);
    const sample_t* s = sample_of(name);
    CHECK(s != NULL);
    CHECK(xa_option_get(name, &before));
    if (!xa__option_runtime((xa_option_t)i)) {
      errno = 0;
      CHECK_MSG(!xa_option_set(name, s->text) && errno == EPERM, "%s is start-up only", name);
      CHECK(xa_option_get(name, &v) && v == before);
      continue;
    }
    CHECK(xa_option_set(name, s->text) && xa_option_get(name, &v) && v == s->value);
    CHECK(xa__option_get((xa_option_t)i) == s->value);  /* what the allocator reads */
    char text[64];
    xa__option_format((xa_option_t)i, s->value2, text, sizeof(text));
    CHECK_MSG(xa_option_set(name, text) && xa_option_get(name, &v) && v == s->value2, "%s:%s", name, text);
    snprintf(text, sizeof(text), "%lld", s->value);
    CHECK_MSG(xa_option_set(name, text) && xa_option_get(name, &v) && v == s->value, "%s:%s", name, text);
    xa__option_format((xa_option_t)i, xa__option_default((xa_option_t)i), text, sizeof(text));
    CHECK(xa_option_set(name, text) && xa_option_get(name, &v) && v == xa__option_default((xa_option_t)i));
  }
  /* Every table entry is covered by a sample, and every sample is an option. */
  CHECK(xa__option_name(XA_OPT_COUNT) == NULL);
  for (size_t i = 0; i < NSAMPLES; i++) option_index(samples[i].name);
  CHECK(NSAMPLES == XA_OPT_COUNT);

  /* Sizes print in the largest exact unit and read back. */
  static const long long sizes[] = {1, 1023, 1024, 4096, 3 << 20, 1LL << 30, (1LL << 30) + 1, 5LL << 40, 1LL << 62};
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    char text[64];
    xa__option_format(XA_OPT_LIMIT, sizes[i], text, sizeof(text));
    CHECK_MSG(xa_option_set("limit", text) && xa_option_get("limit", &v) && v == sizes[i], "%lld as %s", sizes[i], text);
  }
  char text[64];
  xa__option_format(XA_OPT_LIMIT, 64LL << 30, text, sizeof(text));
  CHECK(strcmp(text, "64G") == 0);
  xa__option_format(XA_OPT_ARENA_RESERVE, -1, text, sizeof(text));
  CHECK(strcmp(text, "auto") == 0);
  CHECK(xa_option_set("limit", "0"));
  printf("xa_option_set/get: ok\n");
}

/* ---- docs/options.md ----------------------------------------------------------------------- */

static char* cell(char** p) {
  /* The next "| cell |" of a table row, trimmed and without backticks. */
  char* s = *p;
  while (*s == ' ') s++;
  char* end = strchr(s, '|');
  if (end == NULL) return NULL;
  *p = end + 1;
  char* e = end;
  while (e > s && e[-1] == ' ') e--;
  *e = 0;
  char* out = s;
  for (char* r = s; *r; r++) {
    if (*r != '`') *out++ = *r;
  }
  *out = 0;
  return s;
}

static int check_docs(const char* path) {
  char* doc = read_file(path);
  static const char header[] = "\n| option | variable | type | default | run time | why this default |";
  char* at = strstr(doc, header);
  CHECK_MSG(at != NULL, "%s has no options table starting with%s", path, header);
  at = strchr(at + 1, '\n') + 1;  /* the |---| line */
  at = strchr(at, '\n') + 1;
  int seen[XA_OPT_COUNT] = {0};
  int rows = 0, failures = 0;
  while (*at == '|') {
    char* eol = strchr(at, '\n');
    if (eol != NULL) *eol = 0;
    char* p = at + 1;
    char* name = cell(&p);
    char* var = name ? cell(&p) : NULL;
    char* type = var ? cell(&p) : NULL;
    char* dflt = type ? cell(&p) : NULL;
    char* runtime = dflt ? cell(&p) : NULL;
    char* reason = runtime ? cell(&p) : NULL;
    CHECK_MSG(reason != NULL, "short row in %s's options table", path);
    rows++;
    int i = -1;
    for (int k = 0; k < XA_OPT_COUNT; k++) {
      if (strcmp(xa__option_name((xa_option_t)k), name) == 0) i = k;
    }
    if (i < 0) {
      fprintf(stderr, "docs: %s is no option of src/options.c\n", name);
      failures++;
    } else {
      char want[64], up[64], text[64];
      upper(up, name);
      snprintf(want, sizeof(want), "XALLOC_%s", up);
      xa__option_format((xa_option_t)i, xa__option_default((xa_option_t)i), text, sizeof(text));
      const char* type_word = xa__option_type((xa_option_t)i);
      const char* rt = xa__option_runtime((xa_option_t)i) ? "yes" : "no";
      if (seen[i]++) fprintf(stderr, "docs: %s listed twice\n", name), failures++;
      if (strcmp(var, want) != 0) fprintf(stderr, "docs: %s: variable %s, not %s\n", name, var, want), failures++;
      if (strncmp(type, type_word, strlen(type_word)) != 0)
        fprintf(stderr, "docs: %s: type \"%s\" does not start with %s\n", name, type, type_word), failures++;
      if (strcmp(dflt, text) != 0) fprintf(stderr, "docs: %s: default %s, the code's is %s\n", name, dflt, text), failures++;
      if (strncmp(runtime, rt, strlen(rt)) != 0)
        fprintf(stderr, "docs: %s: run time \"%s\", the code says %s\n", name, runtime, rt), failures++;
      if (strcmp(reason, xa__option_reason((xa_option_t)i)) != 0)
        fprintf(stderr, "docs: %s: reason \"%s\", the code's is \"%s\"\n", name, reason,
                xa__option_reason((xa_option_t)i)), failures++;
    }
    if (eol == NULL) break;
    at = eol + 1;
  }
  for (int i = 0; i < XA_OPT_COUNT; i++) {
    if (!seen[i]) fprintf(stderr, "docs: option %s is missing from the table\n", xa__option_name((xa_option_t)i)), failures++;
  }
  free(doc);
  /* The variables that are no options but are allowed are described too. */
  doc = read_file(path);
  for (int i = 0; xa__option_env_allowed(i) != NULL; i++) {
    char quoted[64];
    snprintf(quoted, sizeof(quoted), "`%s`", xa__option_env_allowed(i));
    if (strstr(doc, quoted) == NULL) fprintf(stderr, "docs: %s is not described\n", quoted), failures++;
  }
  free(doc);
  printf("docs: %d rows checked against %d options, %d problems\n", rows, XA_OPT_COUNT, failures);
  return failures == 0 ? 0 : 1;
}

/* ---- main --------------------------------------------------------------------------------- */

int main(int argc, char** argv) {
  if (argc >= 2 && strcmp(argv[1], "child") == 0) {
    xa_free(xa_malloc(100));  /* xalloc initialised (and linked in, when malloc is not overridden) */
    printf("\n");
    for (int i = 0; i < XA_OPT_COUNT; i++) {
      long long v;
      CHECK(xa_option_get(xa__option_name((xa_option_t)i), &v));
      printf("%s=%lld\n", xa__option_name((xa_option_t)i), v);
    }
    return 0;
  }
  if (argc >= 3 && strcmp(argv[1], "docs") == 0) return check_docs(argv[2]);
#if defined(_WIN32)
  DWORD n = GetModuleFileNameA(NULL, self_path, sizeof(self_path));
  CHECK(n > 0 && n < sizeof(self_path));
#else
  ssize_t n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
  if (n > 0) self_path[n] = 0;
  else snprintf(self_path, sizeof(self_path), "%s", argv[0]);
#endif
#if !defined(_WIN32)
  const char* emu = getenv("XA_TEST_EMULATOR");
  if (emu != NULL && *emu != 0) printf("children run through %s\n", emu);
#endif
  test_api();
  test_env();
  test_env_errors();
  test_show_stats();
  test_cgroup();
  printf("options_test: ok\n");
  return 0;
}
