// LD_PRELOAD helper for `make soak` (tests/e2e/soak.js, docs/reliability.md): a thread in the
// process under test writes glibc's heap in use once a second to $WPSIM_HEAP_SAMPLE_FILE, as
// "<in use in arenas> <in use in mmapped chunks> <arena bytes from the system>" (mallinfo2's
// uordblks, hblkhd, arena), replaced atomically (written to PATH.tmp, then renamed). Heap in use
// is what the soak's flatness bar is about; RSS also moves with the allocator's caching.
// Inert without the variable. Not for sanitizer builds (their allocator is not glibc's).
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void* wpsim_heap_sampler(void* arg) {
  const char* path = (const char*)arg;
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  for (;;) {
    struct mallinfo2 m = mallinfo2();
    FILE* f = fopen(tmp, "w");
    if (f != NULL) {
      fprintf(f, "%zu %zu %zu\n", m.uordblks, m.hblkhd, m.arena);
      fclose(f);
      rename(tmp, path);
    }
    sleep(1);
  }
  return NULL;
}

__attribute__((constructor)) static void wpsim_heap_sampler_start(void) {
  const char* path = getenv("WPSIM_HEAP_SAMPLE_FILE");
  if (path == NULL || path[0] == '\0' || strlen(path) > 4000) return;
  pthread_t thread;
  if (pthread_create(&thread, NULL, wpsim_heap_sampler, strdup(path)) == 0) {
    pthread_detach(thread);
  }
}
