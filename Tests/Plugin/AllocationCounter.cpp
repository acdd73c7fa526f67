// malloc family replacements that count allocations on threads that asked for it (see AllocationCounter.h).
// The real allocator is glibc's, reached through its __libc_* entry points.
#include "AllocationCounter.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <unistd.h>

#include <cstring>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdlib>

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);
}

namespace {
__thread bool t_counting = false; // plain TLS: usable inside malloc before any C++ initialisation
std::atomic<long> g_count{0};

std::atomic<long> g_pluginCount{0};
std::atomic<const char*> g_marker{nullptr};
std::atomic<bool> g_traced{false};

// Whether the current call stack passes through the plugin's binary.
bool fromPlugin() noexcept {
    const char* marker = g_marker.load();
    if (marker == nullptr) return false;
    void* frames[64];
    const int n = backtrace(frames, 64);
    for (int i = 0; i < n; ++i) {
        Dl_info info;
        if (dladdr(frames[i], &info) != 0 && info.dli_fname != nullptr && std::strstr(info.dli_fname, marker) != nullptr)
            return true;
    }
    return false;
}

// With MFX_ALLOC_TRACE set, the first counted allocation prints its call stack (to find the culprit).
void trace() noexcept {
    if (g_traced.exchange(true) || std::getenv("MFX_ALLOC_TRACE") == nullptr) return;
    void* frames[48];
    const int n = backtrace(frames, 48);
    static const char header[] = "allocation on the audio thread:\n";
    (void)!write(2, header, sizeof header - 1);
    backtrace_symbols_fd(frames, n, 2);
}

inline void note() noexcept {
    if (!t_counting) return;
    g_count.fetch_add(1, std::memory_order_relaxed);
    t_counting = false; // backtrace() may allocate itself
    if (fromPlugin()) g_pluginCount.fetch_add(1, std::memory_order_relaxed);
    trace();
    t_counting = true;
}
} // namespace

extern "C" {
void* malloc(std::size_t n) {
    note();
    return __libc_malloc(n);
}
void* calloc(std::size_t count, std::size_t size) {
    note();
    return __libc_calloc(count, size);
}
void* realloc(void* p, std::size_t n) {
    note();
    return __libc_realloc(p, n);
}
void* memalign(std::size_t alignment, std::size_t n) {
    note();
    return __libc_memalign(alignment, n);
}
void* aligned_alloc(std::size_t alignment, std::size_t n) {
    note();
    return __libc_memalign(alignment, n);
}
void free(void* p) {
    if (p != nullptr) note(); // a free on the audio thread is as forbidden as an allocation
    __libc_free(p);
}
int posix_memalign(void** out, std::size_t alignment, std::size_t n) {
    note();
    if (alignment < sizeof(void*) || (alignment & (alignment - 1)) != 0) return EINVAL;
    void* p = __libc_memalign(alignment, n);
    if (p == nullptr) return ENOMEM;
    *out = p;
    return 0;
}
}

namespace mfx::test {

CountAllocationsOnThisThread::CountAllocationsOnThisThread() noexcept {
    static const bool warm = [] { // load backtrace()'s unwinder now, not inside malloc
        void* frame[1];
        return backtrace(frame, 1) >= 0;
    }();
    (void)warm;
    t_counting = true;
}
CountAllocationsOnThisThread::~CountAllocationsOnThisThread() { t_counting = false; }
long countedAllocations() noexcept { return g_count.load(); }
void setPluginModuleMarker(const char* marker) noexcept { g_marker.store(marker); }
long countedPluginAllocations() noexcept { return g_pluginCount.load(); }
void resetCountedAllocations() noexcept {
    g_count.store(0);
    g_pluginCount.store(0);
}

} // namespace mfx::test
