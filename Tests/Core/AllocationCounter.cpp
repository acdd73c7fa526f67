// Replaces the test binary's allocation functions to count calls on threads that asked for it.
// Guards the real-time contract: process() must never allocate or free (NAM's allocation test does the same;
// here malloc/aligned_alloc are counted too, since the engine's buffers come from aligned_alloc).
#include "AllocationCounter.h"

#include <cerrno>
#include <cstdlib>
#include <new>

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);
}

namespace {
thread_local bool tCounting = false;
thread_local std::size_t tCount = 0;
inline void note() {
    if (tCounting) ++tCount;
}
} // namespace

extern "C" {
void* malloc(std::size_t n) { note(); return __libc_malloc(n); }
void* calloc(std::size_t a, std::size_t b) { note(); return __libc_calloc(a, b); }
void* realloc(void* p, std::size_t n) { note(); return __libc_realloc(p, n); }
void free(void* p) {
    if (p) note(); // freeing on the audio thread is as forbidden as allocating there
    __libc_free(p);
}
void* aligned_alloc(std::size_t a, std::size_t n) { note(); return __libc_memalign(a, n); }
void* memalign(std::size_t a, std::size_t n) { note(); return __libc_memalign(a, n); }
int posix_memalign(void** out, std::size_t a, std::size_t n) {
    note();
    *out = __libc_memalign(a, n);
    return *out ? 0 : ENOMEM;
}
}

void* operator new(std::size_t n) {
    note();
    if (void* p = __libc_malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, std::align_val_t a) {
    note();
    if (void* p = __libc_memalign(static_cast<std::size_t>(a), n ? n : 1)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void* p) noexcept { free(p); }
void operator delete[](void* p) noexcept { free(p); }
void operator delete(void* p, std::size_t) noexcept { free(p); }
void operator delete[](void* p, std::size_t) noexcept { free(p); }
void operator delete(void* p, std::align_val_t) noexcept { free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { free(p); }

namespace mfx::test {
ScopedAllocationCount::ScopedAllocationCount() { tCount = 0; tCounting = true; }
ScopedAllocationCount::~ScopedAllocationCount() { tCounting = false; }
std::size_t ScopedAllocationCount::count() const { return tCount; }
} // namespace mfx::test
