#pragma once
// Flush denormals to zero for the lifetime of the object (FTZ+DAZ on x86, FZ on AArch64).
// Real-time safe: a register read and write.
#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <xmmintrin.h>
#define MFX_DENORMALS_X86 1
#endif

namespace mfx {

class ScopedFlushDenormals {
public:
    ScopedFlushDenormals() noexcept {
#if MFX_DENORMALS_X86
        saved_ = _mm_getcsr();
        if ((saved_ & 0x8040u) != 0x8040u) _mm_setcsr(saved_ | 0x8040u); // FTZ (bit 15) | DAZ (bit 6); writes are slow

#elif defined(__aarch64__)
        __asm__ __volatile__("mrs %0, fpcr" : "=r"(saved_));
        unsigned long v = saved_ | (1ul << 24);
        __asm__ __volatile__("msr fpcr, %0" : : "r"(v));
#endif
    }
    ~ScopedFlushDenormals() {
#if MFX_DENORMALS_X86
        if ((saved_ & 0x8040u) != 0x8040u) _mm_setcsr(saved_);
#elif defined(__aarch64__)
        __asm__ __volatile__("msr fpcr, %0" : : "r"(saved_));
#endif
    }
    ScopedFlushDenormals(const ScopedFlushDenormals&) = delete;
    ScopedFlushDenormals& operator=(const ScopedFlushDenormals&) = delete;

private:
#if MFX_DENORMALS_X86
    unsigned int saved_ = 0;
#else
    unsigned long saved_ = 0;
#endif
};

} // namespace mfx
