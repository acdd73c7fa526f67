// malloc/calloc/realloc replacements that count calls from a thread inside a CountAllocations scope.
// C libraries (libsamplerate, libsndfile) allocate with malloc, so counting operator new alone would
// miss them. Replacing malloc in the executable is legal with glibc, which exports the real
// allocator as __libc_malloc & co.
#include "AllocationCounter.h"

#include <cstdlib>

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
}

namespace {
// initial-exec TLS in the executable: reading it never allocates.
thread_local bool tCounting = false;
thread_local std::size_t tCount = 0;
} // namespace

extern "C" void* malloc(std::size_t n) {
    if (tCounting) ++tCount;
    return __libc_malloc(n);
}

extern "C" void* calloc(std::size_t n, std::size_t size) {
    if (tCounting) ++tCount;
    return __libc_calloc(n, size);
}

extern "C" void* realloc(void* p, std::size_t n) {
    if (tCounting) ++tCount;
    return __libc_realloc(p, n);
}

namespace mfx::apptest {

CountAllocations::CountAllocations() {
    tCount = 0;
    tCounting = true;
}

CountAllocations::~CountAllocations() { tCounting = false; }

std::size_t CountAllocations::count() const { return tCount; }

} // namespace mfx::apptest
