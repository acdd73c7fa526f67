#pragma once
// Counts heap allocations and frees (operator new/delete and the malloc family) made by the current
// thread while a ScopedAllocationCount is alive: the audio thread must do neither. Defined in AllocationCounter.cpp, which replaces the global
// allocation functions of the test binary (glibc: forwarding to __libc_malloc & co).
#include <cstddef>

namespace mfx::test {

struct ScopedAllocationCount {
    ScopedAllocationCount();
    ~ScopedAllocationCount();
    std::size_t count() const;
};

} // namespace mfx::test
