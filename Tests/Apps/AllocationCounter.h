#pragma once
// Counts heap allocations (malloc/calloc/realloc, which operator new also uses) made by the calling
// thread while a CountAllocations scope is alive. glibc only: AllocationCounter.cpp replaces malloc
// for this test binary and forwards to __libc_malloc.
#include <cstddef>

namespace mfx::apptest {

class CountAllocations {
public:
    CountAllocations();
    ~CountAllocations();
    std::size_t count() const;
};

} // namespace mfx::apptest
